/**
 * An OCI runtime over bundles (runtime-spec runtime.md's operations): create, start, state, kill,
 * delete — the core `hull-runc` puts runc's command line on, and that containerd drives. It uses
 * the one launch core: the bundle's config.json read and checked once (spec-read.ts), the plan
 * builder, the one launcher. After `create` the container's first process is in all its namespaces
 * and its cgroup with every mount done, waiting at its start gate before execve; `start`, from any
 * process, opens the state directory's start fifo to let it through (as runc's exec.fifo).
 *
 * Its state, per container, under the runtime's root (default /run/hull-runc):
 *
 *   <root>/<id>/state.json   id, bundle, rootfs, pid + start time, cgroup, creation time, annotations
 *   <root>/<id>/config.json  the bundle's config as it was created (the hooks of start and delete)
 *   <root>/<id>/exec.fifo    there while the container is created and not started
 *
 * The container's stdio are the caller's fds (runc's contract with its caller: the shim passes its
 * pipes); the creating process may exit at once: the container does not depend on it.
 */
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError, HullError, RuntimeError, UsageError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';
import { ContainerCgroup, cgroupHost, requireCgroup2 } from '../runtime/cgroups.js';
import { checkControllers, dropUnavailableWeights } from '../runtime/cgroups/index.js';
import { attachDeviceFilter } from '../runtime/devices.js';
import { defaultDeviceRules } from '../runtime/devices-bpf.js';
import { type HookKind, type OciState, hasCreateHooks, hookKinds, runHooks, runHooksWarning } from '../runtime/hooks.js';
import { isSameProcess, openProcess, processStartTime } from '../runtime/liveness.js';
import { buildExecPlan, buildPlan, joinedBeforeClone, namespacesOf } from '../runtime/plan.js';
import { ContainerProcess, exitCodeOf } from '../runtime/process.js';
import { isHostFile } from '../runtime/runtime.js';
import { compiledFilter } from '../runtime/seccomp/step.js';
import { OCI_VERSION, type RuntimeSpec, type SpecProcess, type SpecResources } from '../runtime/spec.js';
import { readSpec } from '../runtime/spec-read.js';
import { cgroupPids } from '../runtime/stats.js';
import { namespacesToJoin, openNamespaces } from '../runtime/namespaces.js';
import { detachRootfsBind, mountPointOf, topMountAt } from './rootfs-bind.js';

export const DEFAULT_OCI_ROOT = '/run/hull-runc';
/** Where a container without linux.cgroupsPath gets its cgroup (under the cgroup2 root). */
const DEFAULT_CGROUP_PARENT = 'hull-runc';
const ID_RE = /^[\w+.-]+$/;
const SIGKILL = 9;
const S_IFIFO = 0o010000;

export interface OciRuntimeOptions {
  /** The runtime's state directory. */
  root?: string;
  /** linux.cgroupsPath is systemd's `slice:prefix:name` (runc's --systemd-cgroup), mapped onto cgroupfs paths. */
  systemdCgroup?: boolean;
}

export interface OciCreateOptions {
  /** The bundle directory (its config.json, its root). */
  bundle: string;
  /** Written (atomically, no trailing newline) with the container's pid before create returns. */
  pidFile?: string;
  /** The container's fds 0, 1, 2 (default: this process's own, runc's contract). */
  stdio?: [number, number, number];
  /** process.terminal: the unix socket that receives the pty's master (SCM_RIGHTS, `/dev/ptmx` as the data). */
  consoleSocket?: string;
  /** Fds 3 … 2+N of this process stay open in the container (runc's --preserve-fds). */
  preserveFds?: number;
}

export interface OciExecOptions {
  /** The process to run (runtime-spec's process object: `exec --process`, or one made from the container's). */
  process: SpecProcess;
  /** Written (atomically, no trailing newline) with the process's pid once it has execve'd. */
  pidFile?: string;
  /** process.terminal: the unix socket that receives the pty's master. */
  consoleSocket?: string;
  /** The process does not depend on this one (hull-runc exits; the caller, a subreaper, inherits it). */
  detach?: boolean;
  /** Its fds 0, 1, 2 (default: this process's own). */
  stdio?: [number, number, number];
  /** Fds 3 … 2+N of this process stay open in it (runc's --preserve-fds). */
  preserveFds?: number;
}

/** A process started in a container by `exec`. */
export interface OciExecProcess {
  pid: number;
  /** Its exit code once it ends (128 + N for a signal). */
  wait(): Promise<number>;
}

/**
 * What the runtime records of a container. hull-runc's native front (native/runc-front.cc) reads it
 * too, strictly: a container whose state has a key it does not know goes to Node. `cgroup.path`
 * (the cgroup's directory) and `hooks` (the kinds of hook its config has: start and delete with
 * hooks go to Node) are there for it; a container made without them is served by Node.
 */
interface SavedState {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  pidStartTime: number | undefined;
  created: string;
  cgroup: { parent: string; name: string; path?: string };
  annotations?: Record<string, string>;
  hooks?: HookKind[];
  /** The container has no mount namespace of its own: its root's bind in the runtime's, over the mount with this id (none: null), detached by delete (the native front does not know it: Node serves such a container). */
  hostRootfsMount?: { below: number | null };
}

/** `state`'s answer: runtime-spec's state, with runc's extra fields. */
export interface OciContainerState extends OciState {
  rootfs: string;
  created: string;
}

export class OciRuntime {
  readonly root: string;
  private readonly systemdCgroup: boolean;

  constructor(opts: OciRuntimeOptions = {}) {
    this.root = path.resolve(opts.root ?? DEFAULT_OCI_ROOT);
    this.systemdCgroup = opts.systemdCgroup ?? false;
  }

  private dir(id: string): string {
    if (!ID_RE.test(id) || id === '.' || id === '..') throw new UsageError(`invalid id format: ${id}`);
    return path.join(this.root, id);
  }

  private fifo(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  private load(id: string): SavedState {
    const file = path.join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError(id, 'container does not exist');
      throw fromNodeError(err, 'read', file);
    }
    return JSON.parse(text) as SavedState;
  }

  private spec(id: string): RuntimeSpec {
    return readSpec(path.join(this.dir(id), 'config.json'));
  }

  private statusOf(s: SavedState): OciState['status'] {
    if (!isSameProcess(s.pid, s.pidStartTime)) return 'stopped';
    if (existsSync(this.fifo(s.id))) return 'created';
    return this.cgroup(s)?.frozen() ? 'paused' : 'running';
  }

  private ociState(s: SavedState, status: OciState['status']): OciState {
    return {
      ociVersion: OCI_VERSION,
      id: s.id,
      status,
      pid: status === 'stopped' ? 0 : s.pid,
      bundle: s.bundle,
      ...(s.annotations ? { annotations: s.annotations } : {}),
    };
  }

  /** The container's state (runtime-spec's `state`). */
  state(id: string): OciContainerState {
    const s = this.load(id);
    return { ...this.ociState(s, this.statusOf(s)), rootfs: s.rootfs, created: s.created };
  }

  /** The process the container was created with (a copy: `exec` without --process starts from it). */
  processOf(id: string): SpecProcess {
    this.load(id);
    return structuredClone(this.spec(id).process);
  }

  /** Every container in the runtime's root. */
  list(): OciContainerState[] {
    let ids: string[] = [];
    try {
      ids = readdirSync(this.root);
    } catch {
      return [];
    }
    const out: OciContainerState[] = [];
    for (const id of ids) {
      try {
        out.push(this.state(id));
      } catch (err) {
        if (!(err instanceof ContainerNotFoundError)) throw err; // being created or deleted
      }
    }
    return out;
  }

  /**
   * Create the container from its bundle: its process in its namespaces and cgroup, every mount
   * done, the create hooks run, waiting at its start gate. A failure (a create hook's too) leaves
   * nothing: the process, its cgroup and its state go, and the poststop hooks run.
   */
  async create(id: string, opts: OciCreateOptions): Promise<OciContainerState & { warnings: string[] }> {
    const { state, warnings } = await this.createProcess(id, opts);
    return { ...state, warnings };
  }

  /**
   * `run`: create, start, and wait for the container's first process to end (it is this process's
   * child), then delete it; resolves with its exit code (128 + N for a signal, as a shell reports it).
   */
  async run(id: string, opts: OciCreateOptions): Promise<{ exitCode: number; warnings: string[] }> {
    const created = await this.createProcess(id, opts);
    const { proc } = created;
    let warnings: string[] = created.warnings;
    let status;
    try {
      warnings = await this.start(id);
      status = await proc.wait({ holdEventLoop: true });
    } finally {
      warnings = [...warnings, ...(await this.delete(id, { force: true }))];
    }
    return { exitCode: exitCodeOf(status), warnings };
  }

  private async createProcess(id: string, opts: OciCreateOptions): Promise<{ state: OciContainerState; proc: ContainerProcess; warnings: string[] }> {
    const dir = this.dir(id);
    // 0711: a container in a user namespace of its own opens its start fifo below it as nobody (runc's mode too).
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`container with id exists: ${id}`);
      throw fromNodeError(err, 'mkdir', dir);
    }
    const bundle = path.resolve(opts.bundle);
    let cgroup: ContainerCgroup | undefined;
    let proc: ContainerProcess | undefined;
    let spec: RuntimeSpec | undefined;
    let hostRootfsMount: SavedState['hostRootfsMount'];
    let rootfs = '';
    const state: OciState = { ociVersion: OCI_VERSION, id, status: 'creating', bundle };
    const warnings: string[] = [];
    try {
      spec = readSpec(path.join(bundle, 'config.json'));
      if (spec.annotations) state.annotations = spec.annotations;
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
      rootfs = path.resolve(bundle, spec.root.path);
      if (!statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`rootfs (${JSON.stringify(rootfs)}) does not exist`);
      const terminal = spec.process.terminal ?? false;
      if (terminal && opts.consoleSocket === undefined) throw new UsageError('cannot allocate tty if runc will detach without setting console socket');
      if (!terminal && opts.consoleSocket !== undefined) throw new UsageError('cannot use console socket if runc will not detach or allocate tty');
      sys.mknod(this.fifo(id), S_IFIFO | 0o622, 0, 0);
      // The fifo's mode: a container whose user is not root opens it for writing at its gate.
      chmodSync(this.fifo(id), 0o622);
      // Recorded before the process can mount anything: the rollback and delete detach only what is over it.
      if (!spec.linux.namespaces.some((n) => n.type === 'mount')) hostRootfsMount = { below: topMountAt(rootfs) };
      const { parent, name } = cgroupOf(id, this.systemdCgroup ? systemdCgroupPath(id, spec.linux.cgroupsPath) : spec.linux.cgroupsPath);
      const host = cgroupHost();
      const { resources, warnings: dropped } = dropUnavailableWeights(spec.linux.resources, host.root, host.mode);
      warnings.push(...dropped);
      checkControllers(resources, host.root, host.mode);
      const cgroupRoot = requireCgroup2(host);
      cgroup = await ContainerCgroup.create(cgroupRoot, name, parent);
      cgroup.applyResources(cgroupRoot, parent, resources);
      attachDeviceFilter(cgroup.path, withStandardDevices(spec));
      const steps = buildPlan(
        spec,
        { directory: rootfs },
        {
          createCwd: false,
          isFile: isHostFile,
          seccompFilter: spec.linux.seccomp ? await compiledFilter(spec.linux.seccomp) : undefined,
          hooksPoint: hasCreateHooks(spec.hooks),
          startFifo: this.fifo(id),
          rootfsMountPoint: mountPointOf(rootfs),
          ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
        },
      );
      const cgroupFd = cgroup.openFd();
      try {
        proc = ContainerProcess.spawn({
          plan: { namespaces: namespacesOf(spec), rootfs, terminal, parentDeathSignal: 0, joinPaths: joinedBeforeClone(spec), steps },
          cgroupFd,
          stdio: opts.stdio ?? [0, 1, 2],
          keepAlive: false, // the container does not keep its creator alive (hull-runc exits after create)
        });
      } finally {
        closeSync(cgroupFd);
      }
      state.pid = proc.pid;
      // The plan's first step writes it (buildPlan), except a lowering in a new user namespace, which has no privilege there.
      const adj = spec.process.oomScoreAdj;
      if (adj !== undefined && adj < 0 && namespacesOf(spec).user) writeOomScoreAdj(proc.pid, adj);
      let stage = await proc.go();
      if (stage === 'hooks') {
        await runHooks('prestart', spec.hooks, { state });
        await runHooks('createRuntime', spec.hooks, { state });
        await runHooks('createContainer', spec.hooks, { state, container: { pid: proc.pid, namespaces: namespacesToJoin(spec) } });
        stage = await proc.continueAfterHooks();
      }
      if (stage !== 'ready') throw new RuntimeError(`the container's process reached ${stage}, not its start gate`);
      if (opts.consoleSocket !== undefined) {
        const pty = proc.consoleFd;
        if (pty === undefined) throw new RuntimeError("the container's process sent no pty master");
        try {
          sys.sendFdTo(path.resolve(opts.consoleSocket), pty, '/dev/ptmx');
        } finally {
          closeSync(pty);
        }
      }
      const saved: SavedState = {
        id,
        bundle,
        rootfs,
        pid: proc.pid,
        pidStartTime: processStartTime(proc.pid),
        created: new Date().toISOString(),
        cgroup: { parent, name, path: cgroup.path },
        ...(spec.annotations ? { annotations: spec.annotations } : {}),
        hooks: hookKinds(spec.hooks),
        ...(hostRootfsMount ? { hostRootfsMount } : {}),
      };
      writeAtomic(path.join(dir, 'state.json'), JSON.stringify(saved));
      if (opts.pidFile !== undefined) writeAtomic(path.resolve(opts.pidFile), String(proc.pid));
      return { state: { ...this.ociState(saved, 'created'), rootfs, created: saved.created }, proc, warnings };
    } catch (err) {
      if (proc) {
        proc.signal(SIGKILL);
        await proc.wait({ holdEventLoop: true });
      }
      await cgroup?.remove();
      if (hostRootfsMount) detachRootfsBind(rootfs, hostRootfsMount.below);
      // As delete would (runtime-spec: a failed create continues at delete): the poststop hooks.
      if (proc && spec) await runHooksWarning('poststop', spec.hooks, { state: { ...state, status: 'stopped' } });
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Start a created container: its startContainer hooks (in its namespaces), then its start gate
   * opened; its poststart hooks after. Returns the poststart hooks' warnings.
   */
  async start(id: string): Promise<string[]> {
    const s = this.load(id);
    const status = this.statusOf(s);
    if (status === 'stopped') throw new ConflictError('cannot start a container that has stopped');
    if (status === 'running') throw new ConflictError('cannot start an already running container');
    const spec = this.spec(id);
    try {
      await runHooks('startContainer', spec.hooks, { state: this.ociState(s, 'created'), container: { pid: s.pid, namespaces: namespacesToJoin(spec) } });
    } catch (err) {
      await this.killProcess(s);
      throw err;
    }
    await this.openGate(s);
    return runHooksWarning('poststart', spec.hooks, { state: this.ociState(s, 'running') });
  }

  /**
   * Opens the start fifo and reads the byte the container writes as it passes its gate. Opened for
   * reading and writing, the fifo never reports end of file while the container opens it; the read
   * is on the event loop, raced against the container's end (a pidfd), so nothing polls.
   */
  private async openGate(s: SavedState): Promise<void> {
    const fifo = this.fifo(s.id);
    // The process first: once the fifo is open the container may pass, run and end at once.
    const pidfd = await openProcess(s.pid, s.pidStartTime);
    if (pidfd === undefined) throw new ConflictError('cannot start a container that has stopped');
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (err) {
      closeSync(pidfd);
      throw fromNodeError(err, 'open', fifo);
    }
    const reader = new net.Socket({ fd, readable: true, writable: false });
    const raceOver = new AbortController();
    try {
      let gotByte = false;
      const passed = new Promise<boolean>((resolve) =>
        reader.once('data', () => {
          gotByte = true;
          resolve(true);
        }),
      );
      const ended = sys.pidfdWait(pidfd, -1, raceOver.signal).then(() => false);
      if (!(await Promise.race([passed, ended]))) {
        // A container that passes its gate and ends at once (a child of this process: `run`) can be
        // seen ending first: its byte is then in the fifo, or read and about to be emitted.
        await new Promise((resolve) => setImmediate(resolve));
        if (!gotByte && !wroteAtGate(fd)) throw new ConflictError('cannot start a container that has stopped');
      }
    } finally {
      raceOver.abort();
      reader.destroy();
      closeSync(pidfd);
    }
    rmSync(fifo, { force: true });
  }

  /**
   * Run another process in the container: it joins every namespace of the container's first
   * process and its cgroup, with the container's seccomp filter and the process's own user,
   * capabilities, rlimits, environment, directory and terminal. Resolves once it has execve'd (a
   * missing executable fails here); it is non-dumpable until then. Detached, it resolves once the
   * executable is found, and the process goes on to execve as the caller exits.
   */
  async exec(id: string, opts: OciExecOptions): Promise<OciExecProcess> {
    const s = this.load(id);
    const status = this.statusOf(s);
    if (status === 'stopped') throw new ConflictError('cannot exec in a stopped container');
    if (status === 'paused') throw new ConflictError('cannot exec in a paused container');
    const spec = this.spec(id);
    const p = opts.process;
    const terminal = p.terminal ?? false;
    if (terminal && opts.consoleSocket === undefined) throw new UsageError('cannot allocate tty if runc will detach without setting console socket');
    if (!terminal && opts.consoleSocket !== undefined) throw new UsageError('cannot use console socket if runc will not detach or allocate tty');
    const namespaceFds = openNamespaces(s.pid, namespacesToJoin(spec), { startTime: s.pidStartTime });
    if (namespaceFds === undefined) throw new ConflictError('cannot exec in a stopped container');
    let cgroupFd = -1;
    try {
      cgroupFd = this.cgroup(s)?.openFd() ?? -1;
      const steps = buildExecPlan(
        { ...spec, process: p },
        {
          args: p.args,
          env: p.env ?? [],
          cwd: p.cwd,
          user: { uid: p.user.uid, gid: p.user.gid, additionalGids: p.user.additionalGids ?? [] },
          tty: terminal,
          ...(p.consoleSize ? { consoleSize: { rows: p.consoleSize.height, cols: p.consoleSize.width } } : {}),
          seccompFilter: spec.linux.seccomp ? await compiledFilter(spec.linux.seccomp) : undefined,
          capabilitiesAsGiven: true,
          ...(namespacesOf(spec).mount ? {} : { chrootTo: s.rootfs }),
          ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
        },
      );
      // Detached (the runc shim's `exec --detach`), the process waits at a gate, its executable
      // found, until its pid file is written and this process is about to exit: containerd 1.6's
      // shim drops the exit of a process that ends before it has read the pid file (it learns the
      // pid only once the runtime has exited), and an exec of `true` would then never end for it.
      if (opts.detach) steps.splice(steps.length - 1, 0, { op: 'startGate' });
      const none = { pid: false, mount: false, uts: false, ipc: false, net: false, cgroup: false };
      const proc = ContainerProcess.spawn({
        plan: { namespaces: none, rootfs: s.rootfs, terminal, parentDeathSignal: 0, steps },
        cgroupFd,
        stdio: opts.stdio ?? [0, 1, 2],
        joinNamespaceFds: namespaceFds,
        keepAlive: !(opts.detach ?? false),
      });
      const { consoleFd } = await (opts.detach ? proc.go().then(() => ({ consoleFd: proc.consoleFd })) : proc.start()).catch(async (err: unknown) => {
        await proc.wait({ holdEventLoop: true }); // reaped, or it would stay a zombie
        throw err;
      });
      if (opts.consoleSocket !== undefined && consoleFd !== undefined) {
        try {
          sys.sendFdTo(path.resolve(opts.consoleSocket), consoleFd, '/dev/ptmx');
        } finally {
          closeSync(consoleFd);
        }
      }
      if (opts.pidFile !== undefined) writeAtomic(path.resolve(opts.pidFile), String(proc.pid));
      // past the gate to execve; the caller exits now, not waiting for it
      if (opts.detach) proc.release();
      return {
        pid: proc.pid,
        wait: async () => {
          return exitCodeOf(await proc.wait({ holdEventLoop: true }));
        },
      };
    } finally {
      for (const fd of namespaceFds) closeSync(fd);
      if (cgroupFd >= 0) closeSync(cgroupFd);
    }
  }

  /** Send `signal` to the container's first process (`all`: to every process in its cgroup). */
  async kill(id: string, signal: number, opts: { all?: boolean } = {}): Promise<void> {
    const s = this.load(id);
    if (opts.all) {
      const cgroup = this.cgroup(s);
      for (const pid of cgroup ? cgroupPids(cgroup.path) : []) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone meanwhile
        }
      }
      return;
    }
    const fd = this.statusOf(s) === 'stopped' ? undefined : await openProcess(s.pid, s.pidStartTime);
    if (fd === undefined) throw new ConflictError('container not running');
    try {
      sys.pidfdSignal(fd, signal);
    } catch (err) {
      if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
    } finally {
      closeSync(fd);
    }
  }

  /** Freeze every process of a running container (its cgroup). */
  async pause(id: string): Promise<void> {
    const s = this.load(id);
    const status = this.statusOf(s);
    if (status === 'paused') throw new ConflictError('container already paused');
    if (status !== 'running') throw new ConflictError('container not running');
    await this.requireCgroup(s).setFrozen(true);
  }

  /** Thaw a paused container. */
  async resume(id: string): Promise<void> {
    const s = this.load(id);
    if (this.statusOf(s) !== 'paused') throw new ConflictError('container not paused');
    await this.requireCgroup(s).setFrozen(false);
  }

  /**
   * Change a created, running or paused container's resources: written to its cgroup (a controller
   * the host lacks is an error naming it, a relative weight is dropped: the warnings), and kept in its
   * saved config, merged section by section.
   */
  async update(id: string, resources: SpecResources): Promise<string[]> {
    const s = this.load(id);
    if (this.statusOf(s) === 'stopped') throw new ConflictError('container not running');
    const host = cgroupHost();
    // as at create: a relative weight the host cannot apply is dropped with a warning, a limit is refused
    const { resources: applied, warnings } = dropUnavailableWeights(resources, host.root, host.mode);
    checkControllers(applied, host.root, host.mode);
    const cgroupRoot = requireCgroup2(host);
    const cgroup = this.requireCgroup(s);
    cgroup.applyResources(cgroupRoot, s.cgroup.parent, applied);
    const spec = this.spec(id);
    // runc's merge: section by section, nothing derived (hull's own `update` adds Docker's swap rule: mergeResources).
    const old = spec.linux.resources ?? {};
    spec.linux.resources = {
      ...old,
      ...resources,
      ...(resources.memory ? { memory: { ...old.memory, ...resources.memory } } : {}),
      ...(resources.cpu ? { cpu: { ...old.cpu, ...resources.cpu } } : {}),
      ...(resources.blockIO ? { blockIO: { ...old.blockIO, ...resources.blockIO } } : {}),
    };
    writeAtomic(path.join(this.dir(id), 'config.json'), JSON.stringify(spec));
    return warnings;
  }

  /** The pids of every process in the container's cgroup (as the host sees them). */
  pids(id: string): number[] {
    const s = this.load(id);
    const cgroup = this.cgroup(s);
    return cgroup ? cgroupPids(cgroup.path) : [];
  }

  private requireCgroup(s: SavedState): ContainerCgroup {
    const cgroup = this.cgroup(s);
    if (cgroup === undefined) throw new ConflictError('container not running');
    return cgroup;
  }

  private cgroup(s: SavedState): ContainerCgroup | undefined {
    const root = cgroupHost().root;
    return root === undefined ? undefined : ContainerCgroup.existing(root, s.cgroup.name, s.cgroup.parent);
  }

  private async killProcess(s: SavedState): Promise<void> {
    const fd = await openProcess(s.pid, s.pidStartTime);
    if (fd === undefined) return;
    try {
      sys.pidfdSignal(fd, SIGKILL);
      await sys.pidfdWait(fd, 10_000);
    } catch (err) {
      if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Delete the container: a created one is killed first (it never runs), a running one only with
   * `force`; then its cgroup and state go, and its poststop hooks run. Returns their warnings.
   */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<string[]> {
    const s = this.load(id);
    const status = this.statusOf(s);
    if ((status === 'running' || status === 'paused') && !opts.force) throw new ConflictError(`cannot delete container ${id} that is not stopped: ${status}`);
    await this.killProcess(s);
    await this.cgroup(s)?.remove();
    if (s.hostRootfsMount) detachRootfsBind(s.rootfs, s.hostRootfsMount.below);
    let warnings: string[] = [];
    try {
      warnings = await runHooksWarning('poststop', this.spec(id).hooks, { state: this.ociState(s, 'stopped') });
    } catch (err) {
      if (!(err instanceof HullError)) throw err;
      warnings.push(err.message); // an unreadable saved config: the hooks cannot run, the delete goes on
    }
    rmSync(this.dir(id), { recursive: true, force: true });
    return warnings;
  }
}

/**
 * linux.cgroupsPath (cgroupfs form) as hull's parent and name below the cgroup2 root: an absolute
 * path as it is; a relative one below hull-runc's own parent cgroup (runc puts it below the
 * caller's own cgroup, which belongs to whoever runs the caller: hull never writes there).
 */
function cgroupOf(id: string, cgroupsPath: string | undefined): { parent: string; name: string } {
  if (cgroupsPath === undefined || cgroupsPath === '') return { parent: DEFAULT_CGROUP_PARENT, name: id };
  const clean = path.posix.normalize(cgroupsPath.startsWith('/') ? cgroupsPath : `/${DEFAULT_CGROUP_PARENT}/${cgroupsPath}`);
  const name = path.posix.basename(clean);
  const parent = path.posix.dirname(clean).replace(/^\//, ''); // '': right below the cgroup2 root
  if (name === '' || name === '..') throw new UsageError(`linux.cgroupsPath ${cgroupsPath}: names no cgroup (e.g. /hull/${id})`);
  return { parent, name };
}

/**
 * systemd's `slice:prefix:name` as the cgroupfs path systemd would give it: the slice expanded
 * (`a-b.slice` is `a.slice/a-b.slice`; empty: system.slice) and the unit `prefix-name.scope` (a
 * name ending in .slice is a slice of its own). Without systemd the unit is not registered with it.
 */
function systemdCgroupPath(id: string, cgroupsPath: string | undefined): string {
  if (cgroupsPath === undefined || cgroupsPath === '') return `/system.slice/hull-runc-${id}.scope`;
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) throw new UsageError(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${cgroupsPath}" instead`);
  const [slice, prefix, name] = parts as [string, string, string];
  const sliceName = slice === '' ? 'system.slice' : slice;
  if (!/^[\w.:@-]+\.slice$/.test(sliceName) || /\//.test(prefix + name)) throw new UsageError(`invalid systemd cgroupsPath: ${cgroupsPath}`);
  const words = sliceName === '-.slice' ? [] : sliceName.slice(0, -'.slice'.length).split('-');
  const slices = words.map((_, i) => `${words.slice(0, i + 1).join('-')}.slice`);
  const unit = name.endsWith('.slice') ? name : prefix === '' ? `${name}.scope` : `${prefix}-${name}.scope`;
  return `/${[...slices, unit].join('/')}`;
}

/**
 * The device rules with what the container's /dev holds allowed after the bundle's own, as runc
 * adds them: the standard devices (null, zero, full, random, urandom, tty, ptmx, pts, tun; mknod of
 * any node) and the bundle's linux.devices. A bundle that denies every device still has those.
 */
function withStandardDevices(spec: RuntimeSpec): SpecResources | undefined {
  const resources = spec.linux.resources;
  if (!resources?.devices || resources.devices.length === 0) return resources;
  const own = (spec.linux.devices ?? [])
    .filter((d) => d.type !== 'p')
    .map((d) => ({ allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major, minor: d.minor, access: 'rwm' }));
  return { ...resources, devices: [...resources.devices, ...defaultDeviceRules().filter((r) => r.allow), ...own] };
}

/** process.oomScoreAdj, written for the process before it runs anything of its own (as runc's init does for itself). */
function writeOomScoreAdj(pid: number, adj: number): void {
  const file = `/proc/${pid}/oom_score_adj`;
  try {
    writeFileSync(file, String(adj));
  } catch (err) {
    throw fromNodeError(err, 'write', file);
  }
}

/** Whether the gate's byte is in the (non-blocking) fifo, unread. */
function wroteAtGate(fd: number): boolean {
  try {
    return readSync(fd, Buffer.alloc(1)) === 1;
  } catch {
    return false; // EAGAIN: nothing written
  }
}

/** temp + rename, so a reader sees the whole file or none (the pid file). */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}
