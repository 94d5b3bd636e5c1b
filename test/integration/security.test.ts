// Security settings end to end: capabilities, seccomp, no_new_privs, --read-only, --device,
// --privileged, and user-namespace remapping, checked from inside and from the host.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, HULL_BIN, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { busyboxLayerEntries, writeOciImage } from '../../scripts/make-busybox-image.mjs';
import { prepareIdmappedRootfs } from '../../src/runtime/userns.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';

function statusField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(text)?.[1];
}

const ownBounding = statusField(readFileSync('/proc/self/status', 'utf8'), 'CapBnd');

describe.skipIf(!canRunContainers)(`security settings (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  const status = (...flags: string[]) => {
    const r = env.cli(['run', '--rm', ...flags, 'busybox', 'cat', '/proc/self/status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it("default: Docker's capabilities (CapEff 00000000a80425fb) and a seccomp filter", () => {
    const s = status();
    expect(statusField(s, 'CapEff')).toBe('00000000a80425fb');
    expect(statusField(s, 'CapBnd')).toBe('00000000a80425fb');
    expect(statusField(s, 'CapInh')).toBe('0000000000000000');
    expect(statusField(s, 'CapAmb')).toBe('0000000000000000');
    expect(statusField(s, 'Seccomp')).toBe('2');
    expect(statusField(s, 'NoNewPrivs')).toBe('0');
    expect(env.leftovers()).toEqual([]);
  });

  it('--privileged: every capability hull holds, no filter; --cap-drop ALL: none', () => {
    const p = status('--privileged');
    expect(statusField(p, 'CapEff')).toBe(ownBounding);
    expect(statusField(p, 'Seccomp')).toBe('0');
    const none = status('--cap-drop', 'ALL');
    expect(statusField(none, 'CapEff')).toBe('0000000000000000');
    expect(statusField(none, 'CapBnd')).toBe('0000000000000000');
  });

  it('--cap-add / --cap-drop by name, with or without CAP_, any case', () => {
    const s = status('--cap-add', 'sys_admin', '--cap-drop', 'CAP_NET_RAW', '--cap-drop', 'Mknod');
    const eff = BigInt(`0x${statusField(s, 'CapEff')}`);
    expect(eff & (1n << 21n)).not.toBe(0n); // SYS_ADMIN
    expect(eff & (1n << 13n)).toBe(0n); // NET_RAW
    expect(eff & (1n << 27n)).toBe(0n); // MKNOD
    // CAP_SYS_ADMIN also unlocks the calls Docker's profile ties to it.
    const r = env.cli(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'mkdir /m && mount -t tmpfs none /m && echo mounted']);
    expect(r.stdout).toBe('mounted\n');
    const bad = env.cli(['run', '--rm', '--cap-add', 'CAP_FLY', 'busybox', 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/invalid capability: CAP_FLY/);
  });

  it("--security-opt no-new-privileges and seccomp=unconfined|FILE (Docker's format)", () => {
    const nnp = status('--security-opt', 'no-new-privileges');
    expect(statusField(nnp, 'NoNewPrivs')).toBe('1');
    expect(statusField(nnp, 'Seccomp')).toBe('2');
    expect(statusField(status('--security-opt', 'seccomp=unconfined'), 'Seccomp')).toBe('0');
    // A profile that denies mkdir with EACCES and allows everything else.
    const file = path.join(env.base, 'profile.json');
    writeFileSync(
      file,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }),
    );
    const r = env.cli(['run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /x; touch /y && echo touched']);
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/x': Permission denied/);
    expect(r.stdout).toBe('touched\n');
    const missing = env.cli(['run', '--rm', '--security-opt', 'seccomp=/no/such.json', 'busybox', 'true']);
    expect(missing.code).toBe(125);
  });

  it('the default profile: namespaced clone is refused, clone3 reports ENOSYS, plain fork works', () => {
    const r = env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'unshare -n true; echo unshare=$?; (echo child) ; echo sub=$?']);
    expect(r.stdout).toBe('unshare=1\nchild\nsub=0\n');
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  it('--read-only: the root is read-only; /dev, /dev/shm and /proc stay as they are', () => {
    const r = env.cli([
      'run',
      '--rm',
      '--read-only',
      'busybox',
      'sh',
      '-c',
      'touch /x 2>/dev/null; echo root=$?; touch /dev/x && echo dev=ok; touch /dev/shm/x && echo shm=ok; cat /proc/self/stat >/dev/null && echo proc=ok',
    ]);
    expect(r.stdout).toBe('root=1\ndev=ok\nshm=ok\nproc=ok\n');
    const w = env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'touch /x && echo root=ok']);
    expect(w.stdout).toBe('root=ok\n');
  });

  it('--device adds a node and a device-controller rule for it, with the permissions given', () => {
    // /dev/loop0 (7:0) is not in the default set: unreachable unless added.
    if (!existsSync('/dev/loop0')) return;
    const open = 'exec 3</dev/loop0 && echo opened';
    const none = env.cli(['run', '--rm', 'busybox', 'sh', '-c', `mknod /dev/loop0 b 7 0; ${open}`]);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/Operation not permitted/);
    expect(env.cli(['run', '--rm', '--device', '/dev/loop0', 'busybox', 'sh', '-c', open]).stdout).toBe('opened\n');
    const ro = env.cli([
      'run',
      '--rm',
      '--device',
      '/dev/loop0:/dev/disk0:r',
      'busybox',
      'sh',
      '-c',
      'exec 3</dev/disk0 && echo r; exec 4>/dev/disk0 && echo w',
    ]);
    expect(ro.stdout).toBe('r\n');
    expect(ro.stderr).toMatch(/Operation not permitted/);
    expect(env.leftovers()).toEqual([]);
  });

  it("the device program loads while signals arrive (the verifier's EAGAIN is retried)", () => {
    // A profiler's SIGPROF every 50 µs interrupts the verifier; every start failed with EAGAIN before.
    const dir = path.join(env.base, 'cpu-prof');
    for (let i = 0; i < 4; i++) {
      const r = spawnSync(
        process.execPath,
        [
          '--cpu-prof',
          `--cpu-prof-dir=${dir}`,
          '--cpu-prof-interval',
          '50',
          HULL_BIN,
          ...env.globalArgs(),
          'run',
          '--rm',
          '--cgroup-parent',
          env.cgroupParent,
          'busybox',
          'true',
        ],
        { encoding: 'utf8' },
      );
      expect([r.status, r.stderr]).toEqual([0, '']);
    }
    expect(env.leftovers()).toEqual([]);
  });
});

describe.skipIf(!canRunContainers)(`user-namespace remapping (integration${skipReason})`, () => {
  let env: HullEnv;
  const HOST_ROOT = 231072;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    // The container's root is an unprivileged uid: it must be able to search down to its own
    // directories (hull makes its own ones o+x; the test's temporary base is above them).
    chmodSync(env.base, 0o711);
  });

  afterAll(() => env.destroy());

  it("root in the container is uid 231072 on the host (seen from the host), with the image's files as root's", async () => {
    const child = spawn(
      process.execPath,
      [
        HULL_BIN,
        ...env.globalArgs(),
        'run',
        '--rm',
        '-i',
        '--name',
        'remapped',
        '--cgroup-parent',
        env.cgroupParent,
        '--network',
        'none',
        '--uidmap',
        `0:${HOST_ROOT}:65536`,
        'busybox',
        'sh',
        '-c',
        'id -u; stat -c %u:%g /bin/busybox /etc/passwd; echo > /tmp/ready; read x',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const r = env.cli(['inspect', '-f', '{{.State.Pid}}', 'remapped']);
      if (r.code === 0 && Number(r.stdout) > 0 && out.includes('0:0\n0:0')) pid = Number(r.stdout);
    }
    expect(err).toBe('');
    expect(pid).toBeGreaterThan(0);
    const hostStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(hostStatus)?.[1]).toBe(String(HOST_ROOT));
    expect(/^Gid:\s+(\d+)/m.exec(hostStatus)?.[1]).toBe(String(HOST_ROOT));
    expect(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', String(HOST_ROOT), '65536']);
    child.stdin.end('\n');
    await new Promise((r) => child.once('close', r));
    expect(out).toBe('0\n0:0\n0:0\n');
    expect(env.leftovers()).toEqual([]);
  });

  it("files the container's root makes are owned by the mapped uid on the host (its upper directory)", () => {
    const r = env.cli([
      'run',
      '--name',
      'writer',
      '--network',
      'none',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      'busybox',
      'sh',
      '-c',
      'mkdir /data && echo hi > /data/root-file && echo x > /tmp/app-file && chown 1000:1000 /tmp/app-file && echo done',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done\n');
    const id = env.cli(['inspect', '-f', '{{.Id}}', 'writer']).stdout.trim();
    const upper = path.join(env.root, 'containers', id, 'upper');
    const owner = (p: string) => `${statSync(p).uid}:${statSync(p).gid}`;
    expect(owner(path.join(upper, 'data'))).toBe(`${HOST_ROOT}:${HOST_ROOT}`);
    expect(owner(path.join(upper, 'data', 'root-file'))).toBe(`${HOST_ROOT}:${HOST_ROOT}`);
    expect(owner(path.join(upper, 'tmp', 'app-file'))).toBe(`${HOST_ROOT + 1000}:${HOST_ROOT + 1000}`);
    // The image's layers were not touched: still host root's.
    const layers = path.join(env.root, 'layers');
    for (const l of readdirSync(layers).filter((n) => n !== 'l')) {
      const busybox = path.join(layers, l, 'bin', 'busybox');
      if (existsSync(busybox)) expect(owner(busybox)).toBe('0:0');
    }
    expect(env.cli(['rm', 'writer']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it("files the remapped root makes in a bind mount of a host directory are the mapped uid's on the host", () => {
    const shared = path.join(env.base, 'bind-remapped');
    mkdirSync(shared);
    // The directory is the mapped root's, as an operator would hand it to a remapped container.
    chownSync(shared, HOST_ROOT, HOST_ROOT);
    const r = env.cli([
      'run',
      '--rm',
      '--network',
      'none',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      '-v',
      `${shared}:/h`,
      'busybox',
      'sh',
      '-c',
      'echo hi > /h/by-root && echo x > /h/by-app && chown 1000:1000 /h/by-app && stat -c %u:%g /h/by-root',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0:0\n');
    const owner = (p: string) => `${statSync(p).uid}:${statSync(p).gid}`;
    expect(owner(path.join(shared, 'by-root'))).toBe(`${HOST_ROOT}:${HOST_ROOT}`);
    expect(owner(path.join(shared, 'by-app'))).toBe(`${HOST_ROOT + 1000}:${HOST_ROOT + 1000}`);
    expect(env.leftovers()).toEqual([]);
  });

  it("the remapped root cannot do what only the host's root may (mknod, host devices, sysctls)", () => {
    const r = env.cli([
      'run',
      '--rm',
      '--network',
      'none',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      '--cap-add',
      'ALL',
      '--security-opt',
      'seccomp=unconfined',
      'busybox',
      'sh',
      '-c',
      'mknod /tmp/sda b 8 0 2>&1 | tail -1; cat /dev/null && echo null-ok; hostname other && hostname',
    ]);
    expect(r.stdout).toBe('mknod: /tmp/sda: Operation not permitted\nnull-ok\nother\n');
    // --device is bound from the host (no mknod in a user namespace), under the name asked for;
    // the host's root-only nodes stay closed to the mapped root (their owner is not mapped).
    const loop = existsSync('/dev/loop0'); // a root-only (0600) node of the host's, when there is one
    const d = env.cli([
      'run',
      '--rm',
      '--network',
      'none',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      '--device',
      '/dev/zero:/dev/nothing',
      ...(loop ? ['--device', '/dev/loop0:/dev/disk0:r'] : []),
      'busybox',
      'sh',
      '-c',
      `head -c 3 /dev/nothing | od -An -tx1${loop ? '; ls -l /dev/disk0 | cut -c1; exec 3</dev/disk0 && echo opened' : ''}`,
    ]);
    expect(d.stdout.replace(/\s+/g, ' ').trim()).toBe(loop ? '00 00 00 b' : '00 00 00');
    if (loop) expect(d.stderr).toMatch(/can't open \/dev\/disk0: Permission denied/);
  });

  it('a multi-layer image looks the same remapped: whiteouts and opaque directories hold', async () => {
    const tar = path.join(env.base, 'layered.tar');
    await writeOciImage({
      layers: [
        [
          ...busyboxLayerEntries(),
          { path: 'd/', type: 'dir' },
          { path: 'd/old', type: 'file', content: 'o' },
          { path: 'gone', type: 'file', content: 'g' },
          { path: 'owned', type: 'file', content: 'x', uid: 1000, gid: 50 },
        ],
        [
          { path: 'd/', type: 'dir' },
          { path: 'd', type: 'opaque' },
          { path: 'd/new', type: 'file', content: 'n' },
          { path: 'gone', type: 'whiteout' },
        ],
      ],
      name: 'layered:1',
      outTar: tar,
    });
    expect(env.cli(['load', '-i', tar]).code).toBe(0);
    const script = 'ls /d; ls /gone 2>/dev/null || echo no-gone; stat -c %u:%g /owned';
    const plain = env.cli(['run', '--rm', 'layered:1', 'sh', '-c', script]);
    const remapped = env.cli(['run', '--rm', '--network', 'none', '--uidmap', `0:${HOST_ROOT}:65536`, 'layered:1', 'sh', '-c', script]);
    expect(plain.stdout).toBe('new\nno-gone\n1000:50\n');
    expect(remapped.stderr).toBe('');
    expect(remapped.stdout).toBe(plain.stdout);
    expect(env.leftovers()).toEqual([]);
  });

  it('a hull killed while a remapped root is mounted on the host: rm detaches it and never deletes through it', () => {
    const created = env.cli(['create', '--network', 'none', '--uidmap', `0:${HOST_ROOT}:65536`, 'busybox', 'true']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    const dir = path.join(env.root, 'containers', id);
    const spec = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as RuntimeSpec;
    const record = JSON.parse(readFileSync(path.join(dir, 'container.json'), 'utf8')) as { rootfs: { lower: string[]; upper: string; work: string } };
    const runDir = path.join(env.runRoot, 'containers', id);
    // What start does before clone3, left as a killed hull would leave it.
    prepareIdmappedRootfs(spec, record.rootfs, runDir, []);
    const mounts = () =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(runDir));
    expect(mounts().length).toBe(record.rootfs.lower.length + 1);
    const layerFiles = () => record.rootfs.lower.map((l) => readdirSync(l).length);
    const before = layerFiles();
    expect(env.cli(['rm', id]).code).toBe(0);
    expect(mounts()).toEqual([]);
    expect(layerFiles()).toEqual(before);
    expect(existsSync(path.join(env.root, 'layers'))).toBe(true);
    expect(env.cli(['run', '--rm', 'busybox', 'true']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it('detached (-d): the monitor writes the maps and keeps the remapped root for restarts; exec joins the user namespace', () => {
    const r = env.cli([
      'run',
      '-d',
      '--name',
      'bg',
      '--network',
      'none',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      '--restart',
      'on-failure:1',
      'busybox',
      'sh',
      '-c',
      'if [ -e /second ]; then sleep 300; fi; touch /second; exit 1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The first run exits 1; the monitor starts it again (a second clone3 from its own copy of the root).
    let status = '';
    for (let i = 0; i < 100 && !status.includes('running 1'); i++) {
      status = env.cli(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'bg']).stdout.trim();
      spawnSync('sleep', ['0.1']);
    }
    expect(status).toBe('running 1');
    const pid = Number(env.cli(['inspect', '-f', '{{.State.Pid}}', 'bg']).stdout);
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(HOST_ROOT));
    const e = env.cli(['exec', 'bg', 'sh', '-c', 'id -u; cat /proc/self/uid_map; touch /from-exec']);
    expect(e.stdout.split('\n')[0]).toBe('0');
    expect(e.stdout).toMatch(new RegExp(`^\\s*0\\s+${HOST_ROOT}\\s+65536$`, 'm'));
    const id = env.cli(['inspect', '-f', '{{.Id}}', 'bg']).stdout.trim();
    expect(statSync(path.join(env.root, 'containers', id, 'upper', 'from-exec')).uid).toBe(HOST_ROOT);
    // No mount of the remapped root is left on the host while it runs: only the monitor holds one.
    expect(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(env.base)),
    ).toEqual([]);
    expect(env.cli(['rm', '-f', 'bg']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it('a remapped container runs with --network host; a bridge network is refused clearly, leaving nothing', () => {
    const host = env.cli([
      'run',
      '--rm',
      '--network',
      'host',
      '--uidmap',
      `0:${HOST_ROOT}:65536`,
      'busybox',
      'sh',
      '-c',
      'id -u; ls /sys/class/net | grep -c .',
    ]);
    expect(host.stderr).toBe('');
    expect(host.stdout.split('\n')[0]).toBe('0');
    expect(Number(host.stdout.split('\n')[1])).toBeGreaterThan(1);
    const bridged = env.cli(['run', '--rm', '--uidmap', `0:${HOST_ROOT}:65536`, 'busybox', 'true']);
    expect(bridged.code).toBe(125);
    expect(bridged.stderr).toMatch(/user-namespace remapping needs --network none or --network host/);
    expect(env.leftovers()).toEqual([]);
  });

  it('--userns-remap needs a range in /etc/subuid', () => {
    const r = env.cli(['run', '--rm', '--userns-remap', 'hull-no-such-user', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/no subordinate id range for 'hull-no-such-user'/);
  });
});
