// Detached containers through the CLI: `run -d` under hull-monitor, and the verbs around it
// (ps, inspect, logs, wait, stop, kill, restart, start, rename, rm), as root on the host kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

interface Inspected {
  Id: string;
  Name: string;
  Path: string;
  Args: string[];
  RestartCount: number;
  LogPath: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; OOMKilled: boolean; StartedAt: string; FinishedAt: string; Error: string };
  Config: { Cmd: string[] | null; Image: string; Tty: boolean };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number }; AutoRemove: boolean };
}

describe.skipIf(!canRunContainers)(`detached containers (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  const inspect = (name: string): Inspected => {
    const r = env.cli(['inspect', name]);
    expect(r.stderr).toBe('');
    const [item] = JSON.parse(r.stdout) as Inspected[];
    return item!;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  function clean(): void {
    expect(env.leftovers()).toEqual([]);
  }
  /** Polls until `check` holds (the monitor writes asynchronously). */
  async function eventually(check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await sleep(20);
    }
  }

  it('run -d prints the full id; the container keeps running after the CLI exits; ps/inspect/logs/stop/rm as Docker', async () => {
    const r = env.cli(['run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exec sleep 60']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();

    // The CLI has exited; the container runs, its parent is the monitor, a subreaper.
    const info = inspect('svc');
    expect(info.Id).toBe(id);
    expect(info.Name).toBe('/svc');
    expect(info.Path).toBe('sh');
    expect(info.State.Status).toBe('running');
    expect(info.State.Running).toBe(true);
    expect(info.State.Pid).toBeGreaterThan(0);
    expect(info.LogPath).toBe(path.join(env.root, 'containers', id, `${id}-json.log`));
    const monitorPid = Number(readFileSync(`/proc/${info.State.Pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(readFileSync(`/proc/${monitorPid}/comm`, 'utf8').trim()).toBe('hull-monitor');
    expect(readFileSync(`/proc/${monitorPid}/status`, 'utf8')).toMatch(/^PPid:/m);

    const ps = env.cli(['ps']);
    expect(ps.stdout).toMatch(/^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)} +busybox +"sh -c echo out; ech…" +.* Up .* +svc$`, 'm'));
    expect(env.cli(['ps', '-q']).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(env.cli(['ps', '-q', '--no-trunc']).stdout).toBe(`${id}\n`);
    const json = JSON.parse(env.cli(['ps', '--format', 'json']).stdout) as Record<string, string>;
    expect(json).toMatchObject({ ID: id.slice(0, 12), Names: 'svc', Image: 'busybox', State: 'running' });
    expect(env.cli(['ps', '--format', '{{.Names}} {{.State}}']).stdout).toBe('svc running\n');

    await eventually(() => env.cli(['logs', 'svc']).stdout === 'out\n');
    const logs = env.cli(['logs', 'svc']);
    expect(logs.stderr).toBe('err\n');
    expect(env.cli(['logs', '-t', 'svc']).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n$/);
    expect(env.cli(['logs', '--tail', '0', 'svc']).stdout).toBe('');
    expect(env.cli(['logs', '--since', '1h', 'svc']).stdout).toBe('out\n');
    expect(env.cli(['logs', '--since', '2099-01-01T00:00:00Z', 'svc']).stdout).toBe('');
    // The log file is Docker's json-file: one object a line.
    const lines = readFileSync(info.LogPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => [l.log, l.stream])).toEqual(
      [
        ['out\n', 'stdout'],
        ['err\n', 'stderr'],
      ].sort((a, b) => (lines[0]!.stream === 'stdout' ? 0 : a[1]!.localeCompare(b[1]!))),
    );
    expect(Object.keys(lines[0]!).sort()).toEqual(['log', 'stream', 'time']);

    expect(env.cli(['inspect', '-f', '{{.State.Status}} {{json .Config.Cmd}}', 'svc']).stdout).toBe(
      'running ["sh","-c","echo out; echo err >&2; exec sleep 60"]\n',
    );
    // rm of a running container is refused (Docker's exit 1), rm -f is not.
    const refused = env.cli(['rm', 'svc']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^hull: cannot remove container svc: container is running.*force/);

    // sleep as PID 1 has no SIGTERM handler: stop kills it after -t.
    const t0 = Date.now();
    const stop = env.cli(['stop', '-t', '1', 'svc']);
    expect(stop.stdout).toBe('svc\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const stopped = inspect('svc');
    expect(stopped.State).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 137, OOMKilled: false });
    expect(Date.parse(stopped.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(stopped.State.StartedAt));
    expect(env.cli(['ps']).stdout.trim().split('\n')).toHaveLength(1);
    expect(env.cli(['ps', '-a']).stdout).toMatch(/Exited \(137\) .* svc$/m);
    expect(env.cli(['stop', 'svc']).code).toBe(0); // stopping a stopped container is fine (Docker)
    expect(env.cli(['rm', 'svc']).stdout).toBe('svc\n');
    clean();
  });

  it('stop: the stop signal ends a process that handles it; one that ignores SIGTERM is killed after the timeout', () => {
    env.cli(['run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.05; done']);
    env.cli(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.05; done']);
    let t0 = Date.now();
    expect(env.cli(['stop', '-t', '5', 'polite']).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(inspect('polite').State.ExitCode).toBe(7);
    t0 = Date.now();
    expect(env.cli(['stop', '--time', '1', 'stubborn']).code).toBe(0);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    expect(inspect('stubborn').State.ExitCode).toBe(137);
    expect(env.cli(['rm', 'polite', 'stubborn']).stdout).toBe('polite\nstubborn\n');
    clean();
  });

  it("stop sends the image's STOPSIGNAL (an image made with hull build)", () => {
    env.buildImage(
      'stopsignal:1',
      'FROM busybox\nSTOPSIGNAL SIGUSR1\nCMD ["sh", "-c", "trap \\"exit 9\\" USR1; trap \\"\\" TERM; while true; do sleep 0.05; done"]\n',
    );
    env.cli(['run', '-d', '--name', 'usr1', 'stopsignal:1']);
    const t0 = Date.now();
    expect(env.cli(['stop', '-t', '5', 'usr1']).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(inspect('usr1').State.ExitCode).toBe(9);
    expect(env.cli(['rm', 'usr1']).code).toBe(0);
    expect(env.cli(['rmi', 'stopsignal:1']).code).toBe(0);
    clean();
  });

  it('logs -f follows live output and ends when the container exits; wait prints the exit code', async () => {
    const id = env.cli(['run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.1; done; exit 3']).stdout.trim();
    const follower = env.cliAsync(['logs', '-f', id]);
    const waiter = env.cliAsync(['wait', id]);
    const [followed, waited] = await Promise.all([follower, waiter]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    expect(waited.stdout).toBe('3\n');
    expect(inspect(id).State).toMatchObject({ Status: 'exited', ExitCode: 3 });
    expect(env.cli(['rm', id.slice(0, 8)]).code).toBe(0);
    clean();
  });

  it('run -d --rm removes the container after it exits', async () => {
    const id = env.cli(['run', '-d', '--rm', 'busybox', 'sh', '-c', 'exit 4']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await eventually(() => env.leftovers().length === 0, 10_000);
    expect(env.cli(['inspect', id]).code).toBe(1);
  });

  it('--log-opt max-size/max-file rotates the json-file log; logs reads the rotated files, and -f follows across rotations', async () => {
    const script = 'i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.05; done; true';
    const id = env.cli(['run', '-d', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]).stdout.trim();
    const followed = await env.cliAsync(['logs', '-f', id]);
    expect(env.cli(['wait', id]).stdout).toBe('0\n');
    const dir = path.join(env.root, 'containers', id);
    expect(
      readdirSync(dir)
        .filter((f) => f.includes('-json.log'))
        .sort(),
    ).toEqual([`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    // What is kept is the newest output, contiguous, up to the last line.
    const kept = env
      .cli(['logs', id])
      .stdout.trim()
      .split('\n')
      .map((l) => Number(l.slice(5)));
    expect(kept.at(-1)).toBe(399);
    expect(kept.length).toBeGreaterThan(40);
    expect(kept.length).toBeLessThan(200);
    expect(kept.every((n, i) => i === 0 || n === kept[i - 1]! + 1)).toBe(true);
    // The follower saw every line from where it started, across the rotations.
    const seen = followed.stdout
      .trim()
      .split('\n')
      .map((l) => Number(l.slice(5)));
    expect(seen.at(-1)).toBe(399);
    expect(seen.every((n, i) => i === 0 || n === seen[i - 1]! + 1)).toBe(true);
    expect(inspect(id)).toMatchObject({ HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '3' } } } });
    expect(env.cli(['rm', id]).code).toBe(0);
    expect(env.cli(['run', '-d', '--log-opt', 'max-file=2', 'busybox', 'true']).stderr).toMatch(/max-file needs max-size/);
    clean();
  });

  it('--restart on-failure:3 restarts a failing container three times, then leaves it exited', async () => {
    env.cli(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'echo attempt; exit 2']);
    expect(env.cli(['wait', 'flaky']).stdout).toBe('2\n');
    const info = inspect('flaky');
    expect(info.State).toMatchObject({ Status: 'exited', ExitCode: 2 });
    expect(info.RestartCount).toBe(3);
    expect(info.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(env.cli(['logs', 'flaky']).stdout).toBe('attempt\n'.repeat(4));
    expect(env.cli(['run', '-d', '--restart', 'sometimes', 'busybox', 'true']).code).toBe(125);
    expect(env.cli(['rm', 'flaky']).code).toBe(0);
    clean();
  });

  it("create, start, restart, kill -s, rename; errors exit 1 as Docker's do", async () => {
    const id = env
      .cli(['create', '--name', 'later', 'busybox', 'sh', '-c', 'trap "exit 12" USR1; echo started; while true; do sleep 0.05; done'])
      .stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(env.cli(['ps', '-a', '--filter', 'status=created', '-q']).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(inspect('later').State.Status).toBe('created');
    expect(env.cli(['start', 'later']).stdout).toBe('later\n');
    expect(inspect('later').State.Status).toBe('running');
    const firstPid = inspect('later').State.Pid;
    expect(env.cli(['restart', '-t', '1', 'later']).stdout).toBe('later\n');
    const info = inspect('later');
    expect(info.State.Status).toBe('running');
    expect(info.State.Pid).not.toBe(firstPid);
    expect(env.cli(['rename', 'later', 'renamed']).code).toBe(0);
    expect(env.cli(['ps', '--filter', 'name=renamed', '--format', '{{.Names}}']).stdout).toBe('renamed\n');
    expect(env.cli(['ps', '--filter', `id=${id.slice(0, 5)}`, '-q']).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(env.cli(['inspect', 'later']).code).toBe(1);
    expect(env.cli(['kill', '-s', 'USR1', 'renamed']).stdout).toBe('renamed\n');
    expect(env.cli(['wait', 'renamed']).stdout).toBe('12\n');
    await eventually(() => env.cli(['logs', 'renamed']).stdout === 'started\nstarted\n');
    const notRunning = env.cli(['kill', 'renamed']);
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toMatch(/is not running/);
    const missing = env.cli(['stop', 'no-such-container']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('hull: no such container: no-such-container\n');
    expect(env.cli(['rm', 'renamed']).code).toBe(0);
    clean();
  });

  it("exec joins the container (pid namespace, hostname, cgroup, capabilities), with -u -w -e -i -t -d and Docker's exit codes", () => {
    env.cli(['run', '-d', '--name', 'box', '-h', 'boxhost', 'busybox', 'sleep', '60']);
    const r = env.cli(['exec', 'box', 'sh', '-c', 'echo pid=$$; hostname; grep CapEff /proc/self/status; grep "^0::" /proc/self/cgroup']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [pidLine, host, caps, cgroup] = r.stdout.trim().split('\n');
    expect(Number(pidLine!.slice(4))).toBeGreaterThan(1); // in the container's pid namespace, beside its PID 1
    expect(host).toBe('boxhost');
    expect(caps).toBe('CapEff:\t00000000a80425fb'); // Docker's default set, as the container's
    expect(cgroup).toBe('0::/'); // its cgroup namespace: the container's cgroup is its root
    expect(env.cli(['exec', 'box', 'ps', '-o', 'comm']).stdout).toBe('COMMAND\nsleep\nps\n');
    expect(env.cli(['exec', 'box', 'ls', '/proc/self/fd']).stdout).toBe('0\n1\n2\n3\n'); // nothing of hull's leaks in
    const cg = readFileSync(path.join(env.cgroupRoot, env.cgroupParent, inspect('box').Id, 'cgroup.procs'), 'utf8');
    expect(cg.trim().split('\n')).toHaveLength(1); // only sleep now: exec's process was in it and is gone

    const u = env.cli(['exec', '-u', 'app', '-w', '/tmp', '-e', 'FOO=bar', 'box', 'sh', '-c', 'id; pwd; echo $FOO; grep CapEff /proc/self/status; exit 5']);
    expect(u.stdout).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n/tmp\nbar\nCapEff:\t0000000000000000\n');
    expect(u.code).toBe(5);
    expect(env.cli(['exec', '-i', 'box', 'tr', 'a-z', 'A-Z'], { input: 'shout\n' }).stdout).toBe('SHOUT\n');
    const missing = env.cli(['exec', 'box', 'no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^hull: exec "no-such-command": executable file not found in \$PATH: ENOENT \(step \d+ of \d+\)\n$/);
    expect(env.cli(['exec', 'box', '/etc/passwd']).code).toBe(126);

    const tty = execFileSync(
      'script',
      [
        '-qec',
        `${process.execPath} ${path.join(process.cwd(), 'bin/hull.cjs')} ${env.globalArgs().join(' ')} exec -t box sh -c 'tty; echo $TERM'`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(tty.replace(/\r/g, '').trim().split('\n')).toEqual([expect.stringMatching(/^\/dev\/pts\/\d+$/), 'xterm']);

    expect(env.cli(['exec', '-d', 'box', 'sh', '-c', 'echo detached > /tmp/d']).code).toBe(0);
    expect(env.cli(['exec', 'box', 'cat', '/tmp/d']).stdout).toBe('detached\n');
    env.cli(['stop', '-t', '0', 'box']);
    const stopped = env.cli(['exec', 'box', 'true']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/is not running/);
    expect(env.cli(['rm', 'box']).code).toBe(0);
    clean();
  });

  it('exec -d whose command ends as hull exits: hull exits 0 every time (it aborted 1 time in 10 once)', async () => {
    expect(env.cli(['run', '-d', '--name', 'quick', 'busybox', 'sleep', '300']).code).toBe(0);
    for (let i = 0; i < 40; i++) {
      const r = await env.cliAsync(['exec', '-d', 'quick', 'sh', '-c', `echo ${i} > /tmp/n`]);
      expect([i, r.code, r.stderr]).toEqual([i, 0, '']);
    }
    expect(env.cli(['rm', '-f', 'quick']).code).toBe(0);
    clean();
  });

  it("--init: hull-init is PID 1, reaps orphaned zombies and forwards signals; the exit code is the command's", async () => {
    const fg = env.cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'ps -o pid,comm; exit 3']);
    expect(fg.stdout).toMatch(/^ +1 init\n +2 sh\n/m);
    expect(fg.code).toBe(3);
    env.cli([
      'run',
      '-d',
      '--init',
      '--name',
      'reaper',
      'busybox',
      'sh',
      '-c',
      'for i in 1 2 3; do (sleep 0.01 &); done; trap "exit 9" TERM; while true; do sleep 0.05; done',
    ]);
    await sleep(300);
    const ps = env.cli(['exec', 'reaper', 'ps', '-o', 'stat,comm']).stdout;
    expect(ps).not.toMatch(/^Z/m); // the orphans' zombies were reaped by hull-init
    expect(env.cli(['stop', 'reaper']).code).toBe(0);
    expect(env.cli(['inspect', '-f', '{{.State.ExitCode}} {{.HostConfig.Init}} {{.Path}}', 'reaper']).stdout).toBe('9 true sh\n');
    expect(env.cli(['rm', 'reaper']).code).toBe(0);
    clean();
  });

  it("attach streams the output from now on, forwards signals, and exits with the container's code", async () => {
    env.cli(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo early; trap "echo bye; exit 8" TERM; while true; do echo tick; sleep 0.1; done']);
    await eventually(() => env.cli(['logs', 'talker']).stdout.startsWith('early\n'));
    const child = env.spawnCli(['attach', 'talker']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve())); // attached
    child.kill('SIGTERM');
    expect(await exit).toBe(8);
    expect(out).toMatch(/^(tick\n)+bye\n$/); // not "early": that was before
    expect(env.cli(['attach', 'talker']).code).toBe(1); // stopped
    expect(env.cli(['rm', 'talker']).code).toBe(0);
    clean();
  });

  it('cp copies both ways, resolving every container path inside its root (symlinks to / cannot reach the host)', () => {
    env.cli([
      'run',
      '-d',
      '--name',
      'files',
      '-h',
      'filebox',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /data/sub; echo hi > /data/a; echo deep > /data/sub/b; ln -s / /data/escape; ln -s /etc/hostname /data/hn; echo ready; exec sleep 60',
    ]);
    expect(env.cli(['exec', 'files', 'true']).code).toBe(0);
    const out = path.join(env.base, 'cp-out');
    mkdirSync(out);
    // container → host: a tree (links as links), and reads through in-container symlinks stay inside
    expect(env.cli(['cp', 'files:/data', out]).code).toBe(0);
    expect(readFileSync(path.join(out, 'data', 'sub', 'b'), 'utf8')).toBe('deep\n');
    expect(readlinkSync(path.join(out, 'data', 'escape'))).toBe('/');
    expect(env.cli(['cp', 'files:/data/escape/etc/hostname', path.join(out, 'h1')]).code).toBe(0);
    expect(env.cli(['cp', 'files:/../../../../etc/hostname', path.join(out, 'h2')]).code).toBe(0);
    expect(readFileSync(path.join(out, 'h1'), 'utf8')).toBe('filebox\n');
    expect(readFileSync(path.join(out, 'h2'), 'utf8')).toBe('filebox\n');
    // host → container: a file into a directory, a tree; through the "/" link it lands in the container's /tmp
    const canary = `hull-cp-canary-${path.basename(env.base)}`;
    writeFileSync(path.join(out, canary), 'in\n');
    expect(env.cli(['cp', path.join(out, canary), 'files:/data/escape/tmp/']).code).toBe(0);
    expect(existsSync(path.join('/tmp', canary))).toBe(false);
    expect(env.cli(['exec', 'files', 'cat', `/tmp/${canary}`]).stdout).toBe('in\n');
    expect(env.cli(['cp', path.join(out, 'data'), 'files:/copied']).code).toBe(0);
    expect(env.cli(['exec', 'files', 'cat', '/copied/sub/b']).stdout).toBe('deep\n');
    // writing onto a symlink writes what it points to, inside the container (as Docker): here the container's
    // /etc/hostname (a bind-mounted file: written in place), never the host's
    const hostHostname = readFileSync('/etc/hostname', 'utf8');
    expect(env.cli(['cp', path.join(out, canary), 'files:/data/hn'])).toMatchObject({ code: 0, stderr: '' });
    expect(env.cli(['exec', 'files', 'cat', '/etc/hostname']).stdout).toBe('in\n');
    expect(readFileSync('/etc/hostname', 'utf8')).toBe(hostHostname);
    expect(env.cli(['exec', 'files', 'readlink', '/data/hn']).stdout).toBe('/etc/hostname\n');
    env.cli(['stop', '-t', '0', 'files']);
    // Stopped: its files as its next start sees them (its own /etc/hostname then is the image's, not the bind): test/integration/cp-stopped.test.ts
    expect(env.cli(['cp', 'files:/data/sub/b', path.join(out, 'b-after-stop')])).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path.join(out, 'b-after-stop'), 'utf8')).toBe('deep\n');
    expect(env.cli(['rm', 'files']).code).toBe(0);
    clean();
  });

  it("cp follows symlinks inside the container as Docker does: path components and the destination, -L for a source; Docker's messages", () => {
    // In the container: /link -> /tmp/real (a directory), /tlink -> /tmp/real/t (a file), /etclink -> /etc (absolute),
    // /data/rel-etc -> ../../../../etc (relative, climbing past the root), /dangling -> /made/by-cp (missing), /loop <-> /loop2.
    env.cli([
      'run',
      '-d',
      '--name',
      'links',
      '-h',
      'linkbox',
      'busybox',
      'sh',
      '-c',
      [
        'mkdir -p /tmp/real /data/sub /made',
        'echo target > /tmp/real/t',
        'echo f > /data/file',
        'echo deep > /data/sub/b',
        'ln -s /tmp/real /link',
        'ln -s /tmp/real/t /tlink',
        'ln -s /etc /etclink',
        'ln -s ../../../../etc /data/rel-etc',
        'ln -s /made/by-cp /dangling',
        'ln -s /loop2 /loop',
        'ln -s /loop /loop2',
        'exec sleep 60',
      ].join('; '),
    ]);
    expect(env.cli(['exec', 'links', 'true']).code).toBe(0);
    const out = path.join(env.base, 'cp-links');
    mkdirSync(out);
    const file = path.join(out, 'file');
    writeFileSync(file, 'hello\n');
    const canary = `hull-cp-canary-${path.basename(env.base)}`;
    writeFileSync(path.join(out, canary), 'canary\n');
    const inside = (p: string) => env.cli(['exec', 'links', 'cat', p]).stdout;
    const ok = (args: string[]) => expect(env.cli(['cp', ...args])).toMatchObject({ code: 0, stderr: '' });
    const fails = (args: string[], message: string) => {
      const r = env.cli(['cp', ...args]);
      expect(r.stderr).toBe(`hull: ${message}\n`);
      expect(r.code).toBe(1);
    };

    // host → container: a symlinked directory as the destination (with and without '/') and as a path component
    ok([file, 'links:/link/']);
    expect(inside('/tmp/real/file')).toBe('hello\n');
    ok([path.join(out, canary), 'links:/link']);
    expect(inside(`/tmp/real/${canary}`)).toBe('canary\n');
    ok([file, 'links:/link/renamed']);
    expect(inside('/tmp/real/renamed')).toBe('hello\n');
    // an absolute link to /etc is the container's /etc; a relative one climbing past "/" stays in the container too
    ok([path.join(out, canary), 'links:/etclink/']);
    ok([path.join(out, canary), `links:/data/rel-etc/${canary}-2`]);
    expect(inside(`/etc/${canary}`)).toBe('canary\n');
    expect(inside(`/etc/${canary}-2`)).toBe('canary\n');
    expect(existsSync(`/etc/${canary}`)).toBe(false);
    expect(existsSync(`/etc/${canary}-2`)).toBe(false);
    // a link to a file as the destination: the file it points to is written, the link stays
    ok([file, 'links:/tlink']);
    expect(inside('/tmp/real/t')).toBe('hello\n');
    expect(env.cli(['exec', 'links', 'readlink', '/tlink']).stdout).toBe('/tmp/real/t\n');
    // a dangling link: its target is made, inside the container
    ok([file, 'links:/dangling']);
    expect(inside('/made/by-cp')).toBe('hello\n');
    // a host symlink is copied as a link; with -L, what it points to, under the link's name
    symlinkSync('file', path.join(out, 'hostlink'));
    ok([path.join(out, 'hostlink'), 'links:/tmp/']);
    expect(env.cli(['exec', 'links', 'readlink', '/tmp/hostlink']).stdout).toBe('file\n');
    ok(['-L', path.join(out, 'hostlink'), 'links:/tmp/real/']);
    expect(env.cli(['exec', 'links', 'sh', '-c', 'test -L /tmp/real/hostlink || cat /tmp/real/hostlink']).stdout).toBe('hello\n');

    // container → host: through a symlinked component; a link source as a link, with -L as its target's content
    ok(['links:/link/t', out]);
    expect(readFileSync(path.join(out, 't'), 'utf8')).toBe('hello\n');
    ok(['links:/tlink', out]);
    expect(readlinkSync(path.join(out, 'tlink'))).toBe('/tmp/real/t');
    ok(['-L', 'links:/tlink', path.join(out, 'followed')]);
    expect(lstatSync(path.join(out, 'followed')).isFile()).toBe(true);
    expect(readFileSync(path.join(out, 'followed'), 'utf8')).toBe('hello\n');
    mkdirSync(path.join(out, 'into'));
    ok(['-L', 'links:/tlink', path.join(out, 'into')]);
    expect(readFileSync(path.join(out, 'into', 'tlink'), 'utf8')).toBe('hello\n');
    // the container's /etc through both links, never the host's
    ok(['links:/etclink/hostname', path.join(out, 'h1')]);
    ok(['links:/data/rel-etc/hostname', path.join(out, 'h2')]);
    expect(readFileSync(path.join(out, 'h1'), 'utf8')).toBe('linkbox\n');
    expect(readFileSync(path.join(out, 'h2'), 'utf8')).toBe('linkbox\n');
    // a link to a directory with '/': its contents under the link's name; DIR/. : the contents into an existing directory
    ok(['links:/link/', path.join(out, 'real-copy')]);
    expect(readFileSync(path.join(out, 'real-copy', 't'), 'utf8')).toBe('hello\n');
    ok(['links:/data/.', path.join(out, 'into')]);
    expect(readFileSync(path.join(out, 'into', 'sub', 'b'), 'utf8')).toBe('deep\n');
    expect(readlinkSync(path.join(out, 'into', 'rel-etc'))).toBe('../../../../etc');

    // Docker's messages, never an errno name
    fails(['links:/nope', out], 'Could not find the file /nope in container links');
    fails(['links:/link/nope', out], 'Could not find the file /link/nope in container links');
    fails([file, 'links:/nope/dir/x'], 'Could not find the file /nope/dir in container links');
    fails([file, 'links:/nope/'], 'no such directory: /nope in container links');
    fails([file, 'links:/data/file/x'], 'extraction point is not a directory: /data/file in container links');
    fails([out, 'links:/data/file'], 'cannot copy directory: /data/file in container links is not a directory');
    fails(['links:/data', path.join(out, 'missing', 'x')], `invalid output path: directory "${path.join(out, 'missing')}" does not exist`);
    fails(['links:/data/file/', out], '/data/file/ in container links is not a directory');
    fails(['links:/data', file], `cannot copy directory: ${file} is not a directory`);
    fails(['links:/etc/hostname', path.join(out, 'nodir') + '/'], `no such directory: ${path.join(out, 'nodir')}`);
    fails([path.join(out, 'absent'), 'links:/tmp/'], `lstat ${path.join(out, 'absent')}: no such file or directory`);
    fails(['links:/loop/x', out], '/loop/x in container links: too many levels of symbolic links');
    fails([file, 'links:/loop'], '/loop in container links: too many levels of symbolic links');
    fails(['', out], 'source can not be empty');

    expect(env.cli(['rm', '-f', 'links']).code).toBe(0);
    clean();
  });

  it('kill -9 of a monitor: the container is reported exited (not running), and rm -f cleans everything', async () => {
    env.cli(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '60']);
    const pid = inspect('orphan').State.Pid;
    const monitorPid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(monitorPid, 'SIGKILL');
    // The container dies with its monitor (PDEATHSIG); hull never calls it running again.
    await eventually(() => !env.cli(['ps']).stdout.includes('orphan'));
    const info = inspect('orphan');
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 137 });
    expect(info.State.Error).toMatch(/monitor \(pid \d+\) died/);
    expect(env.cli(['ps', '-a']).stdout).toMatch(/Exited \(137\) .* orphan$/m);
    expect(env.cli(['rm', '-f', 'orphan']).code).toBe(0);
    clean();
  });

  it('after a reboot (another boot id, an empty run root) a container that ran shows as exited with a reason', async () => {
    const id = env.cli(['run', '-d', '--name', 'before-boot', 'busybox', 'sleep', '60']).stdout.trim();
    const pid = inspect(id).State.Pid;
    const monitorPid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(monitorPid, 'SIGKILL'); // the "reboot": everything of the old boot is gone…
    await eventually(() => env.processes().length === 0);
    rmSync(path.join(env.runRoot, 'containers', id), { recursive: true, force: true }); // …with the run root
    // What the old boot wrote says so: hull's record and the monitor's status.
    const file = path.join(env.root, 'containers', id, 'container.json');
    const record = JSON.parse(readFileSync(file, 'utf8')) as { state: { bootId: string } };
    record.state.bootId = 'a-previous-boot';
    writeFileSync(file, JSON.stringify(record));
    const statusFile = path.join(env.root, 'containers', id, 'monitor.json');
    writeFileSync(statusFile, JSON.stringify({ ...JSON.parse(readFileSync(statusFile, 'utf8')), bootId: 'a-previous-boot' }));
    const info = inspect(id);
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 255 });
    expect(info.State.Error).toMatch(/rebooted/);
    // It can be started again in this boot, and removed.
    expect(env.cli(['start', id]).code).toBe(0);
    expect(inspect(id).State.Status).toBe('running');
    expect(env.cli(['rm', '-f', id]).code).toBe(0);
    clean();
  });

  it('concurrent commands on one container are serialised by its lock', async () => {
    env.cli(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '60']);
    const results = await Promise.all([
      env.cliAsync(['restart', '-t', '0', 'busy']),
      env.cliAsync(['restart', '-t', '0', 'busy']),
      env.cliAsync(['start', 'busy']),
      env.cliAsync(['restart', '-t', '0', 'busy']),
    ]);
    for (const r of results) expect(r.stderr).toBe('');
    expect(inspect('busy').State.Status).toBe('running');
    // Exactly one monitor and one container process.
    const procs = env.processes();
    expect(procs.filter((p) => p.comm === 'hull-monitor')).toHaveLength(1);
    expect(procs.filter((p) => p.comm === 'sleep')).toHaveLength(1);
    const [stop, rm] = await Promise.all([env.cliAsync(['stop', '-t', '0', 'busy']), env.cliAsync(['rm', '-f', 'busy'])]);
    expect(rm.code).toBe(0);
    expect([0, 1]).toContain(stop.code); // stop may find it already removed
    clean();
  });

  it('50 detached containers started at once all run, each log holds its own output, all stop and go', async () => {
    const n = 50;
    const started = await Promise.all(
      Array.from({ length: n }, (_, i) => env.cliAsync(['run', '-d', '--name', `many-${i}`, 'busybox', 'sh', '-c', `echo hello from ${i}; exec sleep 120`])),
    );
    for (const r of started) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    }
    const running = env.cli(['ps', '--format', '{{.Names}}']).stdout.trim().split('\n').sort();
    expect(running).toEqual(Array.from({ length: n }, (_, i) => `many-${i}`).sort());
    await eventually(() => Array.from({ length: n }, (_, i) => i).every((i) => env.cli(['logs', `many-${i}`]).stdout === `hello from ${i}\n`), 20_000);
    const names = Array.from({ length: n }, (_, i) => `many-${i}`);
    const stopped = await Promise.all(names.map((name) => env.cliAsync(['stop', '-t', '0', name])));
    for (const r of stopped) expect(r.code).toBe(0);
    expect(env.cli(['ps', '-q']).stdout).toBe('');
    const removed = env.cli(['rm', ...names]);
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim().split('\n')).toHaveLength(n);
    clean();
  }, 180_000);
});
