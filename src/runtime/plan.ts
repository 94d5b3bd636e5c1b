/**
 * The plan builder: a runtime-spec config (plus the layers of its root filesystem) becomes the
 * flat list of steps the native executor runs between clone3 and execve. All policy lives here,
 * in TypeScript, where it is unit-tested; the child only executes what this decides.
 */
import path from 'node:path';
import { RuntimeError, UsageError } from '../errors.js';
import type { NamespaceSet, PlanStep } from '../native/types.js';
import { capabilityMask } from './capabilities.js';
import { mapText } from './userns.js';
import { checkSysctls, sysctlPath } from './sysctls.js';
import type { NamespaceType, RuntimeSpec, SpecMount, SpecProcess } from './spec.js';

// mount(2) flags (linux/mount.h).
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

/** Option word → [flags to set, flags to clear]. Unknown words are passed on as mount data. */
const MOUNT_OPTIONS: Readonly<Record<string, readonly [number, number]>> = {
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  mand: [MS.MANDLOCK, 0],
  nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0],
  atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
  private: [MS.PRIVATE, 0],
  rprivate: [MS.PRIVATE | MS.REC, 0],
  slave: [MS.SLAVE, 0],
  rslave: [MS.SLAVE | MS.REC, 0],
  shared: [MS.SHARED, 0],
  rshared: [MS.SHARED | MS.REC, 0],
  unbindable: [MS.UNBINDABLE, 0],
  runbindable: [MS.UNBINDABLE | MS.REC, 0],
};

/** The mount option words hull understands (`hull-runc features`); others are passed on as mount data. */
export const MOUNT_OPTION_NAMES: readonly string[] = Object.keys(MOUNT_OPTIONS);

export function parseMountOptions(options: readonly string[] | undefined): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const option of options ?? []) {
    const known = MOUNT_OPTIONS[option];
    if (known) {
      flags = (flags | known[0]) & ~known[1];
    } else {
      data.push(option);
    }
  }
  return { flags, data: data.join(',') };
}

/** The layers of a container's root filesystem: overlay lowerdirs (top first), upper, work. */
export interface RootfsLayers {
  /** Lower directories, the TOP layer first (overlay's lowerdir order). Empty for no layers. */
  lower: string[];
  upper: string;
  work: string;
}

/** Default devices (Docker's): [path, major, minor]; all character devices, mode 0666. */
const DEFAULT_DEVICES: readonly (readonly [string, number, number])[] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

const DEFAULT_DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
  ['/proc/kcore', '/dev/core'],
];

const S_IFCHR = 0o020000;

/** CLONE_NEW* of each namespace type (the nstype of setns). */
const NSTYPE: Readonly<Record<NamespaceType, number>> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

/** RLIMIT_* numbers (x86_64 and most architectures). */
const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The namespaces clone3 makes new: those of linux.namespaces without a path. One with a path is
 * joined (see `joinedBeforeClone` and the plan's setns steps); a type that is not listed is the
 * host's.
 */
export function namespacesOf(spec: RuntimeSpec): NamespaceSet {
  const has = (t: NamespaceType) => spec.linux.namespaces.some((n) => n.type === t && n.path === undefined);
  const set: NamespaceSet = { pid: has('pid'), mount: has('mount'), uts: has('uts'), ipc: has('ipc'), net: has('network'), cgroup: has('cgroup') };
  if (has('user')) set.user = true;
  if (has('time')) set.time = true;
  return set;
}

/**
 * Namespaces joined by path that must be entered before the clone: a pid or time namespace is
 * only ever the one of a process's children, so a joiner setns's into them and clones the
 * container's process there (native/launch.cc). Every other one is joined by the process itself,
 * a setns step of its plan.
 */
export function joinedBeforeClone(spec: RuntimeSpec): string[] {
  return spec.linux.namespaces.filter((n) => n.path !== undefined && (n.type === 'pid' || n.type === 'time')).map((n) => n.path as string);
}

/** The setns steps of the namespaces the process joins itself; a user namespace last (joined, it leaves no privilege over the others). */
function setnsSteps(spec: RuntimeSpec): PlanStep[] {
  const joined = spec.linux.namespaces.filter((n) => n.path !== undefined && n.type !== 'pid' && n.type !== 'time');
  joined.sort((a, b) => Number(a.type === 'user') - Number(b.type === 'user'));
  return joined.map((n) => ({ op: 'setns', path: n.path as string, nstype: NSTYPE[n.type] }));
}

/**
 * overlay's mount data, limited to one page. When every lower directory is a link in one
 * directory (the store's `l/`), the mount is made from that directory's parent with relative
 * `l/ID` paths, as Docker does, so that 128 layers fit. Returns [the directory to chdir to, data].
 */
export function overlayMount(rootfs: RootfsLayers): [string | undefined, string] {
  if (rootfs.lower.length === 0) throw new UsageError('an overlay root needs at least one lower directory');
  const dirs = new Set(rootfs.lower.map((l) => path.posix.dirname(l)));
  let cwd: string | undefined;
  let lower = rootfs.lower;
  const [onlyDir] = dirs;
  if (dirs.size === 1 && onlyDir !== undefined && onlyDir !== '/') {
    cwd = path.posix.dirname(onlyDir);
    lower = rootfs.lower.map((l) => path.posix.relative(cwd as string, l));
  }
  const data = `lowerdir=${lower.join(':')},upperdir=${rootfs.upper},workdir=${rootfs.work}`;
  if (data.length >= 4096) throw new UsageError(`overlay mount data is ${data.length} bytes, over the 4096-byte page limit`);
  return [cwd, data];
}

function mountStep(m: SpecMount, isFile: (hostPath: string) => boolean): PlanStep {
  const { flags, data } = parseMountOptions(m.options);
  const isBind = (flags & MS.BIND) !== 0;
  const source = m.source ?? m.type ?? 'none';
  // A bind of a file needs a file to mount on; everything else mounts on a directory.
  const create = isBind && isFile(source) ? 'file' : 'dir';
  return {
    op: 'mount',
    source,
    target: m.destination,
    fstype: isBind ? '' : (m.type ?? ''),
    flags,
    data,
    inRoot: true,
    create,
    optional: false,
  };
}

/**
 * linux.rootfsPropagation → the flags of the first step, made on every mount of the new namespace.
 * Default rprivate; rslave lets host mounts reach slave/shared binds (never the other way). shared
 * and unbindable start private too (the container's mounts must never reach the host, and pivot_root
 * refuses a shared root): the root gets them after pivot_root (rootPropagationAfterPivot).
 */
export function rootPropagationFlags(propagation: string | undefined): number {
  switch (propagation ?? 'rprivate') {
    case 'rprivate':
    case 'shared':
    case 'rshared':
    case 'unbindable':
    case 'runbindable':
      return MS.REC | MS.PRIVATE;
    case 'private':
      return MS.PRIVATE;
    case 'rslave':
      return MS.REC | MS.SLAVE;
    case 'slave':
      return MS.SLAVE;
    default:
      throw new UsageError(
        `rootfsPropagation '${propagation}' is not supported (hull: private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable)`,
      );
  }
}

/** The container's / after pivot_root: shared (a peer group of the container's own, not the host's) or unbindable; undefined for the rest. */
export function rootPropagationAfterPivot(propagation: string | undefined): number | undefined {
  switch (propagation) {
    case 'shared':
      return MS.SHARED;
    case 'rshared':
      return MS.SHARED | MS.REC;
    case 'unbindable':
      return MS.UNBINDABLE;
    case 'runbindable':
      return MS.UNBINDABLE | MS.REC;
    default:
      return undefined;
  }
}

const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
/** runtime-spec's device types: character, block, unbuffered character (a character device to the kernel), fifo. */
const DEVICE_TYPE_BITS: Readonly<Record<string, number>> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

/** linux.devices: mknod in the container's /dev (after pivot_root), with their directories. */
function deviceSteps(spec: RuntimeSpec): PlanStep[] {
  const steps: PlanStep[] = [];
  const dirs = new Set<string>();
  for (const d of spec.linux.devices ?? []) {
    if (!(d.type in DEVICE_TYPE_BITS)) throw new UsageError(`device ${d.path}: type ${d.type} (c, b, u or p)`);
    const dir = path.posix.dirname(d.path);
    if (dir !== '/dev' && dir !== '/' && !dirs.has(dir)) {
      dirs.add(dir);
      steps.push({ op: 'mkdirs', path: dir, mode: 0o755, uid: 0, gid: 0 });
    }
    const mode = DEVICE_TYPE_BITS[d.type]! | ((d.fileMode ?? 0o666) & 0o7777);
    const fifo = d.type === 'p';
    steps.push({ op: 'mknod', path: d.path, mode, major: fifo ? 0 : d.major, minor: fifo ? 0 : d.minor, uid: d.uid ?? 0, gid: d.gid ?? 0 });
  }
  return steps;
}

/** The container's root: the image's layers under a writable upper layer (hull's containers), or a directory (an OCI bundle's). */
export type RootfsSource = RootfsLayers | { directory: string };

export interface PlanOptions {
  /** Create the working directory if it is missing (Docker's behaviour for `run -w`). The bare
   *  runtime (like runc) does not: a spec's cwd must exist. */
  createCwd: boolean;
  /** Files to bind over /etc/hostname, /etc/hosts, /etc/resolv.conf, when the runtime provides them. */
  etcFiles?: { hostname?: string; hosts?: string; resolvConf?: string };
  /** Whether a bind mount's host source is a file (so its target is created as a file). */
  isFile: (hostPath: string) => boolean;
  /** The root file system is mounted at spec.root.path already (by hull, before clone3). */
  rootMounted?: boolean;
  /** The compiled filter for spec.linux.seccomp (seccomp/step.ts compiledFilter); needed when it has one. */
  seccompFilter?: string;
  /** Stdio fds (bit i = fd i) that get the container's own /dev/null (stdio.ts nullStdioMask). */
  nullStdio?: number;
  /** Stop at a hooks point before pivot_root, for the create hooks (prestart, createRuntime, createContainer). */
  hooksPoint?: boolean;
  /** The start gate waits for a reader of this fifo (an OCI create: start comes from another process)
   *  rather than for the parent's byte. */
  startFifo?: string;
  /** Fds 3 … 2+N of the creating process stay open in the container (runc's --preserve-fds). */
  preserveFds?: number;
  /** The mount point that holds a bundle's root directory (oci/rootfs-bind.ts mountPointOf). With
   *  rootfsPropagation shared or rshared only it is made private, not every mount: the spec's binds
   *  of shared host mounts stay peers of the host's (Kubernetes' Bidirectional volumes), while what
   *  the runtime mounts below the root cannot reach the host. */
  rootfsMountPoint?: string;
}

function seccompStep(spec: RuntimeSpec, filter: string | undefined): PlanStep | undefined {
  if (!spec.linux.seccomp) return undefined;
  if (filter === undefined) throw new RuntimeError('the spec has a seccomp profile but no compiled filter was given');
  return { op: 'seccomp', filter };
}

/** runtime-spec config + root layers → the executor's steps, in order. */
export function buildPlan(spec: RuntimeSpec, rootfs: RootfsSource, options: PlanOptions): PlanStep[] {
  const steps: PlanStep[] = [];
  const ns = namespacesOf(spec);
  // Without a mount namespace of its own (the runtime's, or one joined by path) the container's
  // mounts are made in that namespace, below a bind of its root that `delete` detaches (the
  // runtime's) and that leaves the namespace's root alone; the process chroots instead of pivot_root.
  const sharedMountNamespace = !ns.mount;
  if (sharedMountNamespace) {
    if (!('directory' in rootfs)) throw new UsageError('a container with an image root needs its own mount namespace');
    if (!spec.linux.namespaces.some((n) => n.type === 'mount') && ((spec.linux.maskedPaths ?? []).length > 0 || (spec.linux.readonlyPaths ?? []).length > 0)) {
      throw new UsageError('unable to restrict sys entries without a private MNT namespace');
    }
  }
  const proc = spec.process;
  checkSysctls(spec);

  // 0. The OOM killer's preference, while the process still has the host's privileges (lowering it
  // needs CAP_SYS_RESOURCE there). In a new user namespace it has none: a runtime that writes it
  // from the parent (src/oci/) does so; a value that only raises it still works from here.
  if (proc.oomScoreAdj !== undefined && (!ns.user || proc.oomScoreAdj >= 0)) {
    steps.push({ op: 'writeProc', path: '/proc/self/oom_score_adj', value: String(proc.oomScoreAdj) });
  }
  // 0. Into the namespaces joined by path: the network namespace hull made and configured for the
  // container (bridge networks), another container's (container:NAME), a pod's.
  steps.push(...setnsSteps(spec));
  // 0. In a new user namespace the process still has the host's ids: become its root (the maps
  // were written before release), so what it makes belongs to the mapped root on the host.
  if (ns.user) {
    steps.push({ op: 'idMaps', uidMap: mapText(spec.linux.uidMappings ?? []), gidMap: mapText(spec.linux.gidMappings ?? []) });
    steps.push({ op: 'setUser', uid: 0, gid: 0, groups: [] });
  }
  // 1. Nothing we mount propagates back to the host: every mount private (or slave), or with a
  // shared root propagation only the one that holds the root (runc's rootfsParentMountPrivate).
  const sharedRoot = ['shared', 'rshared'].includes(spec.linux.rootfsPropagation ?? '') && 'directory' in rootfs && options.rootfsMountPoint !== undefined;
  if (!sharedMountNamespace)
    steps.push({
      op: 'mount',
      source: '',
      target: sharedRoot ? options.rootfsMountPoint! : '/',
      fstype: '',
      flags: sharedRoot ? MS.PRIVATE : rootPropagationFlags(spec.linux.rootfsPropagation),
      data: '',
      inRoot: false,
      create: 'none',
      optional: false,
    });
  // 2. The root: the image's layers under the container's writable upper layer. When hull has
  // mounted it already (user namespaces: see userns.ts), a bind of it, which this namespace owns
  // (pivot_root refuses a mount inherited from a more privileged namespace).
  if ('directory' in rootfs) {
    // A bundle's root directory: bound onto itself, so that it is a mount point pivot_root takes.
    steps.push({
      op: 'mount',
      source: rootfs.directory,
      target: rootfs.directory,
      fstype: '',
      flags: MS.BIND | MS.REC,
      data: '',
      inRoot: false,
      create: 'none',
      optional: false,
    });
  } else if (options.rootMounted) {
    steps.push({
      op: 'mount',
      source: spec.root.path,
      target: spec.root.path,
      fstype: '',
      flags: MS.BIND,
      data: '',
      inRoot: false,
      create: 'none',
      optional: false,
    });
  } else {
    const [overlayCwd, overlayData] = overlayMount(rootfs);
    if (overlayCwd !== undefined) steps.push({ op: 'chdir', path: overlayCwd });
    steps.push({
      op: 'mount',
      source: 'overlay',
      target: spec.root.path,
      fstype: 'overlay',
      flags: 0,
      data: overlayData,
      inRoot: false,
      create: 'none',
      optional: false,
    });
  }
  // 3. The spec's mounts, resolved inside the root.
  for (const asked of spec.mounts) {
    // A v1 `cgroup` mount (containerd's CRI asks for one at /sys/fs/cgroup): hull's containers have
    // their cgroups in the cgroup2 hierarchy only (on a hybrid host too), so it is that one. Without
    // a cgroup namespace of the container's own it would show the host's whole hierarchy: none then.
    const m = asked.type === 'cgroup' ? { ...asked, type: 'cgroup2' } : asked;
    if (m.type === 'cgroup2' && !ns.cgroup) continue;
    steps.push(mountStep(m, options.isFile));
  }
  const etc = options.etcFiles ?? {};
  for (const [dest, source] of [
    ['/etc/hostname', etc.hostname],
    ['/etc/hosts', etc.hosts],
    ['/etc/resolv.conf', etc.resolvConf],
  ] as const) {
    if (source === undefined || spec.mounts.some((m) => m.destination === dest)) continue;
    steps.push({ op: 'mount', source, target: dest, fstype: '', flags: MS.BIND | MS.PRIVATE, data: '', inRoot: true, create: 'file', optional: false });
  }
  // In a user namespace no device can be made (mknod needs the host's CAP_MKNOD): the host's
  // nodes are bound in, as runc does.
  const hasDev = spec.mounts.some((m) => m.destination === '/dev');
  if (hasDev && ns.user) {
    const nodes = [...DEFAULT_DEVICES.map(([p]) => p), ...(spec.linux.devices ?? []).map((d) => d.path)];
    const sources = JSON.parse(spec.annotations?.['io.hull.device.sources'] ?? '{}') as Record<string, string>;
    for (const node of new Set(nodes)) {
      steps.push({
        op: 'mount',
        source: sources[node] ?? node,
        target: node,
        fstype: '',
        flags: MS.BIND | MS.PRIVATE,
        data: '',
        inRoot: true,
        create: 'file',
        optional: false,
      });
    }
  }
  // The create hooks run here (the namespaces and mounts made, the host's tree still there), and the
  // start fifo, a host path, is opened while it can be reached.
  if (options.hooksPoint) steps.push({ op: 'hooksPoint' });
  if (options.startFifo !== undefined) steps.push({ op: 'openStartFifo', path: options.startFifo });
  // 4. Into the root; the host's tree is detached (in a namespace of the container's own).
  const root = 'directory' in rootfs ? rootfs.directory : spec.root.path;
  steps.push(sharedMountNamespace ? { op: 'chroot', rootfs: root } : { op: 'pivotRoot', rootfs: root });
  const rootPropagation = sharedMountNamespace ? undefined : rootPropagationAfterPivot(spec.linux.rootfsPropagation);
  if (rootPropagation !== undefined) {
    steps.push({ op: 'mount', source: '', target: '/', fstype: '', flags: rootPropagation, data: '', inRoot: false, create: 'none', optional: false });
  }
  // 5. /dev contents.
  if (hasDev) {
    if (!ns.user) for (const [path, major, minor] of DEFAULT_DEVICES) steps.push({ op: 'mknod', path, mode: S_IFCHR | 0o666, major, minor });
    for (const [target, linkPath] of DEFAULT_DEV_SYMLINKS) steps.push({ op: 'symlink', target, linkPath });
    if (!ns.user) steps.push(...deviceSteps(spec));
  }
  if (options.nullStdio) steps.push({ op: 'nullStdio', fds: options.nullStdio });
  // The sysctls, in the container's namespaces, through its own /proc, before /proc/sys is read-only.
  for (const [key, value] of Object.entries(spec.linux.sysctl ?? {})) steps.push({ op: 'writeProc', path: sysctlPath(key), value });
  // 6. Masked and read-only paths.
  for (const path of spec.linux.maskedPaths ?? []) steps.push({ op: 'mask', path });
  for (const path of spec.linux.readonlyPaths ?? []) {
    steps.push({ op: 'remount', target: path, flags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, ignoreMissing: true });
  }
  if (spec.root.readonly) steps.push({ op: 'remount', target: '/', flags: MS.RDONLY, ignoreMissing: false });
  // 7. Identity of the machine.
  if (spec.hostname !== undefined && ns.uts) steps.push({ op: 'sethostname', hostname: spec.hostname });
  if (spec.domainname !== undefined && ns.uts) steps.push({ op: 'setdomainname', domainname: spec.domainname });
  if (ns.net) steps.push({ op: 'loopbackUp' });
  // 8. The terminal, then the working directory.
  if (proc.terminal) {
    steps.push({ op: 'console', rows: proc.consoleSize?.height ?? 0, cols: proc.consoleSize?.width ?? 0 });
  }
  if (options.createCwd && proc.cwd !== '/') steps.push({ op: 'mkdirs', path: proc.cwd, mode: 0o755, uid: 0, gid: 0 });
  steps.push({ op: 'chdir', path: proc.cwd, inRoot: true });
  // 9. Limits and privileges, tightest last.
  for (const r of proc.rlimits ?? []) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new UsageError(`unknown rlimit: ${r.type}`);
    steps.push({ op: 'setrlimit', resource, soft: BigInt(r.soft), hard: BigInt(r.hard) });
  }
  if (proc.noNewPrivileges) steps.push({ op: 'noNewPrivs' });
  const seccomp = seccompStep(spec, options.seccompFilter);
  // The filter is loaded while the process still has CAP_SYS_ADMIN, or (with no_new_privs, as
  // runc) last before execve; Docker's profile allows what the steps in between call.
  // Every fd above stdio close-on-exec before any filter is loaded: a profile need not allow close_range.
  steps.push(options.preserveFds ? { op: 'closeFds', keep: options.preserveFds } : { op: 'closeFds' });
  if (seccomp && !proc.noNewPrivileges) steps.push(seccomp);
  steps.push({ op: 'setUser', uid: proc.user.uid, gid: proc.user.gid, groups: proc.user.additionalGids ?? [] });
  steps.push(capabilitiesAsGiven(proc.capabilities ?? {}));
  // 10. Created: the executable looked up, the gate waits for start (before a seccomp filter that
  // is loaded last, as runc does: the fewer calls after it, the fewer a profile must allow). Then
  // the command.
  const [file] = proc.args;
  if (file === undefined || file === '') throw new UsageError('no command specified');
  steps.push({ op: 'startGate' });
  if (seccomp && proc.noNewPrivileges) steps.push(seccomp);
  const pathVar = proc.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  steps.push({ op: 'exec', file, argv: proc.args, env: proc.env, path: pathVar });
  return steps;
}

export interface ExecPlanOptions {
  args: string[];
  /** The container's env with `-e` entries over it. */
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  consoleSize?: { rows: number; cols: number };
  /** The compiled filter for spec.linux.seccomp, when it has one. */
  seccompFilter?: string;
  /** Stdio fds (bit i = fd i) that get the container's own /dev/null. */
  nullStdio?: number;
  /** The process's capability sets as its spec gives them (an OCI exec), instead of Docker's rule (root: the bounding set; others: none). */
  capabilitiesAsGiven?: boolean;
  /** The container shares a mount namespace (see buildPlan): joining it does not give its root, entered by chroot. */
  chrootTo?: string;
  /** Fds 3 … 2+N of the exec'ing process stay open in the new one (runc's --preserve-fds). */
  preserveFds?: number;
  /** Wait at a start gate before the command, as a container's first process (under hull-monitor: its attached client first). */
  startGate?: boolean;
}

/** The capabilities step with the process's five sets as its spec gives them. */
function capabilitiesAsGiven(caps: NonNullable<SpecProcess['capabilities']>): PlanStep {
  return {
    op: 'capabilities',
    bounding: capabilityMask(caps.bounding),
    effective: capabilityMask(caps.effective),
    permitted: capabilityMask(caps.permitted),
    inheritable: capabilityMask(caps.inheritable),
    ambient: capabilityMask(caps.ambient),
  };
}

/**
 * exec: the steps for a process joining a running container. Its root, mounts and hostname are
 * the container's already; it gets the container's limits and privileges (rlimits, no_new_privs,
 * capabilities), its own user, working directory, environment and terminal.
 */
export function buildExecPlan(spec: RuntimeSpec, opts: ExecPlanOptions): PlanStep[] {
  const proc = spec.process;
  const steps: PlanStep[] = [];
  if (opts.chrootTo !== undefined) steps.push({ op: 'chroot', rootfs: opts.chrootTo });
  if (opts.nullStdio) steps.push({ op: 'nullStdio', fds: opts.nullStdio });
  if (opts.tty) steps.push({ op: 'console', rows: opts.consoleSize?.rows ?? 0, cols: opts.consoleSize?.cols ?? 0, noDevConsole: true });
  steps.push({ op: 'chdir', path: opts.cwd, inRoot: true });
  for (const r of proc.rlimits ?? []) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new UsageError(`unknown rlimit: ${r.type}`);
    steps.push({ op: 'setrlimit', resource, soft: BigInt(r.soft), hard: BigInt(r.hard) });
  }
  if (proc.noNewPrivileges) steps.push({ op: 'noNewPrivs' });
  const seccomp = seccompStep(spec, opts.seccompFilter);
  steps.push(opts.preserveFds ? { op: 'closeFds', keep: opts.preserveFds } : { op: 'closeFds' }); // before any filter, as for the first process
  if (seccomp && !proc.noNewPrivileges) steps.push(seccomp);
  steps.push({ op: 'setUser', uid: opts.user.uid, gid: opts.user.gid, groups: opts.user.additionalGids });
  const caps = proc.capabilities ?? {};
  const isRoot = opts.user.uid === 0;
  steps.push(
    opts.capabilitiesAsGiven
      ? capabilitiesAsGiven(caps)
      : {
          op: 'capabilities',
          bounding: capabilityMask(caps.bounding),
          // As Docker: root gets the container's (bounding) set, another user starts with none effective.
          effective: isRoot ? capabilityMask(caps.bounding) : 0n,
          permitted: isRoot ? capabilityMask(caps.bounding) : 0n,
          inheritable: 0n,
          ambient: 0n,
        },
  );
  if (opts.startGate) steps.push({ op: 'startGate' });
  if (seccomp && proc.noNewPrivileges) steps.push(seccomp);
  const [file] = opts.args;
  if (file === undefined || file === '') throw new UsageError('no command specified');
  const pathVar = opts.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  steps.push({ op: 'exec', file, argv: opts.args, env: opts.env, path: pathVar });
  return steps;
}
