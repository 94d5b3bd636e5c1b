// The escape suite: real attacks from inside a default container, as root. Each must fail; where
// it makes sense the same attack is shown to work under --privileged, so the test can fail.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, writeOciImage } from '../../scripts/make-busybox-image.mjs';
import { HullEnv, HULL_BIN, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { ContainerProcess } from '../../src/runtime/process.js';
import { buildExecPlan } from '../../src/runtime/plan.js';
import { compiledFilter } from '../../src/runtime/seccomp/step.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';

describe.skipIf(!canRunContainers)(`escape attempts from a default container (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  /** `sh -c SCRIPT` in a container (default unless flags say otherwise). */
  const sh = (script: string, ...flags: string[]) => env.cli(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);

  it('cannot mount anything (works with --privileged)', () => {
    const script = 'mkdir -p /m; mount -t tmpfs none /m && echo mounted; mount --bind /bin /m && echo bound; mount -t proc proc /m && echo proc';
    const r = sh(script);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/permission denied|Operation not permitted/);
    expect(sh(script, '--privileged').stdout).toBe('mounted\nbound\nproc\n');
    expect(env.leftovers()).toEqual([]);
  });

  it("can mknod the host's disk but not open it; a device outside the default set opens only with --privileged", () => {
    // The block device under the host's root file system.
    const rootLine = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
    const [major, minor] = (rootLine?.split(' ')[2] ?? '0:0').split(':').map(Number);
    const disk = sh(`mknod /tmp/disk b ${major} ${minor} && echo made; head -c 512 /tmp/disk | wc -c`);
    expect(disk.stdout).toBe('made\n0\n');
    expect(disk.stderr).toMatch(/Operation not permitted/);
    const loop = 'mknod /tmp/loop b 7 0 && exec 3</tmp/loop && echo opened';
    expect(sh(loop).stdout).toBe('');
    expect(sh(loop).stderr).toMatch(/Operation not permitted/);
    expect(sh(loop, '--privileged').stdout).toBe('opened\n');
    // Character devices too: /dev/mem, /dev/kmsg.
    const chr = sh('mknod /tmp/kmsg c 1 11; exec 3</tmp/kmsg && echo kmsg; mknod /tmp/mem c 1 1; exec 4</tmp/mem && echo mem');
    expect(chr.stdout).toBe('');
  });

  it('cannot read /proc/kcore, /proc/keys, /proc/timer_list (masked; readable with --privileged)', () => {
    // This host's kernel may have no /proc/kcore: then there is nothing to read either way.
    const kcore = existsSync('/proc/kcore') ? 'head -c 4 /proc/kcore | wc -c' : 'echo 0';
    const r = sh(`${kcore}; cat /proc/keys | wc -c; cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l`);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['0', '0', '0', '0']);
    expect(r.stderr).toBe('');
    const p = sh(`${kcore}; cat /proc/timer_list | wc -c`, '--privileged');
    const [kc, timers] = p.stdout
      .trim()
      .split('\n')
      .map((l) => Number(l.trim()));
    if (existsSync('/proc/kcore')) expect(kc).toBe(4);
    expect(timers).toBeGreaterThan(0);
  });

  it('cannot write /proc/sys/kernel/* or the cgroup tree (works with --privileged for a per-namespace sysctl)', () => {
    const before = readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const r = sh(
      'echo evil > /proc/sys/kernel/hostname; echo evil > /proc/sys/kernel/core_pattern; mkdir /sys/fs/cgroup/evil; echo h > /proc/sysrq-trigger; echo done',
    );
    expect(r.stdout).toBe('done\n');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      "sh: can't create /proc/sys/kernel/hostname: Read-only file system",
      "sh: can't create /proc/sys/kernel/core_pattern: Read-only file system",
      "mkdir: can't create directory '/sys/fs/cgroup/evil': Read-only file system",
      expect.stringMatching(/sh: can't create \/proc\/sysrq-trigger: (Read-only file system|Permission denied|nonexistent directory)/),
    ]);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).not.toMatch(/evil/);
    // The UTS namespace's own hostname sysctl is writable with --privileged (and stays in the container).
    expect(sh('echo inside > /proc/sys/kernel/hostname && hostname', '--privileged').stdout).toBe('inside\n');
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(before);
  });

  it('cannot see or signal host processes', () => {
    const me = process.pid;
    const r = sh(
      `ls /proc | grep -E '^[0-9]+$' | wc -l; kill -0 ${me} && echo signalled; kill -9 1 2>/dev/null; ls /proc/${me} >/dev/null 2>&1 && echo seen; echo end`,
    );
    const [count, ...rest] = r.stdout.trim().split('\n');
    expect(Number(count)).toBeLessThanOrEqual(4); // sh, ls, grep, wc
    expect(rest).toEqual(['end']);
    expect(r.stderr).toMatch(/No such process/);
  });

  it('cannot load a kernel module (reaches the kernel with --privileged, which refuses a non-module)', () => {
    // Not a module (the start of busybox): the kernel would refuse it, if the call got there.
    const script = 'head -c 8192 /bin/busybox > /tmp/evil.ko; insmod /tmp/evil.ko';
    const r = sh(script);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted/);
    const p = sh(script, '--privileged');
    expect(p.stderr).not.toMatch(/Operation not permitted/);
    expect(p.stderr).toMatch(/insmod/);
  });

  it("cannot change the host's hostname or clock", () => {
    const name = hostname();
    const r = sh('hostname evil; date -s "2001-01-01 00:00:00"; echo done');
    expect(r.stdout).toMatch(/done\n$/);
    expect(r.stderr.match(/Operation not permitted|permission denied/gi)?.length).toBeGreaterThanOrEqual(2);
    expect(hostname()).toBe(name);
    expect(Math.abs(Date.now() - new Date(execFileSync('date', ['-u', '+%Y-%m-%dT%H:%M:%SZ'], { encoding: 'utf8' }).trim()).getTime())).toBeLessThan(120_000);
    expect(new Date().getFullYear()).toBeGreaterThan(2001);
  });

  it('cannot unshare a new user namespace (works with --privileged)', () => {
    const r = sh('unshare -U true && echo unshared; unshare -m true && echo mnt');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(sh('unshare -U true && echo unshared', '--privileged').stdout).toBe('unshared\n');
  });

  it('cannot ptrace or enter anything outside: no host pid is visible, setns and process_vm_* are refused', () => {
    const me = process.pid;
    const r = sh(`cat /proc/${me}/environ 2>&1; echo; nsenter -t 1 -m true && echo entered; nsenter --mount=/proc/1/ns/mnt true && echo entered2`);
    expect(r.stdout).not.toMatch(/entered/);
    expect(r.stdout).toMatch(/No such file or directory/);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  it('reaches no host fd: only stdio is open at execve, whatever hull had open (close_range)', () => {
    const secret = path.join(env.base, 'host-secret');
    writeFileSync(secret, 'host only\n');
    const fd = openSync(secret, 'r');
    try {
      const out = execFileSync(
        process.execPath,
        [
          HULL_BIN,
          ...env.globalArgs(),
          'run',
          '--rm',
          '--cgroup-parent',
          env.cgroupParent,
          'busybox',
          'sh',
          '-c',
          'ls /proc/1/fd; for f in /proc/1/fd/*; do readlink $f; done; cat <&3 2>&1; cat <&7 2>&1; echo end',
        ],
        { stdio: ['ignore', 'pipe', 'pipe', fd, fd, fd, fd, fd], encoding: 'utf8' },
      );
      const lines = out.trim().split('\n');
      expect(lines.slice(0, 3)).toEqual(['0', '1', '2']);
      expect(out).not.toMatch(/host only/);
      expect(out).not.toMatch(/host-secret/);
      expect(lines.at(-1)).toBe('end');
    } finally {
      closeSync(fd);
    }
    // A working directory through an fd hull still holds (CVE-2024-21626) is refused.
    for (const n of [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      const r = env.cli(['run', '--rm', '-w', `/proc/self/fd/${n}`, 'busybox', 'sh', '-c', 'ls ..; pwd']);
      expect(r.code, `fd ${n}`).toBe(125);
      expect(r.stderr).toMatch(/chdir to working directory .*ELOOP/);
    }
    expect(env.leftovers()).toEqual([]);
  });

  it("cannot reach or write the host's node or hull binary through /proc/PID/exe of a process joining by exec", async () => {
    const r = env.cli(['run', '-d', '--name', 'target', 'busybox', 'sleep', '300']);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    const pid = Number(env.cli(['inspect', '-f', '{{.State.Pid}}', 'target']).stdout);
    const spec = JSON.parse(readFileSync(path.join(env.root, 'containers', id, 'config.json'), 'utf8')) as RuntimeSpec;
    const nodeBefore = statSync(process.execPath);
    const nsFds = ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'].map((ns) => openSync(`/proc/${pid}/ns/${ns}`, 'r'));
    const devnull = openSync('/dev/null', 'r+');
    // A process joins the container the way `hull exec` does, and is held before its execve:
    // from inside, the attacker goes for every process it can see.
    const joined = ContainerProcess.spawn({
      plan: {
        namespaces: { pid: false, mount: false, uts: false, ipc: false, net: false, cgroup: false },
        rootfs: spec.root.path,
        terminal: false,
        parentDeathSignal: 9,
        steps: buildExecPlan(spec, {
          args: ['true'],
          env: spec.process.env,
          cwd: '/',
          user: { uid: 0, gid: 0, additionalGids: [] },
          tty: false,
          seccompFilter: await compiledFilter(spec.linux.seccomp!),
        }),
      },
      cgroupFd: -1,
      stdio: [devnull, devnull, devnull],
      joinNamespaceFds: nsFds,
    });
    try {
      const attack = env.cli([
        'exec',
        'target',
        'sh',
        '-c',
        [
          'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] && continue;',
          'c=$(cat $d/comm 2>/dev/null) || continue; case "$c" in sh|cat|ls) continue;; esac;',
          'echo "pid $p $c"; l=$(readlink $d/exe) && echo "exe=$l" || echo "no exe link";',
          'cat $d/exe > /dev/null && echo "read exe"; echo x >> $d/exe && echo "WROTE exe";',
          'for f in $d/fd/*; do readlink $f && echo "fd link"; cat $f >/dev/null 2>&1 && echo "read fd"; done;',
          'cat $d/environ >/dev/null && echo "read environ"; cat $d/maps >/dev/null && echo "read maps"; done;',
          // The control: a dumpable process of the container (its pid 1) can be read this way.
          'echo "pid1 $(readlink /proc/1/exe)"; echo end',
        ].join(' '),
      ]);
      expect(attack.stdout).toMatch(/^pid \d+ /m); // the held process was seen…
      expect(attack.stdout).toMatch(/no exe link/); // …and nothing of it could be reached
      expect(attack.stdout).not.toMatch(/read exe|WROTE exe|fd link|read fd|read environ|read maps/);
      expect(attack.stdout).not.toMatch(/exe=/);
      expect(attack.stdout).toMatch(/^pid1 \/bin\/busybox$/m);
      expect(attack.stderr).toMatch(/Permission denied/);
      expect(attack.stdout.trim().split('\n').at(-1)).toBe('end');
    } finally {
      await joined.start().catch(() => undefined);
      await joined.wait();
      for (const fd of [...nsFds, devnull]) closeSync(fd);
      expect(env.cli(['rm', '-f', 'target']).code).toBe(0); // here, so that a failed attack check leaves nothing running
    }
    const nodeAfter = statSync(process.execPath);
    expect(nodeAfter.mtimeMs).toBe(nodeBefore.mtimeMs);
    expect(nodeAfter.size).toBe(nodeBefore.size);
    expect(env.leftovers()).toEqual([]);
  });
});

describe.skipIf(!canRunContainers)(`images with symlinks to host paths (integration${skipReason})`, () => {
  let env: HullEnv;
  let hostDir: string;

  beforeAll(async () => {
    env = new HullEnv();
    hostDir = path.join(env.base, 'host-target');
    mkdirSync(path.join(hostDir, 'proc'), { recursive: true });
    mkdirSync(path.join(hostDir, 'dev'), { recursive: true });
    writeFileSync(path.join(hostDir, 'null'), 'host file\n');
    // /proc, /dev, /sys and /etc/hostname point at host paths; a second image keeps /dev a
    // directory but makes /dev/null a symlink to a host file.
    const base = busyboxLayerEntries().filter((e) => !/^(proc|dev|sys)\/$/.test(e.path));
    const evil = [
      ...base,
      { path: 'proc', type: 'symlink' as const, linkname: path.join(hostDir, 'proc') },
      { path: 'dev', type: 'symlink' as const, linkname: path.join(hostDir, 'dev') },
      { path: 'sys', type: 'symlink' as const, linkname: '/sys' },
      { path: 'etc/hostname', type: 'symlink' as const, linkname: path.join(hostDir, 'null') },
      { path: 'etc/hosts', type: 'symlink' as const, linkname: '/etc/hosts' },
      { path: 'etc/resolv.conf', type: 'symlink' as const, linkname: path.join(hostDir, 'dev', 'created-on-host') },
      { path: 'var/escape', type: 'symlink' as const, linkname: path.join(hostDir, 'dev') },
      { path: 'var/escape2', type: 'symlink' as const, linkname: `../../../../../../../..${hostDir}/proc` },
    ];
    const tar1 = path.join(env.base, 'evil1.tar');
    await writeOciImage({ layers: [evil], name: 'evil:symlinks', outTar: tar1 });
    const devNull = [
      ...busyboxLayerEntries(),
      { path: 'dev/null', type: 'symlink' as const, linkname: path.join(hostDir, 'null') },
      { path: 'dev/pts', type: 'symlink' as const, linkname: path.join(hostDir, 'dev') },
    ];
    const tar2 = path.join(env.base, 'evil2.tar');
    await writeOciImage({ layers: [devNull], name: 'evil:devnull', outTar: tar2 });
    for (const t of [tar1, tar2]) expect(env.cli(['load', '-i', t]).code).toBe(0);
  });

  afterAll(() => env.destroy());

  const hostSide = () => [
    ...readdirSync(hostDir, { recursive: true }).map(String).sort(),
    readFileSync(path.join(hostDir, 'null'), 'utf8'),
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(hostDir))
      .join('\n'),
  ];

  it('/proc, /dev, /sys, /etc/hostname, /etc/hosts, /etc/resolv.conf as symlinks to host paths: every mount lands inside the root', () => {
    const before = hostSide();
    const hostsBefore = readFileSync('/etc/hosts', 'utf8');
    const r = env.cli([
      'run',
      '--rm',
      '-h',
      'boxname',
      'evil:symlinks',
      'sh',
      '-c',
      `ls /proc/self/status >/dev/null && echo proc-ok; cat /etc/hostname; grep -c boxname /etc/hosts`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The container got its files, through its own (in-root) copies of the link targets.
    expect(r.stdout).toBe('proc-ok\nboxname\n1\n');
    expect(hostSide()).toEqual(before);
    expect(existsSync(path.join(hostDir, 'dev', 'created-on-host'))).toBe(false);
    expect(readFileSync('/etc/hosts', 'utf8')).toBe(hostsBefore);
    expect(hostSide()[hostSide().length - 1]).toBe('');
    expect(env.leftovers()).toEqual([]);
  });

  it("/dev/null and /dev/pts as symlinks to host paths: hull's /dev replaces them; masks bind the real /dev/null", () => {
    const before = hostSide();
    const r = env.cli(['run', '--rm', 'evil:devnull', 'sh', '-c', 'ls -l /dev/null | cut -c1; wc -c < /proc/timer_list; echo x > /dev/null && echo ok']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('c\n0\nok\n');
    const t = env.cli(['run', '--rm', '-t', 'evil:devnull', 'sh', '-c', 'tty']);
    expect(t.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(hostSide()).toEqual(before);
    expect(env.leftovers()).toEqual([]);
  });

  it("mount targets through symlinks to host paths (a volume's, CVE-2024-45310 class) are resolved inside the root", () => {
    // No -v in this branch: the bundle's config.json gets the mounts a volume would add.
    const source = path.join(env.base, 'volume-source');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'in-volume'), 'volume\n');
    const created = env.cli([
      'create',
      '--name',
      'vol',
      'evil:symlinks',
      'sh',
      '-c',
      `cat ${hostDir}/dev/data/in-volume; ls ${hostDir}/proc/new/deep && echo tmpfs-there; grep -c ' /var/escape ' /proc/self/mountinfo; exit 0`,
    ]);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    const configPath = path.join(env.root, 'containers', id, 'config.json');
    const spec = JSON.parse(readFileSync(configPath, 'utf8')) as RuntimeSpec;
    spec.mounts.push(
      // /var/escape is a symlink to the host's directory; so is /dev in the image (hidden by hull's /dev).
      { destination: '/var/escape/data', type: 'bind', source, options: ['rbind', 'ro'] },
      { destination: '/var/escape2/new/deep', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    );
    writeFileSync(configPath, JSON.stringify(spec));
    const before = hostSide();
    const started = env.cli(['start', 'vol']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(env.cli(['wait', 'vol']).stdout.trim()).toBe('0');
    const logs = env.cli(['logs', 'vol']);
    expect(logs.stdout).toBe('volume\ntmpfs-there\n0\n');
    // Nothing was made or mounted on the host's side of the links.
    expect(hostSide()).toEqual(before);
    expect(existsSync(path.join(hostDir, 'dev', 'data'))).toBe(false);
    expect(existsSync(path.join(hostDir, 'proc', 'new'))).toBe(false);
    expect(env.cli(['rm', 'vol']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
