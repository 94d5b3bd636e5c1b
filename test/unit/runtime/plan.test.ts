import { describe, expect, it } from 'vitest';
import { MS, buildPlan, parseMountOptions } from '../../../src/runtime/plan.js';
import { buildSpec } from '../../../src/runtime/specconv.js';
import type { PlanStep } from '../../../src/native/types.js';

const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
const layers = { lower: ['/l/B', '/l/A'], upper: '/c/upper', work: '/c/work' };

function specFor(extra: Partial<Parameters<typeof buildSpec>[0]> = {}) {
  return buildSpec({ image: { config: { Cmd: ['sh'] } }, user: root, hostname: 'box', rootfsPath: '/run/hull/c/rootfs', ...extra });
}

function ops(steps: PlanStep[]): string[] {
  return steps.map((s) => s.op);
}

describe('parseMountOptions', () => {
  it('maps option words to flags and passes the rest as data', () => {
    expect(parseMountOptions(['nosuid', 'noexec', 'mode=755', 'size=65536k'])).toEqual({
      flags: MS.NOSUID | MS.NOEXEC,
      data: 'mode=755,size=65536k',
    });
    expect(parseMountOptions(['rbind', 'ro', 'rprivate']).flags).toBe(MS.BIND | MS.REC | MS.RDONLY | MS.PRIVATE);
    expect(parseMountOptions(['ro', 'rw']).flags).toBe(0);
  });
});

describe('buildPlan', () => {
  it('orders the steps: private /, overlay, mounts, pivot_root, devices, identity, privileges, exec last', () => {
    const steps = buildPlan(specFor(), layers, { createCwd: false, isFile: () => false });
    const o = ops(steps);
    expect(o[0]).toBe('mount');
    expect(steps[0]).toMatchObject({ target: '/', flags: MS.REC | MS.PRIVATE, inRoot: false });
    expect(steps[1]).toEqual({ op: 'chdir', path: '/' });
    expect(steps[2]).toMatchObject({ fstype: 'overlay', target: '/run/hull/c/rootfs', inRoot: false });
    expect((steps[2] as { data: string }).data).toBe('lowerdir=l/B:l/A,upperdir=/c/upper,workdir=/c/work');
    const pivot = o.indexOf('pivotRoot');
    expect(o.slice(3, pivot).every((op) => op === 'mount')).toBe(true);
    expect(steps.slice(3, pivot).every((s) => s.op === 'mount' && s.inRoot)).toBe(true);
    expect(o.indexOf('mknod')).toBeGreaterThan(pivot);
    expect(o.indexOf('sethostname')).toBeGreaterThan(pivot);
    expect(o.indexOf('setUser')).toBeLessThan(o.indexOf('capabilities'));
    expect(o.slice(-3)).toEqual(['capabilities', 'startGate', 'exec']);
    expect(o.indexOf('closeFds')).toBeLessThan(o.indexOf('setUser')); // before any filter: a profile need not allow close_range
  });

  it("without a mount namespace of its own: the namespace's / is left alone, the root is bound and entered by chroot", () => {
    const shared = specFor();
    shared.linux.namespaces = shared.linux.namespaces.filter((n) => n.type !== 'mount');
    shared.linux.maskedPaths = [];
    shared.linux.readonlyPaths = [];
    const steps = buildPlan(shared, { directory: '/b/rootfs' }, { createCwd: false, isFile: () => false });
    expect(steps.some((s) => s.op === 'mount' && s.target === '/')).toBe(false);
    expect(steps[0]).toMatchObject({ op: 'mount', source: '/b/rootfs', target: '/b/rootfs', flags: MS.BIND | MS.REC });
    expect(ops(steps)).not.toContain('pivotRoot');
    expect(steps.find((s) => s.op === 'chroot')).toEqual({ op: 'chroot', rootfs: '/b/rootfs' });
    // Joined by path: the same, after the setns.
    const joined = specFor();
    for (const n of joined.linux.namespaces) if (n.type === 'mount') n.path = '/proc/1/ns/mnt';
    const joinedSteps = buildPlan(joined, { directory: '/b/rootfs' }, { createCwd: false, isFile: () => false });
    expect(joinedSteps[0]).toMatchObject({ op: 'setns', path: '/proc/1/ns/mnt' });
    expect(ops(joinedSteps)).toContain('chroot');
    // runc's rule: masked and read-only paths need a mount namespace; an image's root (overlay) needs its own.
    const masked = specFor();
    masked.linux.namespaces = masked.linux.namespaces.filter((n) => n.type !== 'mount');
    expect(() => buildPlan(masked, { directory: '/b/rootfs' }, { createCwd: false, isFile: () => false })).toThrow(/without a private MNT namespace/);
    expect(() => buildPlan(shared, layers, { createCwd: false, isFile: () => false })).toThrow(/needs its own mount namespace/);
  });

  it('mounts /proc, /dev, /dev/pts (newinstance), /sys read-only, mqueue and shm inside the root', () => {
    const steps = buildPlan(specFor(), layers, { createCwd: false, isFile: () => false });
    const mounts = steps.filter((s): s is Extract<PlanStep, { op: 'mount' }> => s.op === 'mount' && s.inRoot);
    const byTarget = new Map(mounts.map((m) => [m.target, m]));
    expect(byTarget.get('/proc')?.fstype).toBe('proc');
    expect(byTarget.get('/dev/pts')?.data).toContain('newinstance');
    expect((byTarget.get('/sys')?.flags ?? 0) & MS.RDONLY).toBe(MS.RDONLY);
    expect(byTarget.get('/dev/mqueue')?.fstype).toBe('mqueue');
    expect(byTarget.get('/dev/shm')?.data).toContain('mode=1777');
  });

  it("mounts containerd's v1 `cgroup` at /sys/fs/cgroup as the cgroup2 hierarchy, and only in a cgroup namespace of the container's own", () => {
    const cri = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
    const own = specFor();
    own.mounts = [...own.mounts.filter((m) => m.destination !== '/sys/fs/cgroup'), cri];
    const step = buildPlan(own, layers, { createCwd: false, isFile: () => false }).find((s) => s.op === 'mount' && s.target === '/sys/fs/cgroup');
    expect(step).toMatchObject({ fstype: 'cgroup2', source: 'cgroup', flags: parseMountOptions(cri.options).flags, inRoot: true });
    const hostCgroupns = specFor();
    hostCgroupns.linux.namespaces = hostCgroupns.linux.namespaces.filter((n) => n.type !== 'cgroup');
    hostCgroupns.mounts = [...hostCgroupns.mounts.filter((m) => m.destination !== '/sys/fs/cgroup'), cri];
    expect(buildPlan(hostCgroupns, layers, { createCwd: false, isFile: () => false }).some((s) => s.op === 'mount' && s.target === '/sys/fs/cgroup')).toBe(
      false,
    );
  });

  it("with a shared root propagation and a bundle root, makes only the mount holding the root private (the spec's shared binds stay peers of the host's)", () => {
    const spec = specFor();
    spec.linux.rootfsPropagation = 'rshared';
    const bundle = { directory: '/b/rootfs' };
    const shared = buildPlan(spec, bundle, { createCwd: false, isFile: () => false, rootfsMountPoint: '/b/rootfs' });
    expect(shared[0]).toMatchObject({ op: 'mount', source: '', target: '/b/rootfs', flags: MS.PRIVATE, inRoot: false });
    const beforePivot = shared.slice(
      0,
      shared.findIndex((s) => s.op === 'pivotRoot'),
    );
    expect(beforePivot.some((s) => s.op === 'mount' && s.target === '/' && s.source === '')).toBe(false);
    // the root itself is shared after pivot_root, as asked
    const afterPivot = shared.slice(shared.findIndex((s) => s.op === 'pivotRoot') + 1)[0];
    expect(afterPivot).toMatchObject({ op: 'mount', target: '/', flags: MS.SHARED | MS.REC });
    // without the mount point (hull's own image roots), or another propagation: every mount private first
    expect(buildPlan(spec, bundle, { createCwd: false, isFile: () => false })[0]).toMatchObject({ target: '/', flags: MS.REC | MS.PRIVATE });
    spec.linux.rootfsPropagation = 'rslave';
    expect(buildPlan(spec, bundle, { createCwd: false, isFile: () => false, rootfsMountPoint: '/b/rootfs' })[0]).toMatchObject({
      target: '/',
      flags: MS.REC | MS.SLAVE,
    });
  });

  it("binds the runtime's /etc files as files", () => {
    const steps = buildPlan(specFor(), layers, {
      createCwd: false,
      etcFiles: { hostname: '/run/x/hostname', hosts: '/run/x/hosts', resolvConf: '/run/x/resolv.conf' },
      isFile: () => true,
    });
    const etc = steps.filter((s) => s.op === 'mount' && s.target.startsWith('/etc/'));
    expect(etc.map((s) => (s as { target: string }).target)).toEqual(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
    expect(etc.every((s) => s.op === 'mount' && s.create === 'file' && (s.flags & MS.BIND) !== 0)).toBe(true);
  });

  it('adds a console step only for a terminal, with the window size', () => {
    expect(ops(buildPlan(specFor(), layers, { createCwd: false, isFile: () => false }))).not.toContain('console');
    const spec = specFor({ tty: true, consoleSize: { rows: 40, cols: 120 } });
    const steps = buildPlan(spec, layers, { createCwd: false, isFile: () => false });
    expect(steps.find((s) => s.op === 'console')).toEqual({ op: 'console', rows: 40, cols: 120 });
  });

  it('creates the working directory only when asked (Docker run), never in the bare runtime', () => {
    const spec = specFor({ workdir: '/srv/app' });
    expect(ops(buildPlan(spec, layers, { createCwd: false, isFile: () => false }))).not.toContain('mkdirs');
    const steps = buildPlan(spec, layers, { createCwd: true, isFile: () => false });
    expect(steps.find((s) => s.op === 'mkdirs')).toMatchObject({ path: '/srv/app' });
    expect(steps.filter((s) => s.op === 'chdir').at(-1)).toEqual({ op: 'chdir', path: '/srv/app', inRoot: true });
  });

  it('carries capabilities as masks, rlimits and no_new_privs', () => {
    const spec = specFor();
    spec.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }];
    spec.process.noNewPrivileges = true;
    const steps = buildPlan(spec, layers, { createCwd: false, isFile: () => false });
    const caps = steps.find((s) => s.op === 'capabilities');
    // CAP_CHOWN (0) is in Docker's default set, CAP_SYS_ADMIN (21) is not.
    expect(caps && caps.op === 'capabilities' && caps.bounding & 1n).toBe(1n);
    expect(caps && caps.op === 'capabilities' && caps.bounding & (1n << 21n)).toBe(0n);
    expect(steps.find((s) => s.op === 'setrlimit')).toEqual({ op: 'setrlimit', resource: 7, soft: 1024n, hard: 2048n });
    expect(ops(steps)).toContain('noNewPrivs');
  });

  it("searches the container's PATH for a bare command", () => {
    const spec = specFor({ env: ['PATH=/opt/bin:/bin'], cmd: ['app', '-v'] });
    const exec = buildPlan(spec, layers, { createCwd: false, isFile: () => false }).at(-1);
    expect(exec).toMatchObject({ op: 'exec', file: 'app', argv: ['app', '-v'], path: '/opt/bin:/bin' });
  });

  it('refuses overlay mount data over one page', () => {
    const many = { ...layers, lower: Array.from({ length: 200 }, (_, i) => `/var/lib/hull/layers/${String(i).padStart(64, '0')}/diff`) };
    expect(() => buildPlan(specFor(), many, { createCwd: false, isFile: () => false })).toThrow(/4096-byte page limit/);
  });

  it('fits 128 short layer links in one page', () => {
    const many = { ...layers, lower: Array.from({ length: 128 }, (_, i) => `/var/lib/hull/l/${String(i).padStart(26, 'A')}`) };
    const steps = buildPlan(specFor(), many, { createCwd: false, isFile: () => false });
    expect(steps[1]).toEqual({ op: 'chdir', path: '/var/lib/hull' });
    expect((steps[2] as { data: string }).data).toMatch(/^lowerdir=l\/A+0:l\/A+1:/);
  });

  it('keeps absolute lower paths when they are not links in one directory', () => {
    const mixed = { ...layers, lower: ['/a/x/diff', '/b/y/diff'] };
    const steps = buildPlan(specFor(), mixed, { createCwd: false, isFile: () => false });
    expect((steps[1] as { data: string }).data).toBe('lowerdir=/a/x/diff:/b/y/diff,upperdir=/c/upper,workdir=/c/work');
  });
});

describe('buildPlan: sysctls, the domain name, the OOM score (issue 17)', () => {
  it("writes each sysctl through the container's /proc after pivot_root, before /proc/sys is read-only; the domain name after the host name", () => {
    const spec = specFor();
    spec.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100' };
    spec.domainname = 'example.org';
    const steps = buildPlan(spec, layers, { createCwd: false, isFile: () => false });
    const o = ops(steps);
    const writes = steps.filter((s) => s.op === 'writeProc');
    expect(writes).toEqual([
      { op: 'writeProc', path: '/proc/sys/net/ipv4/ip_forward', value: '1' },
      { op: 'writeProc', path: '/proc/sys/kernel/shmmax', value: '100' },
    ]);
    const first = steps.indexOf(writes[0]!);
    expect(first).toBeGreaterThan(o.indexOf('pivotRoot'));
    const procSysReadOnly = steps.findIndex((s) => s.op === 'remount' && s.target === '/proc/sys');
    expect(procSysReadOnly).toBeGreaterThan(steps.indexOf(writes[1]!));
    expect(steps[o.indexOf('setdomainname')]).toEqual({ op: 'setdomainname', domainname: 'example.org' });
    expect(o.indexOf('setdomainname')).toBeGreaterThan(o.indexOf('sethostname'));
  });

  it("refuses a sysctl the container's namespaces do not cover, and a key that could leave /proc/sys", () => {
    const host = specFor();
    host.linux.namespaces = host.linux.namespaces.filter((n) => n.type !== 'network' && n.type !== 'ipc');
    host.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    expect(() => buildPlan(host, layers, { createCwd: false, isFile: () => false })).toThrow(
      'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
    );
    host.linux.sysctl = { 'kernel.shmmax': '1' };
    expect(() => buildPlan(host, layers, { createCwd: false, isFile: () => false })).toThrow(
      'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace',
    );
    const own = specFor();
    own.linux.sysctl = { 'vm.swappiness': '1' };
    expect(() => buildPlan(own, layers, { createCwd: false, isFile: () => false })).toThrow('sysctl "vm.swappiness" is not in a separate kernel namespace');
    own.linux.sysctl = { 'net..ipv4': '1' };
    expect(() => buildPlan(own, layers, { createCwd: false, isFile: () => false })).toThrow("invalid sysctl key 'net..ipv4'");
    own.linux.sysctl = { 'net/../../x': '1' };
    expect(() => buildPlan(own, layers, { createCwd: false, isFile: () => false })).toThrow(/invalid sysctl key/);
  });

  it("writes oom_score_adj first, with the host's privileges; in a new user namespace only a value that raises it", () => {
    const spec = specFor();
    spec.process.oomScoreAdj = -200;
    expect(buildPlan(spec, layers, { createCwd: false, isFile: () => false })[0]).toEqual({ op: 'writeProc', path: '/proc/self/oom_score_adj', value: '-200' });
    spec.linux.namespaces.push({ type: 'user' });
    spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    expect(buildPlan(spec, layers, { createCwd: false, isFile: () => false }).some((s) => s.op === 'writeProc')).toBe(false);
    spec.process.oomScoreAdj = 300;
    expect(buildPlan(spec, layers, { createCwd: false, isFile: () => false })[0]).toEqual({ op: 'writeProc', path: '/proc/self/oom_score_adj', value: '300' });
  });
});
