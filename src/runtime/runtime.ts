/**
 * The container lifecycle for hull's first verbs: create (image + options → record + runtime-spec
 * bundle), start (cgroup, plan, spawn, release), and the clean-up after exit. Every failure path
 * removes what was made: cgroup, run files, and for --rm the whole container.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError, HullError, RuntimeError, UsageError, fromNodeError } from '../errors.js';
import { cliPath, initPath, sys } from '../native/index.js';
import { withLock } from './lock.js';
import { finishRemoval, holdsResources, releaseResources } from './removal.js';
import { readMonitorStatus } from './monitor-status.js';
import { parseSignal } from './signals.js';
import { inspectContainer } from './inspect.js';
import { type LogEntry, type LogSelection, readLog } from './logs.js';
import { type LogOptions, type RestartPolicy, parseLogOptions, parseRestartPolicy } from './plan-codec.js';
import { crashPoint } from './crash-point.js';
import type { ImageStore, ResolvedImage } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { ContainerCgroup, HULL_CGROUP_PARENT, cgroup2Root, cgroupHost, requireCgroup2 } from './cgroups.js';
import { checkControllers, requiredControllers } from './cgroups/index.js';
import { completeResources, mergeResources } from './cgroups/resources.js';
import type { SpecResources } from './spec.js';
import { type ContainerRecord, ContainerStore, currentBootId, newContainerId, tryExistingLock } from './container-store.js';
import { readImageFile } from './image-files.js';
import { type RootfsLayers, buildExecPlan, buildPlan, namespacesOf } from './plan.js';
import { ContainerProcess, exitCodeOf } from './process.js';
import type { RuntimeSpec } from './spec.js';
import { type ProcessOptions, buildSpec, mergeEnv } from './specconv.js';
import { type StdioOptions, ALL_NULL_ROUTES, type WiredStdio, nullStdioMask, routeStdio, wireStdio } from './stdio.js';
import type { Terminal } from './terminal.js';
import { resolveUser } from './user.js';
import { type SecurityOptions, applySecurity } from './security.js';
import { attachDeviceFilter } from './devices.js';
import { compiledFilter } from './seccomp/step.js';
import { type UsernsOptions, applyUserns, hasUserns, prepareIdmappedRootfs, writeIdMaps } from './userns.js';
import { ensureInitLayer } from './init-layer.js';
import { validateContainerName, validateCreateOptions } from './validate.js';
import { isSameProcess, openProcess, processName, processStartTime } from './liveness.js';
import { trace } from '../trace.js';
import type { MountRequest, VolumesFromRequest } from '../volume/flags.js';
import { VolumeStore } from '../volume/store.js';
import { type ResolvedMounts, mergeMounts } from '../volume/resolve.js';
import { ContainerVolumes } from '../volume/containers.js';

import { type ContainerNetworkConfig, type NetworkOptions, Networking } from '../network/manager.js';
import { hostsHead } from '../network/hosts.js';

export interface CreateOptions extends ProcessOptions, SecurityOptions, UsernsOptions, NetworkOptions {
  /** An image reference or id. */
  image: string;
  name?: string;
  /** USER[:GROUP], names looked up in the image's /etc/passwd and /etc/group. */
  user?: string;
  groupAdd?: string[];
  hostname?: string;
  /** Remove the container when it exits (`--rm`). */
  remove?: boolean;
  /** The cgroup the container's cgroup is made in, relative to the cgroup2 root. Default 'hull'. */
  cgroupParent?: string;
  /** `--restart no | on-failure[:N] | always | unless-stopped` (detached containers). */
  restart?: string;
  /** Keep stdin open (`-i`), recorded for inspect. */
  openStdin?: boolean;
  /** Run hull-init as PID 1 (reaps zombies, forwards signals), the command as its child. */
  init?: boolean;
  /** `--log-opt KEY=VALUE`: max-size, max-file (the json-file log of detached containers). */
  logOpts?: string[];
  /** cgroup limits (linux.resources; parseResourceFlags makes them from Docker's flags). */
  resources?: SpecResources;
  /** Builds: the root filesystem and config to use instead of resolving `image` (a state between steps). */
  resolvedImage?: ResolvedImage;
  /** Builds: no anonymous volumes for the image's VOLUME paths (BuildKit keeps what RUN writes there in the layer). */
  skipImageVolumes?: boolean;
  /** `-v`, `--mount`, `--tmpfs` (src/volume/flags.ts parses Docker's syntax into these). */
  mounts?: MountRequest[];
  /** `--volumes-from CONTAINER[:ro|rw]`. */
  volumesFrom?: VolumesFromRequest[];
}

/** Where `--init` binds hull-init in the container (on its /dev tmpfs: nothing is made in the image). */
export const INIT_PATH_IN_CONTAINER = '/dev/init';

/** Set on specs made by `create`: make the working directory if the image lacks it, as Docker does. */
export const ANNOTATION_CREATE_WORKDIR = 'io.hull.workdir.create';

export interface StartOptions extends StdioOptions {
  /** Relay the container's console to hull's own terminal (for `run -t`), with stdin when `interactive`. */
  attachTerminal?: boolean;
  interactive?: boolean;
}

/** What `create` decided before the record is written. */
interface NewContainer {
  id: string;
  image: ResolvedImage;
  spec: RuntimeSpec;
  rootfs: RootfsLayers;
  mounts: ResolvedMounts | undefined;
  network: ContainerNetworkConfig;
  restartPolicy: RestartPolicy;
  logOptions: LogOptions;
}

export class Runtime {
  readonly containers: ContainerStore;
  readonly volumes: ContainerVolumes;
  readonly network: Networking;

  constructor(
    private readonly paths: StorePaths,
    private readonly images: ImageStore,
  ) {
    this.containers = new ContainerStore(paths);
    this.volumes = new ContainerVolumes(new VolumeStore(paths), this.containers, paths.runRoot);
    this.network = new Networking(paths);
  }

  async create(opts: CreateOptions): Promise<ContainerRecord> {
    validateCreateOptions(opts); // before any lock, image or file: a bad name, hostname or path makes nothing
    // The store's shared lock from resolving the image until the record is written, so no rmi
    // or prune can delete the image's layers in between (they take it exclusively).
    const lock = await this.images.lock('shared');
    // Volumes too: none chosen here can be removed before the record that uses it is written.
    const volumeLock = await this.volumes.store.lock('shared').catch((err: unknown) => {
      lock.release();
      throw err;
    });
    try {
      return await this.createLocked(opts);
    } finally {
      volumeLock.release();
      lock.release();
    }
  }

  private async createLocked(opts: CreateOptions): Promise<ContainerRecord> {
    trace('create');
    // Limits this host cannot give fail here, before anything is made.
    const resources = completeResources(opts.resources && structuredClone(opts.resources));
    if (requiredControllers(resources).size > 0) {
      const host = cgroupHost();
      checkControllers(resources, host.root, host.mode);
    }
    const image = opts.resolvedImage ?? await this.images.resolve(opts.image);
    trace('image resolved');
    const restartPolicy = parseRestartPolicy(opts.restart);
    const logOptions = parseLogOptions(opts.logOpts ?? []);
    if (restartPolicy.name !== 'no' && opts.remove) throw new UsageError('conflicting options: cannot specify both --restart and --rm');
    const id = newContainerId();
    const hostname = opts.hostname ?? id.slice(0, 12);
    const lowestFirst = image.layerLinks;
    const passwd = readImageFile(image.layerDirs, '/etc/passwd');
    const group = readImageFile(image.layerDirs, '/etc/group');
    trace('passwd/group read');
    const user = resolveUser(opts.user ?? image.config.config?.User ?? '', passwd, group, opts.groupAdd);
    const dir = this.containers.dir(id);
    const rootfs: RootfsLayers = {
      lower: [ensureInitLayer(this.paths), ...[...lowestFirst].reverse()],
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
    };
    const spec = buildSpec({
      ...opts,
      image: image.config,
      user,
      hostname,
      rootfsPath: path.join(this.containers.runDir(id), 'rootfs'),
      resources,
      annotations: { 'io.hull.image': opts.image, 'io.hull.image.id': image.id, [ANNOTATION_CREATE_WORKDIR]: 'true' },
    });
    const joined = opts.network?.startsWith('container:') ? `container:${await this.containers.resolveId(opts.network.slice('container:'.length))}` : opts.network;
    const network = this.network.containerConfig({ ...opts, network: joined }, Object.keys(image.config.config?.ExposedPorts ?? {}), (x) => x);
    this.network.adjustSpec(network, spec, opts.hostname !== undefined);
    applySecurity(spec, opts);
    applyUserns(spec, opts);
    if (spec.linux.namespaces.some((n) => n.type === 'user') && network.mode !== 'none' && network.mode !== 'host') {
      // The container's network namespace is made (and owned) by the host's user namespace
      // before the clone; a process already in a new user namespace may not join it.
      throw new UsageError(`user-namespace remapping needs --network none or --network host: the ${network.mode} network cannot be joined from a remapped container yet`);
    }
    if (opts.init) {
      spec.process.args = [INIT_PATH_IN_CONTAINER, '--', ...spec.process.args];
      spec.mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: initPath(), options: ['bind', 'ro', 'nosuid', 'nodev'] });
    }
    const mounts = await this.volumes.resolve({ mounts: opts.mounts, volumesFrom: opts.volumesFrom, imageConfig: opts.skipImageVolumes ? undefined : image.config.config });
    if (mounts) {
      spec.mounts = mergeMounts(spec.mounts, mounts.specMounts);
      if (mounts.rootfsPropagation) spec.linux.rootfsPropagation = mounts.rootfsPropagation;
    }
    // The container's lock is held from before its name is reserved until its record is written:
    // a name over no record is then a create in progress, or (lock free) a killed one's leftover.
    const creating = await this.containers.prepare(id);
    try {
      return await this.writeRecord(opts, { id, image, spec, rootfs, mounts, network, restartPolicy, logOptions });
    } finally {
      creating.release();
    }
  }

  private async writeRecord(opts: CreateOptions, made: NewContainer): Promise<ContainerRecord> {
    const { id, image, spec, rootfs, mounts, network, restartPolicy, logOptions } = made;
    const dir = this.containers.dir(id);
    const name = await this.containers.reserveName(id, opts.name).catch((err: unknown) => {
      this.containers.dropLeftovers(id);
      this.volumes.discard(mounts);
      throw err;
    });
    crashPoint('create: name reserved');
    trace('name reserved');
    const record: ContainerRecord = {
      id,
      name,
      image: opts.image,
      imageId: image.id,
      created: new Date().toISOString(),
      command: opts.init ? spec.process.args.slice(2) : spec.process.args,
      rootfs,
      autoRemove: opts.remove ?? false,
      cgroupParent: opts.cgroupParent ?? HULL_CGROUP_PARENT,
      state: { status: 'created' },
      restartPolicy,
      tty: opts.tty ?? false,
      openStdin: opts.openStdin ?? false,
      ...(opts.init ? { init: true } : {}),
      ...(opts.logOpts?.length ? { logConfig: { ...logOptions, opts: opts.logOpts } } : {}),
      ...(mounts ? { mounts: mounts.mountPoints, binds: mounts.binds, tmpfs: mounts.tmpfs,
        volumesFrom: (opts.volumesFrom ?? []).map((v) => `${v.container}${v.readonly === undefined ? '' : v.readonly ? ':ro' : ':rw'}`) } : {}),
      network,
    };
    const imageCfg = image.config.config ?? {};
    record.entrypoint = opts.entrypoint !== undefined ? (opts.entrypoint === '' ? null : [opts.entrypoint]) : (imageCfg.Entrypoint ?? null);
    record.cmd = opts.cmd !== undefined && opts.cmd.length > 0 ? opts.cmd : opts.entrypoint !== undefined ? null : (imageCfg.Cmd ?? null);
    const stopSignal = (imageCfg as { StopSignal?: string }).StopSignal;
    if (stopSignal) record.stopSignal = stopSignal;
    try {
      await this.containers.create(record, spec);
      trace('container dirs and bundle written');
      if (mounts) await this.volumes.populate(mounts, rootfs.lower);
    } catch (err) {
      await this.containers.remove(record);
      this.volumes.discard(mounts);
      throw fromNodeError(err, 'create container', dir);
    }
    return record;
  }

  /** Remove a container's files, and with `volumes` its anonymous volumes (`rm -v`, `--rm`). */
  private async dropContainer(record: ContainerRecord, volumes: boolean): Promise<void> {
    await this.containers.remove(record);
    if (volumes) await this.volumes.removeAnonymous(record.mounts);
  }

  /** The spec's compiled seccomp filter, cached in the store by digest (see seccomp/step.ts). */
  private async seccompFilter(spec: RuntimeSpec): Promise<string | undefined> {
    if (!spec.linux.seccomp) return undefined;
    return compiledFilter(spec.linux.seccomp, path.join(this.paths.root, 'cache', 'seccomp'));
  }

  /** The directories a remapped container's root must be able to search: its own, up to hull's roots. */
  private searchPath(id: string): string[] {
    const out: string[] = [];
    for (const [from, top] of [[this.containers.dir(id), this.paths.root], [this.containers.runDir(id), this.paths.runRoot]] as const) {
      mkdirSync(from, { recursive: true });
      for (let d = from; d.startsWith(top); d = path.dirname(d)) {
        out.push(d);
        if (d === top) break;
      }
    }
    return out;
  }

  /**
   * Start a created or stopped container in the foreground (hull's child); resolves once its
   * command is running. The container's lock is held until its state says so.
   */
  async start(record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
    return this.locked(record.id, async (now) => {
      if (now.state.status === 'running' || now.state.status === 'restarting') {
        throw new ConflictError(`container ${record.name} is already running; attaching to a running container is not supported yet`);
      }
      Object.assign(record, now);
      return this.startForeground(record, opts);
    });
  }

  private async startForeground(record: ContainerRecord, opts: StartOptions): Promise<RunningContainer> {
    let cgroup: ContainerCgroup | undefined;
    let stdio: WiredStdio | undefined;
    let proc: ContainerProcess | undefined;
    let idmapped: { layers: RootfsLayers; detach: () => void } | undefined;
    try {
      const spec = JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
      if (hasUserns(spec)) idmapped = prepareIdmappedRootfs(spec, record.rootfs, this.containers.runDir(record.id), this.searchPath(record.id));
      if (opts.attachTerminal && spec.process.terminal && process.stdout.isTTY) {
        spec.process.consoleSize = { height: process.stdout.rows, width: process.stdout.columns };
      }
      trace('config read');
      // A detached run's status would speak for this one (see ContainerStore.read).
      rmSync(this.containers.monitorStatusPath(record.id), { force: true });
      const etcFiles = await this.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
      await this.network.setUp(record, spec, etcFiles, (id) => this.containers.read(id));
      trace('network set up');
      // Docker makes a missing working directory; a bare OCI bundle (runc's contract) must have it.
      const createCwd = spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true';
      // With a terminal, the console step gives the container its stdio.
      const routes = spec.process.terminal ? ALL_NULL_ROUTES : routeStdio(opts);
      const nullStdio = spec.process.terminal ? 0 : nullStdioMask(routes);
      const steps = buildPlan(spec, idmapped?.layers ?? record.rootfs, {
        createCwd, etcFiles, isFile: isHostFile, seccompFilter: await this.seccompFilter(spec), rootMounted: idmapped !== undefined, nullStdio,
      });
      trace('etc files written, plan built');
      const host = cgroupHost();
      const resources = spec.linux.resources;
      checkControllers(resources, host.root, host.mode);
      const root = requireCgroup2(host);
      cgroup = await ContainerCgroup.create(root, record.id, record.cgroupParent);
      cgroup.applyResources(root, record.cgroupParent, resources);
      attachDeviceFilter(cgroup.path, resources);
      trace('cgroup made');
      stdio = wireStdio(routes);
      const cgroupFd = cgroup.openFd();
      trace('stdio wired, cgroup opened');
      try {
        proc = ContainerProcess.spawn({
          namespaces: namespacesOf(spec),
          rootfs: spec.root.path,
          cgroupFd,
          stdio: stdio.childFds,
          steps,
          dieWithParent: true,
        });
      } finally {
        closeSync(cgroupFd);
        stdio.closeChildEnds();
      }
      trace('spawned');
      if (hasUserns(spec)) writeIdMaps(proc.pid, spec);
      const { consoleFd } = await proc.start();
      idmapped?.detach(); // the container's mount namespace keeps its own copies
      trace('started (execve reached)');
      const terminal = consoleFd === undefined ? undefined : new (await import('./terminal.js')).Terminal(consoleFd, {
        relayToHost: opts.attachTerminal ?? false,
        interactive: opts.interactive ?? false,
      });
      record.state = { status: 'running', pid: proc.pid, pidStartTime: processStartTime(proc.pid), startedAt: new Date().toISOString() };
      await this.containers.save(record);
      trace('state saved');
      const made = cgroup;
      return new RunningContainer(record, proc, stdio, terminal, () => withLock(this.containers.lockPath(record.id), record.name, () => this.finish(record, made)));
    } catch (err) {
      stdio?.stop();
      stdio?.closeChildEnds();
      if (proc) await proc.wait();
      idmapped?.detach();
      await cgroup?.remove();
      await this.network.tearDown(record.id);
      record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
      if (record.autoRemove) await this.dropContainer(record, true);
      else await this.containers.save(record);
      throw err;
    }
  }


  // ---- detached containers: a monitor per container; every state change under its lock ------

  /**
   * Run `fn` on the container's current record while holding its lock (shared by all hulls). What
   * a killed hull, rm or monitor left unfinished is finished first (see `settle`).
   */
  async locked<T>(idOrName: string, fn: (record: ContainerRecord) => Promise<T>): Promise<T> {
    const id = await this.containers.resolveId(idOrName);
    return withLock(this.containers.lockPath(id), idOrName, async () => {
      const record = this.containers.read(id);
      if (!record || (await this.settle(record)) === 'removed') throw new ContainerNotFoundError(idOrName);
      return fn(record);
    });
  }

  /** Whether `settle` has something to do for this container. */
  private unsettled(record: ContainerRecord): boolean {
    const { status } = record.state;
    if (status === 'removing') return true;
    if (status === 'running' || status === 'restarting') return false;
    return (record.autoRemove && status === 'exited') || holdsResources(this, record);
  }

  /**
   * Under the container's lock: finish a removal that was killed (a tombstone); release what an
   * ended container still holds (its hull or monitor was killed: cgroup, network namespace, address,
   * ports); remove an ended `--rm` container.
   */
  private async settle(record: ContainerRecord): Promise<'removed' | 'kept'> {
    if (!this.unsettled(record)) return 'kept';
    if (record.state.status === 'removing') {
      await finishRemoval(this, record);
      return 'removed';
    }
    if (record.autoRemove && record.state.status === 'exited') {
      this.containers.markRemoving(record, true);
      await finishRemoval(this, record);
      return 'removed';
    }
    await releaseResources(this, record);
    return 'kept';
  }

  /**
   * Settle the container if it needs it and its lock is free now (a busy lock: another command is
   * acting on it). The record as it is afterwards; undefined once it is removed.
   */
  private async settleIfFree(record: ContainerRecord): Promise<ContainerRecord | undefined> {
    if (!this.unsettled(record)) return record;
    const lock = tryExistingLock(this.containers.lockPath(record.id));
    if (lock === 'missing') return this.containers.read(record.id);
    if (lock === 'busy') return record;
    try {
      const now = this.containers.read(record.id);
      if (!now) return undefined;
      return (await this.settle(now)) === 'removed' ? undefined : this.containers.read(record.id);
    } finally {
      lock.release();
    }
  }

  /** The container (a name, an id or a unique id prefix), settled first (see `settle`). */
  async get(idOrName: string): Promise<ContainerRecord> {
    const record = await this.settleIfFree(await this.containers.get(idOrName));
    if (!record) throw new ContainerNotFoundError(idOrName);
    return record;
  }

  /** Every container, each settled first (see `settle`); newest first. */
  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const record of await this.containers.list()) {
      const now = await this.settleIfFree(record);
      if (now) out.push(now);
    }
    return out;
  }

  /** Start a created or stopped container under its own monitor (`run -d`, `start`). A running one is left as it is. */
  async startDetached(idOrName: string): Promise<ContainerRecord> {
    return this.locked(idOrName, async (record) => {
      if (record.state.status === 'running' || record.state.status === 'restarting') return record;
      await this.startUnderMonitor(record);
      return record;
    });
  }

  private async startUnderMonitor(record: ContainerRecord): Promise<void> {
    let cgroup: ContainerCgroup | undefined;
    let idmapped: { layers: RootfsLayers; detach: () => void } | undefined;
    try {
      const spec = JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
      const etcFiles = await this.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
      crashPoint('start: etc files written');
      await this.network.setUp(record, spec, etcFiles, (id) => this.containers.read(id));
      crashPoint('start: network set up');
      mkdirSync(spec.root.path, { recursive: true }); // the run root is per boot
      // A remapped root is mounted here; the monitor keeps a private copy of it for restarts.
      if (hasUserns(spec)) idmapped = prepareIdmappedRootfs(spec, record.rootfs, this.containers.runDir(record.id), this.searchPath(record.id));
      const createCwd = spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true';
      // The monitor gives the container a placeholder stdin (pipes for its output, or the console).
      const nullStdio = spec.process.terminal ? 0 : 0b001;
      const steps = buildPlan(spec, idmapped?.layers ?? record.rootfs, {
        createCwd, etcFiles, isFile: isHostFile, seccompFilter: await this.seccompFilter(spec), rootMounted: idmapped !== undefined, nullStdio,
      });
      const host = cgroupHost();
      checkControllers(spec.linux.resources, host.root, host.mode);
      const root = requireCgroup2(host);
      await ContainerCgroup.existing(root, record.id, record.cgroupParent)?.remove(); // a killed monitor's
      cgroup = await ContainerCgroup.create(root, record.id, record.cgroupParent);
      cgroup.applyResources(root, record.cgroupParent, spec.linux.resources);
      attachDeviceFilter(cgroup.path, spec.linux.resources);
      crashPoint('start: cgroup made');
      const statusPath = this.containers.monitorStatusPath(record.id);
      const stopMarker = this.containers.stopMarkerPath(record.id);
      rmSync(statusPath, { force: true });
      rmSync(stopMarker, { force: true });
      const memoryEvents = path.join(cgroup.path, 'memory.events');
      const { startMonitor } = await import('./monitor.js');
      const started = await startMonitor({
        namespaces: namespacesOf(spec),
        rootfs: spec.root.path,
        cgroup: cgroup.path,
        logPath: this.containers.logPath(record.id),
        statusPath,
        memoryEvents: existsSync(memoryEvents) ? memoryEvents : '',
        terminal: spec.process.terminal ?? false,
        parentDeathSignal: SIGKILL,
        removeCgroup: true,
        restart: record.restartPolicy ?? { name: 'no', maximumRetryCount: 0 },
        stopMarker,
        exitCommand: record.autoRemove
          ? [process.execPath, cliPath(), '--root', this.paths.root, '--run-root', this.paths.runRoot, 'rm', '-f', '-v', record.id]
          : this.network.readState(record.id) // its address and ports go when it ends, as Docker's
            ? [process.execPath, cliPath(), '--root', this.paths.root, '--run-root', this.paths.runRoot, 'network', 'release', record.id]
            : [],
        steps,
        logMaxSize: record.logConfig?.maxSize ?? 0,
        logMaxFiles: record.logConfig?.maxFile ?? 1,
      });
      idmapped?.detach();
      record.state = {
        status: 'running',
        pid: started.pid,
        pidStartTime: processStartTime(started.pid),
        startedAt: new Date().toISOString(),
        monitorPid: started.monitorPid,
        monitorStartTime: processStartTime(started.monitorPid),
        bootId: currentBootId(),
        restartCount: 0,
      };
      crashPoint('start: monitor reported');
      await this.containers.save(record);
      crashPoint('start: state saved');
    } catch (err) {
      idmapped?.detach();
      await cgroup?.remove();
      await this.network.tearDown(record.id);
      record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
      if (record.autoRemove) await this.dropContainer(record, true);
      else await this.containers.save(record);
      throw err;
    }
  }

  /** Docker's stop: the image's StopSignal (or SIGTERM), SIGKILL after `timeoutSeconds`; resolves once it is recorded as ended. */
  async stop(idOrName: string, timeoutSeconds = 10): Promise<void> {
    await this.locked(idOrName, (record) => this.stopLocked(record, timeoutSeconds));
  }

  private async stopLocked(record: ContainerRecord, timeoutSeconds: number): Promise<void> {
    if (record.state.status === 'running' && record.state.pid === undefined) await this.startReported(record);
    if (record.state.monitorPid !== undefined) {
      mkdirSync(this.containers.runDir(record.id), { recursive: true });
      writeFileSync(this.containers.stopMarkerPath(record.id), ''); // no restart after this
    }
    if (record.state.status === 'running') {
      // A paused container is thawed first, so that it can act on its stop signal.
      const cgroup = this.existingCgroup(record);
      if (cgroup?.frozen()) await cgroup.setFrozen(false);
      const fd = await openProcess(record.state.pid, record.state.pidStartTime);
      if (fd !== undefined) {
        try {
          signalQuietly(fd, parseSignal(record.stopSignal ?? 'SIGTERM'));
          if (!(await sys.pidfdWait(fd, Math.max(0, timeoutSeconds) * 1000))) {
            signalQuietly(fd, SIGKILL);
            await sys.pidfdWait(fd, -1);
          }
        } finally {
          closeSync(fd);
        }
      }
    }
    await this.settled(record);
    await this.network.tearDown(record.id);
  }

  /**
   * A container whose monitor is cloning it (its hull was killed before recording the start)
   * has no pid yet: the monitor reports it within moments, or dies (then it is not running).
   */
  private async startReported(record: ContainerRecord, limitMs = 10_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const now = this.containers.read(record.id);
      if (!now || now.state.status !== 'running' || now.state.pid !== undefined || Date.now() > deadline) {
        if (now) record.state = now.state;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Waits until the container is recorded as not running, and its monitor has gone. */
  private async settled(record: ContainerRecord, limitMs = 15_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const now = this.containers.read(record.id);
      if (!now) return; // removed (--rm) meanwhile
      const { status, monitorPid, monitorStartTime } = now.state;
      const monitorLeft = monitorPid !== undefined && monitorPid !== process.pid && isSameProcess(monitorPid, monitorStartTime) &&
        processName(monitorPid) === 'hull-monitor';
      if (status !== 'running' && status !== 'restarting' && !monitorLeft) {
        record.state = now.state;
        return;
      }
      if (Date.now() > deadline) {
        throw new RuntimeError(`container ${record.name} did not stop within ${limitMs / 1000}s (state ${status}, monitor ${monitorLeft ? 'alive' : 'gone'})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Send a signal to the container's first process. */
  async kill(idOrName: string, signal: number): Promise<void> {
    const record = await this.get(idOrName);
    const fd = record.state.status === 'running' ? await openProcess(record.state.pid, record.state.pidStartTime) : undefined;
    if (fd === undefined) throw new ConflictError(`cannot kill container ${idOrName}: container ${record.id} is not running`);
    try {
      if (record.state.monitorPid !== undefined && (signal === SIGKILL || signal === parseSignal(record.stopSignal ?? 'SIGTERM'))) {
        writeFileSync(this.containers.stopMarkerPath(record.id), ''); // Docker: a killed container is not restarted
      }
      signalQuietly(fd, signal);
    } finally {
      closeSync(fd);
    }
  }

  /** Tear down the network of a container that has ended (its monitor's exit command); a running one is left alone. */
  async releaseNetwork(idOrName: string): Promise<void> {
    await this.locked(idOrName, async (record) => {
      if (record.state.status !== 'running' && record.state.status !== 'restarting') await this.network.tearDown(record.id);
    });
  }

  /** Stop (if running) and start again. */
  async restart(idOrName: string, timeoutSeconds = 10): Promise<void> {
    await this.locked(idOrName, async (record) => {
      await this.stopLocked(record, timeoutSeconds);
      await this.startUnderMonitor(record);
    });
  }

  /** The container's exit code once it has ended (waiting for it when it runs). */
  async wait(idOrName: string): Promise<number> {
    const id = await this.containers.resolveId(idOrName);
    const statusPath = this.containers.monitorStatusPath(id);
    let last: number | undefined;
    for (;;) {
      const record = this.containers.read(id);
      if (!record) return last ?? 255; // removed (--rm) as it ended
      const s = record.state;
      if (s.status === 'exited') return s.exitCode ?? 255;
      const fd = s.status === 'running' ? await openProcess(s.pid, s.pidStartTime) : undefined;
      if (fd !== undefined) {
        try {
          await sys.pidfdWait(fd, -1);
        } finally {
          closeSync(fd);
        }
        // Catch the monitor's record of the end before an exit command (rm) removes it.
        for (let i = 0; i < 400; i++) {
          const m = readMonitorStatus(statusPath);
          if (m?.status === 'exited' || m?.status === 'restarting') {
            last = m.exitCode;
            break;
          }
          if (!existsSync(statusPath) && !existsSync(this.containers.dir(id))) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } else {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Docker's `inspect` shape of the container. */
  async inspect(idOrName: string): Promise<Record<string, unknown>> {
    const record = await this.get(idOrName);
    let spec: RuntimeSpec | undefined;
    try {
      spec = JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
    } catch {
      spec = undefined; // removed meanwhile: the record alone
    }
    const paused = record.state.status === 'running' && (this.existingCgroup(record)?.frozen() ?? false);
    const out = inspectContainer(record, spec, {
      logPath: this.containers.logPath(record.id),
      runDir: this.containers.runDir(record.id),
      cgroupPath: record.cgroupParent,
      paused,
    });
    return { ...out, ...this.network.inspectFields(record, out.HostConfig) };
  }

  /** The log's entries, in batches (one block read each); with `follow`, new ones until the container has ended. */
  async *logs(idOrName: string, opts: LogSelection & { follow?: boolean; fromOffset?: number } = {}): AsyncGenerator<LogEntry[]> {
    const record = await this.get(idOrName);
    yield* readLog(this.containers.logPath(record.id), {
      ...opts,
      follow: opts.follow ?? false,
      waitForMore: (ms = 100) => this.waitForChange(record.id, ms),
    });
  }

  /**
   * For followers: waits up to `ms` for the container to end; true once it has ended and its
   * monitor has written everything down, false while it runs (or restarts).
   */
  async waitForChange(id: string, ms: number): Promise<boolean> {
    const record = this.containers.read(id);
    if (!record) return true;
    const s = record.state;
    if (s.status === 'running') {
      const fd = await openProcess(s.pid, s.pidStartTime);
      if (fd !== undefined) {
        try {
          if (!(await sys.pidfdWait(fd, ms))) return false;
        } finally {
          closeSync(fd);
        }
      }
    } else if (s.status === 'restarting') {
      await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 100)));
      return false;
    }
    await this.settled(record).catch(() => undefined);
    const now = this.containers.read(id);
    return !now || (now.state.status !== 'running' && now.state.status !== 'restarting');
  }

  /**
   * Run a process in a running container: it joins every namespace and the cgroup of the
   * container, keeps its limits and capabilities, and is non-dumpable until its execve.
   */
  async exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    const record = await this.get(idOrName);
    const notRunning = () => new ConflictError(`container ${record.id} is not running`);
    if (record.state.status !== 'running') throw notRunning();
    const pidfd = await openProcess(record.state.pid, record.state.pidStartTime);
    if (pidfd === undefined) throw notRunning();
    const pid = record.state.pid as number;
    const nsFds: number[] = [];
    let cgroupFd = -1;
    let stdio: WiredStdio | undefined;
    try {
      const userFirst = hasUserns(JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec);
      for (const ns of [...(userFirst ? ['user'] : []), 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt']) {
        try {
          nsFds.push(openSync(`/proc/${pid}/ns/${ns}`, 'r'));
        } catch (err) {
          throw fromNodeError(err, 'open', `/proc/${pid}/ns/${ns}`);
        }
      }
      // The fds name the container's namespaces only if the pid was still its process after they were opened.
      if (!isSameProcess(pid, record.state.pidStartTime)) throw notRunning();
      const spec = JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
      let user = { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: spec.process.user.additionalGids ?? [] };
      if (opts.user !== undefined) {
        const layers = [...[...record.rootfs.lower].reverse(), record.rootfs.upper];
        const resolved = resolveUser(opts.user, readImageFile(layers, '/etc/passwd'), readImageFile(layers, '/etc/group'));
        user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
      }
      const tty = opts.tty ?? false;
      const env = mergeEnv(spec.process.env, tty ? ['TERM=xterm'] : [], opts.env ?? []);
      const cwd = opts.workdir ?? spec.process.cwd;
      if (!path.posix.isAbsolute(cwd)) throw new UsageError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
      const consoleSize = opts.attachTerminal && process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
      const routes = tty || opts.detach ? ALL_NULL_ROUTES : routeStdio(opts);
      const nullStdio = tty ? 0 : nullStdioMask(routes);
      const steps = buildExecPlan(spec, { args: opts.cmd, env, cwd, user, tty, consoleSize, seccompFilter: await this.seccompFilter(spec), nullStdio });
      cgroupFd = ContainerCgroup.existing(await cgroup2Root(), record.id, record.cgroupParent)?.openFd() ?? -1;
      stdio = wireStdio(routes);
      let proc: ContainerProcess;
      try {
        proc = ContainerProcess.spawn({
          namespaces: namespacesOf(spec),
          rootfs: spec.root.path,
          cgroupFd,
          stdio: stdio.childFds,
          steps,
          dieWithParent: !opts.detach,
          joinNamespaceFds: nsFds,
          keepAlive: !opts.detach,
        });
      } finally {
        stdio.closeChildEnds();
      }
      const { consoleFd } = await proc.start().catch(async (err: unknown) => {
        await proc.wait(); // reaped here, or it would be a zombie of the container's init
        throw err;
      });
      const terminal = consoleFd === undefined ? undefined : new (await import('./terminal.js')).Terminal(consoleFd, {
        relayToHost: opts.attachTerminal ?? false,
        interactive: opts.interactive ?? false,
      });
      return new StartedProcess(proc, stdio, terminal);
    } catch (err) {
      stdio?.stop();
      stdio?.closeChildEnds();
      throw err;
    } finally {
      for (const fd of nsFds) closeSync(fd);
      if (cgroupFd >= 0) closeSync(cgroupFd);
      closeSync(pidfd);
    }
  }

  /**
   * `cp`: between the host and a running container's root, every container path resolved inside
   * it (openat2 RESOLVE_IN_ROOT). `direction` says which side `containerPath` is on.
   */
  async copy(idOrName: string, direction: 'from' | 'to', containerPath: string, hostPath: string, opts: { followLink?: boolean } = {}): Promise<void> {
    const record = await this.get(idOrName);
    const fd = record.state.status === 'running' ? await openProcess(record.state.pid, record.state.pidStartTime) : undefined;
    if (fd === undefined) throw new ConflictError(`container ${idOrName} is not running: hull copies files of running containers only (for now)`);
    try {
      const root = `/proc/${record.state.pid}/root`;
      const { copyFromContainer, copyToContainer } = await import('./copy.js');
      const how = { container: idOrName, followLink: opts.followLink ?? false };
      if (direction === 'from') copyFromContainer(root, containerPath, hostPath, how);
      else copyToContainer(hostPath, root, containerPath, how);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * `update`: new limits over the container's, written into its cgroup when it runs and into its
   * config.json for its next start.
   */
  async update(idOrName: string, changes: SpecResources): Promise<void> {
    await this.locked(idOrName, async (record) => {
      const specPath = path.join(this.containers.dir(record.id), 'config.json');
      const spec = JSON.parse(readFileSync(specPath, 'utf8')) as RuntimeSpec;
      const resources = mergeResources(spec.linux.resources, changes);
      const host = cgroupHost();
      checkControllers(resources, host.root, host.mode);
      if (record.state.status === 'running' && host.root !== undefined) {
        ContainerCgroup.existing(host.root, record.id, record.cgroupParent)?.applyResources(host.root, record.cgroupParent, changedOnly(resources, changes));
      }
      spec.linux.resources = resources;
      this.containers.saveSpec(record.id, spec);
    });
  }

  /** The cgroup directory of a running container (for stats and top). */
  async cgroupDir(idOrName: string): Promise<{ record: ContainerRecord; dir: string }> {
    const record = await this.get(idOrName);
    const cgroup = await this.runningCgroup(record, idOrName);
    return { record, dir: cgroup.path };
  }

  /** `pause`: freeze every process of a running container (cgroup.freeze). */
  async pause(idOrName: string): Promise<void> {
    await this.locked(idOrName, async (record) => {
      const cgroup = await this.runningCgroup(record, idOrName);
      if (cgroup.frozen()) throw new ConflictError(`container ${idOrName} is already paused`);
      await cgroup.setFrozen(true);
    });
  }

  /** `unpause`: thaw a paused container. */
  async unpause(idOrName: string): Promise<void> {
    await this.locked(idOrName, async (record) => {
      const cgroup = await this.runningCgroup(record, idOrName);
      if (!cgroup.frozen()) throw new ConflictError(`container ${idOrName} is not paused`);
      await cgroup.setFrozen(false);
    });
  }

  /** The container's cgroup when it exists (undefined without a cgroup2 hierarchy). */
  private existingCgroup(record: ContainerRecord): ContainerCgroup | undefined {
    const root = cgroupHost().root;
    return root === undefined ? undefined : ContainerCgroup.existing(root, record.id, record.cgroupParent);
  }

  private async runningCgroup(record: ContainerRecord, idOrName: string): Promise<ContainerCgroup> {
    const cgroup = record.state.status === 'running' ? ContainerCgroup.existing(await cgroup2Root(), record.id, record.cgroupParent) : undefined;
    if (!cgroup || !(await cgroup.populated())) throw new ConflictError(`container ${idOrName} is not running`);
    return cgroup;
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    validateContainerName(newName);
    await this.locked(idOrName, (record) => this.containers.rename(record, newName));
  }

  /**
   * Remove a container, with whatever a killed hull or monitor left of it (its cgroup). A running
   * one only with `force` (killed first, as Docker's rm -f).
   */
  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = await this.containers.resolveId(idOrName);
    await withLock(this.containers.lockPath(id), idOrName, async () => {
      const record = this.containers.read(id);
      if (!record) throw new ContainerNotFoundError(idOrName);
      crashPoint('rm: locked');
      if (record.state.status !== 'removing') {
        const { status } = record.state;
        if ((status === 'running' || status === 'restarting') && !opts.force) {
          throw new ConflictError(`cannot remove container ${idOrName}: container is ${status}: stop the container before removing it or force remove (rm -f)`);
        }
        // The tombstone first: from here on, whoever meets the container finishes the removal.
        this.containers.markRemoving(record, opts.volumes ?? false);
        crashPoint('rm: tombstone written');
      }
      await finishRemoval(this, record);
    });
  }

  private async finish(record: ContainerRecord, cgroup: ContainerCgroup): Promise<void> {
    trace('exited, output drained');
    // Killed by the OOM killer: only memory.events knows, and only until the cgroup is gone.
    if (cgroup.oomKills() > 0) record.state.oomKilled = true;
    await cgroup.remove();
    trace('cgroup removed');
    await this.network.tearDown(record.id);
    trace('network torn down');
    if (record.autoRemove) await this.dropContainer(record, true);
    else await this.containers.save(record);
    trace('container removed or saved');
  }

  /** /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, in its run directory. */
  private async writeEtcFiles(id: string, hostname: string): Promise<{ hostname: string; hosts: string; resolvConf: string }> {
    const dir = this.containers.runDir(id);
    mkdirSync(dir, { recursive: true });
    const files = {
      hostname: path.join(dir, 'hostname'),
      hosts: path.join(dir, 'hosts'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
    writeFileSync(files.hostname, `${hostname}\n`);
    // Networking rewrites it with the container's addresses and peers (src/network/manager.ts).
    writeFileSync(files.hosts, hostsHead({ hostname, ips: [], extra: [] }));
    writeFileSync(files.resolvConf, containerResolvConf(hostResolvConf()));
    return files;
  }
}

const SIGKILL = 9;

/** The merged resources, limited to the controllers `changes` touches (the others stay as they are). */
function changedOnly(merged: SpecResources, changes: SpecResources): SpecResources {
  const out: SpecResources = {};
  if (changes.memory) out.memory = merged.memory;
  if (changes.cpu) out.cpu = merged.cpu;
  if (changes.pids) out.pids = merged.pids;
  if (changes.blockIO) out.blockIO = merged.blockIO;
  return out;
}

/** pidfd_send_signal, where a process that has just exited (ESRCH) is not an error. */
function signalQuietly(pidfd: number, signal: number): void {
  try {
    sys.pidfdSignal(pidfd, signal);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
  }
}


function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return ''; // a host without resolv.conf: the container gets the public fallbacks
  }
}

function isHostFile(hostPath: string): boolean {
  try {
    return !statSync(hostPath).isDirectory();
  } catch {
    return false; // a missing source fails in the plan's mount step, with its path
  }
}

/** The host's resolv.conf without loopback nameservers (unreachable from the container's own
 *  network namespace); Docker's public fallbacks when nothing is left. */
export function containerResolvConf(host: string): string {
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.filter((l, i, all) => l !== '' || i < all.length - 1).join('\n') + '\n';
}

export interface ExecOptions extends StdioOptions {
  cmd: string[];
  /** KEY=VALUE entries over the container's environment. */
  env?: string[];
  /** USER[:GROUP], looked up in the container's /etc/passwd and /etc/group. */
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
  /** Relay the pty to hull's own terminal (`exec -t` from the CLI). */
  attachTerminal?: boolean;
  /** Leave it running on its own: no stdio, not killed with hull. */
  detach?: boolean;
}

/** A started process (a container's first one, or one joined by exec): its streams, signals and
 *  the promise of its exit code, which resolves once its output has drained and `afterExit` ran. */
export class StartedProcess {
  private readonly exitCode: Promise<number>;

  constructor(
    private readonly proc: ContainerProcess,
    private readonly stdio: WiredStdio,
    readonly terminal: Terminal | undefined,
    afterExit?: (code: number) => Promise<void>,
  ) {
    this.exitCode = (async () => {
      const code = exitCodeOf(await proc.wait());
      this.stdio.stop();
      await Promise.all([this.stdio.drained(), this.terminal?.closed()]);
      await afterExit?.(code);
      return code;
    })();
  }

  get pid(): number {
    return this.proc.pid;
  }
  get stdin() {
    return this.stdio.stdin;
  }
  get stdout() {
    return this.stdio.stdout;
  }
  get stderr() {
    return this.stdio.stderr;
  }

  /** Send a signal to the process. */
  kill(signal: number): void {
    this.proc.signal(signal);
  }

  /** Resolves with the exit code (Docker's: 128 + signal when killed) once everything is cleaned up. */
  wait(): Promise<number> {
    return this.exitCode;
  }
}

/** A process started by exec. */
export type ExecProcess = StartedProcess;

/** A started container: its first process, and its record, which is finished when it exits. */
export class RunningContainer extends StartedProcess {
  constructor(
    readonly record: ContainerRecord,
    proc: ContainerProcess,
    stdio: WiredStdio,
    terminal: Terminal | undefined,
    finish: () => Promise<void>,
  ) {
    super(proc, stdio, terminal, async (code) => {
      record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
      delete record.state.pid;
      await finish();
    });
  }

  get id(): string {
    return this.record.id;
  }
  get name(): string {
    return this.record.name;
  }
}
