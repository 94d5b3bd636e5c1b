/**
 * Containers on disk: one directory per container under `containers/<id>/` holding the bundle's
 * config.json (the runtime-spec), container.json (hull's record) and the writable layer
 * (upper/, work/); per-boot files under the run root, including state.json while it runs (a
 * reboot empties the run root, so a stale "running" cannot survive one). Names are reserved
 * atomically as files under `names/`, so two concurrent `run --name x` cannot both win.
 *
 * These are small metadata files on the start path: synchronous calls cost microseconds where
 * each promise round trip through the threadpool costs far more.
 */
import type { AttachStreams } from './create-options.js';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError, UsageError, fromNodeError } from '../errors.js';
import type { StorePaths } from '../store/paths.js';
import type { RootfsLayers } from './plan.js';
import type { RuntimeSpec } from './spec.js';
import { parseSpec } from './spec-read.js';
import { trace } from '../trace.js';
import { isSameProcess } from './liveness.js';
import { detachStaleMounts } from './userns.js';
import { type MonitorStatus, readMonitorStatus } from './monitor-status.js';
import type { RestartPolicy } from './plan-codec.js';
import { listDir, readText, removeFile } from '../files.js';
import { type LockHandle, LOCK_EX, LOCK_NB, acquireLock, nativeFlock } from '../store/lock.js';
import { crashPoint } from './crash-point.js';
import { cgroupHost } from './cgroups.js';
import type { MountPoint } from '../volume/resolve.js';
import type { ContainerNetworkConfig } from '../network/manager.js';
import type { NamespaceOptions } from './namespaces.js';
import { isStorableName, validateContainerName } from './validate.js';
import { HEALTH_FILE, type HealthConfig, type HealthState, readHealth } from './health.js';

/** Records read between two turns of the event loop when listing. */
const LIST_CHUNK = 16;

/** `removing`: the tombstone `rm` writes first; whoever meets it next finishes the removal. */
export type ContainerStatus = 'created' | 'running' | 'restarting' | 'exited' | 'removing';

export interface ContainerState {
  status: ContainerStatus;
  pid?: number;
  /** Start time of `pid` (clock ticks since boot), so a reused pid is not taken for it. */
  pidStartTime?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** Detached containers: the monitor (pid + start time) that is the container's parent. */
  monitorPid?: number;
  monitorStartTime?: number;
  /** /proc/sys/kernel/random/boot_id when it started: another boot means it cannot be running. */
  bootId?: string;
  oomKilled?: boolean;
  restartCount?: number;
  /** The tombstone's: remove the anonymous volumes too (`rm -v`, `--rm`). */
  removeVolumes?: boolean;
  /** Running with its cgroup frozen (`pause`): derived when the record is read, never stored. */
  paused?: boolean;
  /** Its health checks' state (health.json, written by its checker): read with the record, never stored in it. */
  health?: HealthState;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** The image as the user named it, and its id. */
  image: string;
  imageId: string;
  created: string;
  command: string[];
  rootfs: RootfsLayers;
  autoRemove: boolean;
  /** cgroup parent (relative to the cgroup2 root) this container's cgroup lives in. */
  cgroupParent: string;
  state: ContainerState;
  /** Set by `run -d`/`create`: `--restart`, the image's StopSignal, what the container was made with. */
  restartPolicy?: RestartPolicy;
  stopSignal?: string;
  tty?: boolean;
  openStdin?: boolean;
  /** The image's Entrypoint and Cmd after the run flags (Docker's Config.Entrypoint/Cmd). */
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  /** `--init`: hull-init is PID 1. */
  init?: boolean;
  /** `--log-opt`: json-file rotation. */
  logConfig?: { maxSize: number; maxFile: number; opts: string[] };
  /** `--log-driver` other than json-file: `local` (kept as json-file) or `none` (no log). */
  logDriver?: 'local' | 'none';
  /** The image's labels with `--label`s over them (Docker's Config.Labels); read through containerLabels. */
  labels?: Record<string, string>;
  /** `--stop-timeout` (seconds). */
  stopTimeout?: number;
  /** `--shm-size` (bytes) as given; absent: Docker's 64 MiB. */
  shmSize?: number;
  /** `--device-cgroup-rule` as Docker shows them (`c 1:3 rwm`). */
  deviceCgroupRules?: string[];
  /** `--annotation` as given (Docker's HostConfig.Annotations); the spec has them with hull's own. */
  annotations?: Record<string, string>;
  /** Volumes, binds and tmpfs mounts (Docker's MountPoint); the flags as given, for inspect. */
  mounts?: MountPoint[];
  binds?: string[];
  tmpfs?: Record<string, string>;
  volumesFrom?: string[];
  /** `--network`, `-p`, `--dns`, … (absent on containers made before networking: a namespace with lo only). */
  network?: ContainerNetworkConfig;
  /** `--pid`, `--ipc`, `--uts`, `--cgroupns` (another container's by id); absent: its own. */
  namespaces?: NamespaceOptions;
  /** `--ipc shareable`: other containers may join its IPC namespace. */
  ipcShareable?: boolean;
  /** Docker's Config.Healthcheck: the image's HEALTHCHECK with the health flags over it (absent: neither has one). */
  healthcheck?: HealthConfig;
  /** The image's SHELL (Docker's Config.Shell): what a CMD-SHELL health check runs under. */
  shell?: string[];
  /** `-a` as run/create had it (Docker's Config.AttachStd*; `run -d`: none). */
  attach?: AttachStreams;
  /** `--detach-keys` given to run/create: `start -a` and `attach` use it when they are given none. */
  detachKeys?: number[];
  /** The pod it belongs to (its id; src/pods/). */
  pod?: string;
}

/** A container's labels (Docker's Config.Labels: the image's with the container's over them), for inspect, filters and events. */
export function containerLabels(record: ContainerRecord): Record<string, string> {
  return record.labels ?? {};
}

/** The files of a container other than its record: the json-file log and the monitor's status. */
export const LOG_FILE = (id: string): string => `${id}-json.log`;
export const MONITOR_STATUS_FILE = 'monitor.json';
export const STOP_MARKER_FILE = 'stopping';
export const EVENT_LINES_FILE = 'events';
export const LOCK_FILE = 'lock';

let bootIdCache: string | undefined;
export function currentBootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

/**
 * The state of a detached container, from hull's record and what its monitor wrote. The monitor's
 * status file wins when there is one: it names the monitor answering for the container (hull
 * writes it, `starting`, before the monitor gets its plan), so a container whose monitor is alive
 * is running whatever the record says (hull may have been killed before recording the start).
 * Never "running" unless its process is: pids are checked with their start times; a file from
 * another boot is stale.
 */
export function detachedState(state: ContainerState, monitor: () => MonitorStatus | undefined, bootId = currentBootId()): ContainerState {
  const m = monitor();
  // Which monitor answers: the file's own (newer monitors say), else the record's.
  const own = m?.monitorPid !== undefined;
  const monitorPid = own ? m.monitorPid : state.monitorPid;
  const monitorStartTime = own ? m.monitorStartTime : state.monitorStartTime;
  const runBoot = (own ? m.bootId : undefined) ?? state.bootId;
  const base = { startedAt: m?.startedAt ?? state.startedAt, monitorPid, monitorStartTime, bootId: runBoot };
  const fromMonitor = { restartCount: m?.restartCount ?? state.restartCount ?? 0, oomKilled: m?.oomKilled ?? false };
  if (m?.status === 'exited') {
    return {
      ...base,
      ...fromMonitor,
      status: 'exited',
      startedAt: m.startedAt ?? state.startedAt,
      exitCode: m.exitCode,
      finishedAt: m.finishedAt,
      ...(m.error ? { error: m.error } : {}),
    };
  }
  if (m === undefined && state.status !== 'running' && state.status !== 'restarting') return state;
  if (runBoot !== undefined && runBoot !== bootId) {
    if (m?.status === 'starting') return state; // that start never got anywhere
    return {
      ...base,
      status: 'exited',
      exitCode: 255,
      restartCount: state.restartCount ?? 0,
      error: 'the host rebooted while the container ran (its state is from another boot); its exit code is unknown',
    };
  }
  const monitorAlive = monitorPid !== undefined && isSameProcess(monitorPid, monitorStartTime);
  if (m?.status === 'starting') {
    // Being started (its monitor is cloning it), or a start whose monitor died before it began.
    return monitorAlive ? { ...base, ...fromMonitor, status: 'running' } : state;
  }
  if (m?.status === 'running' && m.pid !== undefined && isSameProcess(m.pid, m.pidStartTime)) {
    return { ...base, ...fromMonitor, status: 'running', pid: m.pid, pidStartTime: m.pidStartTime, startedAt: m.startedAt ?? state.startedAt };
  }
  if (m?.status === 'restarting' && monitorAlive) {
    return { ...base, ...fromMonitor, status: 'restarting', exitCode: m.exitCode, finishedAt: m.finishedAt };
  }
  if (!monitorAlive) {
    return {
      ...base,
      ...fromMonitor,
      status: 'exited',
      exitCode: 137,
      finishedAt: m?.finishedAt,
      error: `its monitor (pid ${monitorPid}) died before recording the exit; the container was killed with it`,
    };
  }
  // The container has just ended and its monitor is writing the end down: until it has, the
  // container is what the monitor last said (a waiter hears the end from the monitor itself).
  return { ...base, ...fromMonitor, status: 'running', ...(m?.pid !== undefined ? { pid: m.pid, pidStartTime: m.pidStartTime } : {}) };
}

const HEX_ID_RE = /^[0-9a-f]{64}$/;
/** Guards taking over a name whose container is gone (beside names/, which holds only names). */
const NAMES_LOCK_FILE = 'names.lock';
const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'nifty', 'quiet', 'sharp', 'sleepy', 'stoic', 'tender', 'vivid', 'wise', 'zen'];
const NAMES = [
  'babbage',
  'curie',
  'dijkstra',
  'euler',
  'hopper',
  'knuth',
  'lamarr',
  'lovelace',
  'noether',
  'pike',
  'ritchie',
  'shannon',
  'thompson',
  'torvalds',
  'turing',
  'wirth',
];

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function randomName(): string {
  const pick = (list: readonly string[]) => list[randomBytes(1)[0]! % list.length]!;
  return `${pick(ADJECTIVES)}_${pick(NAMES)}`;
}

/** Replace `file` with `value` as JSON (temp file beside it, then rename). */
/** Write `value` as JSON through a temporary file and a rename; returns the text written. */
export function writeJsonAtomic(file: string, value: unknown): string {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const text = JSON.stringify(value, null, 2) + '\n';
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
  return text;
}

export class ContainerStore {
  private readonly namesDir: string;
  /** Bundle configs this process wrote at create, with their text: `run` starts what it has just created. */
  private readonly writtenSpecs = new Map<string, { text: string; spec: RuntimeSpec }>();

  constructor(private readonly paths: StorePaths) {
    this.namesDir = path.join(paths.root, 'names');
  }

  /** The run root (whose events log the container's events go to: src/events/). */
  get runRoot(): string {
    return this.paths.runRoot;
  }

  dir(id: string): string {
    return path.join(this.paths.containers, id);
  }

  runDir(id: string): string {
    return path.join(this.paths.runContainers, id);
  }

  logPath(id: string): string {
    return path.join(this.dir(id), LOG_FILE(id));
  }

  monitorStatusPath(id: string): string {
    return path.join(this.dir(id), MONITOR_STATUS_FILE);
  }

  /**
   * The container's lock file. It is made with the container and never again by a locker (see
   * ./lock.ts): one made by a hull that came too late would put a file back into a directory `rm`
   * is removing. A container from a hull older than that has none until its first lock.
   */
  lockPath(id: string): string {
    const file = path.join(this.dir(id), LOCK_FILE);
    if (!existsSync(file) && existsSync(path.join(this.dir(id), 'container.json'))) createLockFile(file);
    return file;
  }

  stopMarkerPath(id: string): string {
    return path.join(this.runDir(id), STOP_MARKER_FILE);
  }

  /** The events hull-monitor logs (start, die, oom, volume mount/unmount: src/events/emit.ts writeMonitorEvents). */
  eventLinesPath(id: string): string {
    return path.join(this.runDir(id), EVENT_LINES_FILE);
  }

  /** Give the container another name (the new one reserved first, so a clash changes nothing). */
  async rename(record: ContainerRecord, newName: string): Promise<void> {
    const old = record.name;
    const name = await this.reserveName(record.id, newName);
    record.name = name;
    writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
    const oldFile = path.join(this.namesDir, old);
    if (readText(oldFile)?.trim() === record.id) unlinkSync(oldFile);
  }

  /** Reserve `name` (or a generated one) for `id`; ConflictError if it is taken. */
  async reserveName(id: string, name: string | undefined): Promise<string> {
    mkdirSync(this.namesDir, { recursive: true });
    if (name !== undefined) {
      const bare = validateContainerName(name);
      await this.claim(bare, id);
      return bare;
    }
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt < 8 ? randomName() : `${randomName()}${attempt}`;
      try {
        await this.claim(candidate, id);
        return candidate;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt > 64) throw err;
      }
    }
  }

  /** Claim `name` for `id`; a name left by a container that no longer exists (a crash) is taken over. */
  private async claim(name: string, id: string): Promise<void> {
    const file = path.join(this.namesDir, name);
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(file, id, { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'create', file);
      }
      const owner = readText(file)?.trim() ?? '?';
      if (attempt > 0 || !(await this.dropOrphanName(name))) {
        throw new ConflictError(`the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to reuse the name`);
      }
    }
  }

  /**
   * Whether `id` has no record and nobody is making or removing it: a create holds the container's
   * lock from before it reserves a name until its record is written, and `rm` from before it
   * writes its tombstone until the last file is gone; a lock that is free (or gone) over no record
   * means the process that held it was killed.
   */
  abandoned(id: string): boolean {
    if (existsSync(path.join(this.dir(id), 'container.json'))) return false;
    const lock = tryExistingLock(path.join(this.dir(id), LOCK_FILE));
    if (lock === 'busy') return false;
    if (lock !== 'missing') lock.release();
    return true;
  }

  /**
   * A name whose container no longer exists (its `rm` was killed after the record went) is
   * removed, with what is left of that container's directory; false when the name is in use.
   */
  async dropOrphanName(name: string): Promise<boolean> {
    const file = path.join(this.namesDir, name);
    const names = await acquireLock(path.join(this.paths.root, NAMES_LOCK_FILE), 'exclusive', nativeFlock);
    try {
      const owner = readText(file)?.trim();
      if (owner === undefined) return true;
      if (!HEX_ID_RE.test(owner) || !this.abandoned(owner)) return false;
      unlinkSync(file);
      await this.dropLeftovers(owner);
      return true;
    } finally {
      names.release();
    }
  }

  /**
   * `system check --repair` of a record whose name file is missing (or names another container):
   * the name reserved again, or, when another container has it now, a new name.
   */
  async reclaimName(record: ContainerRecord): Promise<void> {
    const file = path.join(this.namesDir, record.name);
    const owner = readText(file)?.trim();
    if (owner === record.id) return;
    if (owner === undefined || (await this.dropOrphanName(record.name))) {
      try {
        await this.claim(record.name, record.id);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    const name = await this.reserveName(record.id, undefined);
    const recordFile = path.join(this.dir(record.id), 'container.json');
    const onDisk = JSON.parse(readText(recordFile) ?? '{}') as ContainerRecord;
    writeJsonAtomic(recordFile, { ...onDisk, name });
    record.name = name;
  }

  /** What a killed create or rm left of a container with no record: its directories. */
  async dropLeftovers(id: string): Promise<void> {
    if (!HEX_ID_RE.test(id)) return;
    detachStaleMounts(this.runDir(id));
    await removeTree(this.runDir(id), ['hostname', 'hosts', 'resolv.conf', 'state.json', STOP_MARKER_FILE], ['rootfs']);
    await removeTree(this.dir(id), [], ['upper', 'work/work', 'work/index', 'work']);
  }

  /**
   * Make the container's directory with its lock file, the lock taken: held by the caller until
   * the record is written (see `abandoned`). The directory is made under a temporary name and
   * renamed into place, so it never exists without its lock held.
   */
  async prepare(id: string): Promise<LockHandle> {
    const dir = this.dir(id);
    const temp = path.join(this.paths.containers, `.new-${id}`);
    mkdirSync(temp, { recursive: true });
    createLockFile(path.join(temp, LOCK_FILE));
    const lock = tryExistingLock(path.join(temp, LOCK_FILE));
    if (lock === 'busy' || lock === 'missing') throw new ConflictError(`container ${id}: its new directory is in use`);
    try {
      renameSync(temp, dir);
    } catch (err) {
      lock.release();
      rmSync(temp, { recursive: true, force: true });
      throw fromNodeError(err, 'rename', temp);
    }
    return lock;
  }

  /** Make the container's directories and write its record and bundle config (its directory is `prepare`d). */
  async create(record: ContainerRecord, spec: RuntimeSpec): Promise<void> {
    const dir = this.dir(record.id);
    mkdirSync(record.rootfs.upper, { recursive: true });
    mkdirSync(record.rootfs.work);
    mkdirSync(spec.root.path, { recursive: true });
    createLockFile(path.join(dir, LOCK_FILE));
    this.writtenSpecs.set(record.id, { text: writeJsonAtomic(path.join(dir, 'config.json'), spec), spec });
    writeJsonAtomic(path.join(dir, 'container.json'), record);
  }

  /**
   * The container's bundle config, read and checked; the object this process wrote at create when
   * the file still holds exactly its text (parsing and checking it again costs a start ~1 ms). Each
   * written object is handed out once: its reader may change it.
   */
  spec(id: string): RuntimeSpec {
    const file = path.join(this.dir(id), 'config.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw fromNodeError(err, 'read', file);
    }
    const written = this.writtenSpecs.get(id);
    this.writtenSpecs.delete(id);
    return written?.text === text ? written.spec : parseSpec(text);
  }

  /**
   * The removal's tombstone, written first (under the container's lock): from here on the
   * container is being removed, and whoever meets it next finishes the job (see Runtime).
   */
  markRemoving(record: ContainerRecord, removeVolumes: boolean): void {
    const { pid, pidStartTime, monitorPid, monitorStartTime, bootId, startedAt, finishedAt, exitCode } = record.state;
    record.state = { status: 'removing', pid, pidStartTime, monitorPid, monitorStartTime, bootId, startedAt, finishedAt, exitCode, removeVolumes };
    writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
  }

  /** Replace the container's bundle config (`update`). */
  saveSpec(id: string, spec: RuntimeSpec): void {
    writeJsonAtomic(path.join(this.dir(id), 'config.json'), spec);
  }

  /** Persist the record; a running container's state goes to the run root, anything else to disk. */
  async save(record: ContainerRecord): Promise<void> {
    delete record.state.paused; // derived at each read
    delete record.state.health;
    const stateFile = path.join(this.runDir(record.id), 'state.json');
    if (record.state.status === 'running' && record.state.monitorPid === undefined) {
      mkdirSync(this.runDir(record.id), { recursive: true });
      writeJsonAtomic(stateFile, record.state);
      return;
    }
    writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
    removeFile(stateFile);
  }

  async get(idOrName: string): Promise<ContainerRecord> {
    const id = await this.resolveId(idOrName);
    const record = this.read(id);
    if (!record) throw new ContainerNotFoundError(idOrName);
    return record;
  }

  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const [i, id] of this.ids().entries()) {
      // A few files each, read in step: a turn of the event loop every LIST_CHUNK records, so a long
      // list does not hold a server's other requests (the CLI pays a few microseconds for it).
      if (i > 0 && i % LIST_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      const record = this.read(id);
      if (record) out.push(record);
    }
    // ISO 8601 times order as strings: compared by code unit, not localeCompare, whose first call sets up ICU's collator (~8 ms of a CLI's start).
    return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  /** The record as it is on disk now (after a lock is taken, say). */
  read(id: string): ContainerRecord | undefined {
    const text = readText(path.join(this.dir(id), 'container.json'));
    if (text === undefined) return undefined;
    const record = JSON.parse(text) as ContainerRecord;
    if (record.state.status === 'removing') return record; // a removal to finish, whatever runs
    const foreground = readText(path.join(this.runDir(id), 'state.json'));
    if (foreground !== undefined) {
      record.state = JSON.parse(foreground) as ContainerState;
    } else {
      const statusFile = path.join(this.dir(id), MONITOR_STATUS_FILE);
      const first = readMonitorStatus(statusFile);
      if (first !== undefined || (record.state.monitorPid !== undefined && (record.state.status === 'running' || record.state.status === 'restarting'))) {
        let next: MonitorStatus | undefined = first;
        record.state = detachedState(record.state, () => {
          const m = next ?? readMonitorStatus(statusFile);
          next = undefined;
          return m;
        });
        return withHealth(this.dir(id), withPaused(record));
      }
    }
    if (record.state.status === 'running' && !isSameProcess(record.state.pid ?? 0, record.state.pidStartTime)) {
      // The hull that ran it died without recording the end (its container died with it).
      record.state = { status: 'exited', startedAt: record.state.startedAt, error: 'hull exited before the container; its exit code is unknown' };
    }
    return withHealth(this.dir(id), withPaused(record));
  }

  /** The ids of the container directories (with a record or not: see `abandoned`). */
  ids(): string[] {
    return listDir(this.paths.containers).filter((name) => HEX_ID_RE.test(name));
  }

  /** The names reserved, each with the id it names (a name whose container is gone included). */
  names(): { name: string; id: string }[] {
    return listDir(this.namesDir)
      .map((name) => ({ name, id: readText(path.join(this.namesDir, name))?.trim() ?? '' }))
      .filter((n) => n.id !== '');
  }

  /** A name, a full id, or a unique id prefix. */
  async resolveId(idOrName: string): Promise<string> {
    const bare = idOrName.replace(/^\//, '');
    // A full id first (as Docker looks up), without reading the names or listing the containers.
    if (HEX_ID_RE.test(bare) && existsSync(path.join(this.dir(bare), 'container.json'))) return bare;
    const byName = isStorableName(bare) ? readText(path.join(this.namesDir, bare))?.trim() : undefined;
    if (byName !== undefined) {
      if (existsSync(path.join(this.dir(byName), 'container.json'))) return byName;
      // A name whose container is gone (a killed rm): dropped here, so lookups and names agree.
      if (await this.dropOrphanName(bare)) throw new ContainerNotFoundError(idOrName);
      return byName; // being made or removed: its record, or its absence, decides
    }
    if (/^[0-9a-f]+$/.test(bare)) {
      const hits = this.ids().filter((id) => id.startsWith(bare));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new UsageError(`multiple containers match the id prefix ${bare}; give more characters`);
    }
    throw new ContainerNotFoundError(idOrName);
  }

  /**
   * Remove every trace of the container, in an order a crash at any point leaves recoverable: its
   * run files and writable layer first, then its record (from then on it does not exist), its
   * directory, and its name last. A name left over no record is an orphan that the next command to
   * look it up (or `system check`) removes, with the directory if that is left too. The caller
   * holds the container's lock.
   */
  async remove(record: Pick<ContainerRecord, 'id' | 'name' | 'logConfig'>): Promise<void> {
    detachStaleMounts(this.runDir(record.id)); // never remove through a remapped root's mounts
    await removeTree(this.runDir(record.id), ['hostname', 'hosts', 'resolv.conf', 'state.json', STOP_MARKER_FILE, EVENT_LINES_FILE], ['rootfs']);
    trace('run dir removed');
    crashPoint('rm: run directory removed');
    const rotated = Array.from({ length: Math.max(0, (record.logConfig?.maxFile ?? 1) - 1) }, (_, i) => `${LOG_FILE(record.id)}.${i + 1}`);
    const dir = this.dir(record.id);
    await removeTree(
      dir,
      ['config.json', LOG_FILE(record.id), ...rotated, MONITOR_STATUS_FILE, HEALTH_FILE],
      ['upper', 'work/work', 'work/index', 'work'],
      ['container.json', LOCK_FILE],
    );
    crashPoint('rm: files removed');
    removeFile(path.join(dir, 'container.json'));
    trace('record removed');
    crashPoint('rm: record removed');
    await removeTree(dir, [LOCK_FILE], []);
    crashPoint('rm: directory removed');
    // The name last: a name over no container is found (and dropped) by whoever looks it up.
    const names = await acquireLock(path.join(this.paths.root, NAMES_LOCK_FILE), 'exclusive', nativeFlock);
    try {
      const nameFile = path.join(this.namesDir, record.name);
      if (readText(nameFile)?.trim() === record.id) removeFile(nameFile);
    } finally {
      names.release();
    }
    trace('name released');
  }
}

/** A running container is paused while its cgroup is frozen (read at each read: pause/unpause write nothing else). */
function withPaused(record: ContainerRecord): ContainerRecord {
  delete record.state.paused;
  if (record.state.status !== 'running') return record;
  const root = cgroupHost().root;
  if (root === undefined) return record;
  const frozen = readText(path.join(root, record.cgroupParent, record.id, 'cgroup.freeze'))?.trim() === '1';
  if (frozen) record.state.paused = true;
  return record;
}

/** The container's health state (health.ts), when it has had health checks. */
function withHealth(dir: string, record: ContainerRecord): ContainerRecord {
  delete record.state.health;
  if (record.healthcheck === undefined) return record;
  const health = readHealth(dir);
  if (health) record.state.health = health;
  return record;
}

/** The lock of an existing lock file if it is free now; 'busy' when held, 'missing' when there is no such file. */
export function tryExistingLock(file: string): LockHandle | 'busy' | 'missing' {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw fromNodeError(err, 'open', file);
  }
  try {
    nativeFlock(fd, LOCK_EX | LOCK_NB);
  } catch (err) {
    closeSync(fd);
    const code = (err as { code?: string }).code;
    if (code === 'EWOULDBLOCK' || code === 'EAGAIN') return 'busy';
    throw fromNodeError(err, 'flock', file);
  }
  let held = true;
  return {
    fd,
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}

function createLockFile(file: string): void {
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'create', file);
  }
}

/**
 * Remove a directory whose usual contents are known: those first, one syscall each, the files all
 * at once (the libuv pool runs them side by side, and the event loop of a server that removes
 * containers is never held by them), then the recursive walk only if something else is left (a
 * used upper layer).
 */
async function removeTree(dir: string, files: readonly string[], dirs: readonly string[], keep: readonly string[] = []): Promise<void> {
  const tolerated = new Set(['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR']);
  const attempt = async (op: (p: string) => Promise<void>, target: string, name: string) => {
    try {
      await op(target);
    } catch (err) {
      // Not what was expected there (or already gone): the recursive walk below deals with it.
      if (!tolerated.has((err as NodeJS.ErrnoException).code ?? '')) throw fromNodeError(err, name, target);
    }
  };
  // One readdir instead of a failing unlink (a thrown ENOENT) per known file that is not there.
  let present: Set<string>;
  try {
    present = new Set(await readdir(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromNodeError(err, 'readdir', dir);
  }
  await Promise.all(files.filter((f) => present.has(f)).map((f) => attempt(unlink, path.join(dir, f), 'unlink')));
  // In order: a directory after those inside it (work/work before work).
  for (const d of dirs) if (present.has(d.split('/')[0]!)) await attempt(rmdir, path.join(dir, d), 'rmdir');
  if (keep.length > 0) {
    // Everything but `keep`: what is left (a used upper layer) recursively.
    for (const name of await readdir(dir)) if (!keep.includes(name)) await rm(path.join(dir, name), { recursive: true, force: true });
    return;
  }
  try {
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fromNodeError(err, 'rmdir', dir);
    await rm(dir, { recursive: true, force: true });
  }
}
