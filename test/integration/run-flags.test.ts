// Docker's run/create flags end to end (issue 17): labels, ulimits, /dev/shm's size, sysctls, the stop
// signal and timeout, the OOM score, the domain name, annotations, --cidfile, --log-driver,
// --memory-swappiness, --platform: the effect inside the container, in `inspect`, and Docker's
// refusal (exit 125, nothing created) of each invalid value.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`run/create flags (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => {
    env.destroy();
  });

  function ok(args: string[]): string {
    const r = env.cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  /** `inspect` of one container, as JSON. */
  function inspect(name: string): { Config: Record<string, unknown>; HostConfig: Record<string, unknown> } {
    return (JSON.parse(ok(['inspect', name])) as { Config: Record<string, unknown>; HostConfig: Record<string, unknown> }[])[0]!;
  }

  /** The run or create is refused as Docker refuses it: exit 125, the message, and no container made. */
  function refused(args: string[], message: string | RegExp): void {
    const before = ok(['ps', '-aq']);
    const r = env.cli(args);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message);
    expect(ok(['ps', '-aq'])).toBe(before);
  }

  function clean(): void {
    expect(env.leftovers()).toEqual([]);
  }

  it("labels: -l and --label-file over the image's, in Config.Labels; a missing label file is refused", () => {
    env.buildImage('labelled', 'FROM busybox\nLABEL from.image=yes over=image\n');
    const file = path.join(env.base, 'labels');
    writeFileSync(path.join(file), '# a comment\n\nfrom.file=1\nover=file\n');
    ok(['create', '--name', 'lab', '-l', 'a=1', '--label', 'bare', '--label-file', file, '-l', 'over=flag', 'labelled', 'true']);
    expect(inspect('lab').Config.Labels).toEqual({ 'from.image': 'yes', over: 'flag', 'from.file': '1', a: '1', bare: '' });
    ok(['rm', 'lab']);
    refused(['create', '--label-file', path.join(env.base, 'nope'), 'busybox', 'true'], `open ${path.join(env.base, 'nope')}: no such file or directory`);
    ok(['rmi', 'labelled']);
    clean();
  });

  it('--ulimit sets the process limits (ulimit inside, HostConfig.Ulimits); an unknown name or a soft above the hard is refused', () => {
    const out = ok([
      'run',
      '--rm',
      '--ulimit',
      'nofile=512:1024',
      '--ulimit',
      'core=-1',
      '--ulimit',
      'nproc=77',
      'busybox',
      'sh',
      '-c',
      'ulimit -n; ulimit -Hn; ulimit -c; ulimit -u',
    ]);
    expect(out.trim().split('\n')).toEqual(['512', '1024', 'unlimited', '77']);
    ok(['create', '--name', 'ul', '--ulimit', 'nofile=512:1024', 'busybox', 'true']);
    expect(inspect('ul').HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 512, Hard: 1024 }]);
    ok(['rm', 'ul']);
    refused(['run', '--rm', '--ulimit', 'bogus=1', 'busybox', 'true'], 'invalid argument "bogus=1" for "--ulimit" flag: invalid ulimit type: bogus');
    refused(['run', '--rm', '--ulimit', 'nofile=2048:1024', 'busybox', 'true'], 'ulimit soft limit must be less than or equal to hard limit: 2048 > 1024');
    clean();
  });

  it("--shm-size sizes /dev/shm (also a shareable IPC's), HostConfig.ShmSize; Docker's 64m by default", () => {
    expect(ok(['run', '--rm', '--shm-size', '2m', 'busybox', 'df', '-k', '/dev/shm']).trim().split('\n')[1]!.split(/\s+/)[1]).toBe('2048');
    expect(ok(['run', '--rm', '--ipc', 'shareable', '--shm-size', '3m', 'busybox', 'df', '-k', '/dev/shm']).trim().split('\n')[1]!.split(/\s+/)[1]).toBe(
      '3072',
    );
    expect(ok(['run', '--rm', 'busybox', 'df', '-k', '/dev/shm']).trim().split('\n')[1]!.split(/\s+/)[1]).toBe('65536');
    ok(['create', '--name', 'shm', '--shm-size', '2m', 'busybox', 'true']);
    expect(inspect('shm').HostConfig.ShmSize).toBe(2 * 1024 * 1024);
    ok(['rm', 'shm']);
    refused(['run', '--rm', '--shm-size', 'lots', 'busybox', 'true'], `invalid argument "lots" for "--shm-size" flag`);
    clean();
  });

  it('--sysctl writes namespaced kernel parameters in the container (HostConfig.Sysctls); the host is untouched; others are refused', () => {
    const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
    const out = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--sysctl',
      'kernel.shmmax=1234567',
      '--sysctl',
      'net.ipv4.ip_local_port_range=40000 40100',
      '--sysctl',
      'fs.mqueue.msg_max=42',
      'busybox',
      'cat',
      '/proc/sys/kernel/shmmax',
      '/proc/sys/net/ipv4/ip_local_port_range',
      '/proc/sys/fs/mqueue/msg_max',
    ]);
    expect(out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual(['1234567', '40000 40100', '42', '']);
    expect(readFileSync('/proc/sys/kernel/shmmax', 'utf8')).toBe(hostShmmax);
    ok(['create', '--name', 'sc', '--network', 'none', '--sysctl', 'kernel.shmmax=1234567', 'busybox', 'true']);
    expect(inspect('sc').HostConfig.Sysctls).toEqual({ 'kernel.shmmax': '1234567' });
    ok(['rm', 'sc']);
    refused(['run', '--rm', '--sysctl', 'kernel.hostname=x', 'busybox', 'true'], `sysctl 'kernel.hostname=x' is not whitelisted`);
    refused(['run', '--rm', '--sysctl', 'vm.swappiness=1', 'busybox', 'true'], `sysctl 'vm.swappiness=1' is not whitelisted`);
    refused(
      ['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'true'],
      'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
    );
    refused(
      ['run', '--rm', '--ipc', 'host', '--sysctl', 'kernel.shmmax=1', 'busybox', 'true'],
      'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace',
    );
    clean();
  });

  it("stop sends --stop-signal (over the image's STOPSIGNAL) and waits --stop-timeout; Config.StopSignal, Config.StopTimeout", () => {
    env.buildImage('stopper', 'FROM busybox\nSTOPSIGNAL SIGUSR2\n');
    // A shell as PID 1 that says which signal came (PID 1 ignores those it has no handler for).
    const script = 'trap "echo got-usr1; exit 3" USR1; trap "echo got-usr2; exit 4" USR2; echo ready; while :; do sleep 1 & wait $!; done';
    const waitReady = (name: string) => {
      for (let i = 0; i < 100 && !ok(['logs', name]).includes('ready'); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    };
    ok(['run', '-d', '--name', 'img-sig', 'stopper', 'sh', '-c', script]);
    ok(['run', '-d', '--name', 'own-sig', '--stop-signal', 'SIGUSR1', '--stop-timeout', '30', 'stopper', 'sh', '-c', script]);
    expect(inspect('img-sig').Config.StopSignal).toBe('SIGUSR2');
    expect(inspect('own-sig').Config).toMatchObject({ StopSignal: 'SIGUSR1', StopTimeout: 30 });
    expect(inspect('img-sig').Config.StopTimeout).toBeUndefined();
    waitReady('img-sig');
    waitReady('own-sig');
    ok(['stop', 'img-sig', 'own-sig']);
    expect(ok(['logs', 'img-sig'])).toBe('ready\ngot-usr2\n');
    expect(ok(['logs', 'own-sig'])).toBe('ready\ngot-usr1\n');
    expect(ok(['inspect', '-f', '{{.State.ExitCode}}', 'img-sig', 'own-sig'])).toBe('4\n3\n');
    // A container that ignores its stop signal: killed after its --stop-timeout when stop gives none.
    ok(['run', '-d', '--name', 'deaf', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1 & wait $!; done']);
    waitReady('deaf');
    const t0 = Date.now();
    ok(['stop', 'deaf']);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6000);
    expect(ok(['inspect', '-f', '{{.State.ExitCode}}', 'deaf'])).toBe('137\n');
    ok(['rm', 'img-sig', 'own-sig', 'deaf']);
    ok(['rmi', 'stopper']);
    refused(['create', '--stop-signal', 'SIGNOPE', 'busybox', 'true'], 'invalid signal: SIGNOPE');
    refused(['create', '--stop-timeout', 'soon', 'busybox', 'true'], 'invalid argument "soon" for "--stop-timeout" flag');
    clean();
  });

  it('--oom-score-adj, --domainname and --annotation: inside the container and in inspect; an out-of-range score is refused', () => {
    const out = ok([
      'run',
      '--rm',
      '--oom-score-adj',
      '321',
      '--domainname',
      'example.org',
      'busybox',
      'cat',
      '/proc/self/oom_score_adj',
      '/proc/sys/kernel/domainname',
    ]);
    expect(out).toBe('321\nexample.org\n');
    // Lowering it needs CAP_SYS_RESOURCE, which the host's own user may lack (a CI container): then a clear failure.
    const canLower = spawnSync('sh', ['-c', 'echo -1 > /proc/self/oom_score_adj'], { stdio: 'ignore' }).status === 0;
    const lowered = env.cli(['run', '--rm', '--oom-score-adj', '-500', 'busybox', 'cat', '/proc/self/oom_score_adj']);
    if (canLower) expect(lowered.stdout).toBe('-500\n');
    else expect([lowered.code, lowered.stderr]).toEqual([125, expect.stringMatching(/write -500 to \/proc\/self\/oom_score_adj: EACCES/)]);
    ok(['create', '--name', 'misc', '--oom-score-adj', '321', '--domainname', 'example.org', '--annotation', 'org.example/a=b', 'busybox', 'true']);
    const i = inspect('misc');
    expect(i.HostConfig.OomScoreAdj).toBe(321);
    expect(i.HostConfig.Annotations).toEqual({ 'org.example/a': 'b' });
    expect(i.Config.Domainname).toBe('example.org');
    ok(['rm', 'misc']);
    refused(['run', '--rm', '--oom-score-adj', '1001', 'busybox', 'true'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
    clean();
  });

  it('--cidfile gets the id; an existing file is refused before anything is made; a failed create removes it', () => {
    const file = path.join(env.base, 'cid');
    const id = ok(['create', '--cidfile', file, 'busybox', 'true']).trim();
    expect(readFileSync(file, 'utf8')).toBe(id);
    refused(['create', '--cidfile', file, 'busybox', 'true'], `Container ID file found, make sure the other container isn't running or delete ${file}`);
    ok(['rm', id]);
    const other = path.join(env.base, 'cid2');
    refused(['create', '--cidfile', other, '--name', '-bad', 'busybox', 'true'], /name/);
    expect(existsSync(other)).toBe(false);
    clean();
  });

  it('--log-driver none keeps no log (logs refuses, as Docker); local is read as json-file; others are refused', () => {
    ok(['run', '-d', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    ok(['wait', 'quiet']);
    const r = env.cli(['logs', 'quiet']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/configured logging driver does not support reading/);
    expect((inspect('quiet').HostConfig.LogConfig as { Type: string }).Type).toBe('none');
    ok(['run', '-d', '--name', 'local', '--log-driver', 'local', 'busybox', 'echo', 'hi']);
    ok(['wait', 'local']);
    expect(ok(['logs', 'local'])).toBe('hi\n');
    expect((inspect('local').HostConfig.LogConfig as { Type: string }).Type).toBe('local');
    ok(['rm', 'quiet', 'local']);
    refused(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true'], "logger: no log driver named 'syslog' is registered");
    clean();
  });

  it("--memory-swappiness: discarded with Docker's warning on cgroup v2; out of range refused. --cpu-period/--cpu-quota conflict with --cpus", () => {
    const r = env.cli(['run', '--rm', '--memory-swappiness', '10', 'busybox', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('WARNING: Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.\n');
    refused(['run', '--rm', '--memory-swappiness', '101', 'busybox', 'true'], 'Invalid value: 101, valid memory swappiness range is 0-100');
    refused(['run', '--rm', '--cpus', '1', '--cpu-period', '50000', 'busybox', 'true'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
    refused(['run', '--rm', '--cpu-quota', '10', 'busybox', 'true'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    clean();
  });

  it('--platform: the stored image of this platform runs; another platform is not found (with --pull never), a malformed one refused', () => {
    expect(ok(['run', '--rm', '--platform', 'linux/amd64', 'busybox', 'echo', 'amd64'])).toBe('amd64\n');
    refused(
      ['run', '--rm', '--pull', 'never', '--platform', 'linux/arm64', 'busybox', 'true'],
      'image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64',
    );
    refused(['run', '--rm', '--platform', 'arm64', 'busybox', 'true'], 'invalid platform "arm64"');
    clean();
  });

  it('--device-cgroup-rule lets the container use a device the default rules deny; HostConfig.DeviceCgroupRules; a malformed rule is refused', () => {
    // /dev/kmsg (c 1:11): made with mknod (Docker's defaults allow that), opened for writing (nothing is written).
    const script = 'mknod /kmsg c 1 11 && : > /kmsg && echo opened';
    const denied = env.cli(['run', '--rm', 'busybox', 'sh', '-c', script]);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toMatch(/Operation not permitted/);
    expect(ok(['run', '--rm', '--device-cgroup-rule', 'c 1:11 w', 'busybox', 'sh', '-c', script])).toBe('opened\n');
    ok(['create', '--name', 'dcr', '--device-cgroup-rule', 'c 1:11 w', '--device-cgroup-rule', 'b 8:* r', 'busybox', 'true']);
    expect(inspect('dcr').HostConfig.DeviceCgroupRules).toEqual(['c 1:11 w', 'b 8:* r']);
    ok(['rm', 'dcr']);
    refused(['run', '--rm', '--device-cgroup-rule', 'c 1:11', 'busybox', 'true'], "invalid device cgroup format 'c 1:11'");
    clean();
  });

  // Without ip/nft (the vm tier's initramfs) the env's containers have no bridge network to test on.
  const bridges = ['ip', 'nft', 'unshare', 'nsenter'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status === 0);
  it.skipIf(!bridges || process.env.HULL_VM_GUEST === '1')(
    '--mac-address on the bridge network: the interface has it, inspect shows it; refused with --network none or host, or malformed',
    () => {
      expect(ok(['run', '--rm', '--mac-address', '02:42:ac:11:00:99', 'busybox', 'cat', '/sys/class/net/eth0/address'])).toBe('02:42:ac:11:00:99\n');
      ok(['run', '-d', '--name', 'mac', '--mac-address', '02:42:AC:11:00:98', 'busybox', 'sleep', '60']);
      const [i] = JSON.parse(ok(['inspect', 'mac'])) as { Config: { MacAddress: string }; NetworkSettings: { MacAddress: string } }[];
      expect([i!.Config.MacAddress, i!.NetworkSettings.MacAddress]).toEqual(['02:42:ac:11:00:98', '02:42:ac:11:00:98']);
      ok(['rm', '-f', 'mac']);
      refused(
        ['run', '--rm', '--network', 'none', '--mac-address', '02:42:ac:11:00:99', 'busybox', 'true'],
        'conflicting options: mac-address and the network mode',
      );
      refused(
        ['run', '--rm', '--network', 'host', '--mac-address', '02:42:ac:11:00:99', 'busybox', 'true'],
        'conflicting options: mac-address and the network mode',
      );
      refused(['run', '--rm', '--mac-address', '02:42:ac:11:00', 'busybox', 'true'], '02:42:ac:11:00 is not a valid mac address');
      clean();
    },
  );

  it('--runtime is refused with the reason, and makes nothing (--link: attach-link.test.ts)', () => {
    refused(['run', '--rm', '--runtime', 'runc', 'busybox', 'true'], '--runtime runc: another OCI runtime is not supported yet');
    clean();
  });

  it('--sig-proxy: by default a signal to a foreground run reaches the container; =false it does not, and the container goes on under its monitor', async () => {
    const script = 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 1 & wait $!; done';
    /** A foreground run, signalled with SIGTERM once its container has said it is ready. */
    const signalled = async (extra: string[]) => {
      const child = env.spawnCli(['run', ...extra, 'busybox', 'sh', '-c', script]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n') && !child.killed) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
      return { code, signal, out };
    };
    expect(await signalled(['--rm', '--name', 'proxied'])).toEqual({ code: 9, signal: null, out: 'ready\ngot-term\n' });
    const unproxied = await signalled(['--sig-proxy=false', '--name', 'unproxied']);
    expect(unproxied).toEqual({ code: null, signal: 'SIGTERM', out: 'ready\n' });
    expect(ok(['inspect', '-f', '{{.State.Status}}', 'unproxied'])).toBe('running\n');
    expect(ok(['logs', 'unproxied'])).toBe('ready\n');
    ok(['rm', '-f', 'unproxied']);
    // Not signalled: it runs to its end, its code is run's, and --rm removes it.
    const r = env.cli(['run', '--rm', '--sig-proxy=false', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect([r.code, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\n']);
    refused(['run', '--rm', '--sig-proxy=maybe', 'busybox', 'true'], 'invalid argument "maybe" for "--sig-proxy" flag');
    expect(ok(['ps', '-aq'])).toBe('');
    clean();
  });
});
