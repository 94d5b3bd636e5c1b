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
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError, UsageError, fromNodeError } from '../errors.js';
import type { StorePaths } from '../store/paths.js';
import type { RootfsLayers } from './plan.js';
import type { RuntimeSpec } from './spec.js';
import { trace } from '../trace.js';
import { isSameProcess } from './liveness.js';
import { detachStaleMounts } from './userns.js';
import { type MonitorStatus, readMonitorStatus } from './monitor-status.js';
import type { RestartPolicy } from './plan-codec.js';
import { listDir, readText } from '../files.js';
import type { MountPoint } from '../volume/resolve.js';
import type { ContainerNetworkConfig } from '../network/manager.js';
import { isStorableName, validateContainerName } from './validate.js';

export type ContainerStatus = 'created' | 'running' | 'restarting' | 'exited';

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
  /** Volumes, binds and tmpfs mounts (Docker's MountPoint); the flags as given, for inspect. */
  mounts?: MountPoint[];
  binds?: string[];
  tmpfs?: Record<string, string>;
  volumesFrom?: string[];
  /** `--network`, `-p`, `--dns`, … (absent on containers made before networking: a namespace with lo only). */
  network?: ContainerNetworkConfig;
}

/** The files of a container other than its record: the json-file log and the monitor's status. */
export const LOG_FILE = (id: string) => `${id}-json.log`;
export const MONITOR_STATUS_FILE = 'monitor.json';
export const STOP_MARKER_FILE = 'stopping';
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

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The state of a detached container, from hull's record and what its monitor wrote. Never
 * "running" unless its process is: pid + start time are checked; another boot id means stale.
 */
export function detachedState(state: ContainerState, monitor: () => MonitorStatus | undefined, bootId = currentBootId()): ContainerState {
  const base = { startedAt: state.startedAt, monitorPid: state.monitorPid, monitorStartTime: state.monitorStartTime, bootId: state.bootId };
  if (state.bootId !== undefined && state.bootId !== bootId) {
    return { ...base, status: 'exited', exitCode: 255, restartCount: state.restartCount ?? 0,
      error: 'the host rebooted while the container ran (its state is from another boot); its exit code is unknown' };
  }
  for (let attempt = 0; ; attempt++) {
    const m = monitor();
    const fromMonitor = { restartCount: m?.restartCount ?? state.restartCount ?? 0, oomKilled: m?.oomKilled ?? false };
    if (m?.status === 'exited') {
      return { ...base, ...fromMonitor, status: 'exited', startedAt: m.startedAt ?? state.startedAt, exitCode: m.exitCode,
        finishedAt: m.finishedAt, ...(m.error ? { error: m.error } : {}) };
    }
    if (m?.status === 'running' && m.pid !== undefined && isSameProcess(m.pid, m.pidStartTime)) {
      return { ...base, ...fromMonitor, status: 'running', pid: m.pid, pidStartTime: m.pidStartTime, startedAt: m.startedAt ?? state.startedAt };
    }
    const monitorAlive = isSameProcess(state.monitorPid ?? 0, state.monitorStartTime);
    if (m?.status === 'restarting' && monitorAlive) {
      return { ...base, ...fromMonitor, status: 'restarting', exitCode: m.exitCode, finishedAt: m.finishedAt };
    }
    if (!monitorAlive) {
      return { ...base, ...fromMonitor, status: 'exited', exitCode: 137, finishedAt: m?.finishedAt,
        error: `its monitor (pid ${state.monitorPid}) died before recording the exit; the container was killed with it` };
    }
    // The container has just ended and its monitor is writing the end down: a moment at most.
    if (attempt >= 100) {
      return { ...base, ...fromMonitor, status: 'exited', error: 'the container ended; its monitor has not recorded the exit code yet' };
    }
    sleepSync(5);
  }
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'nifty', 'quiet', 'sharp', 'sleepy', 'stoic', 'tender', 'vivid', 'wise', 'zen'];
const NAMES = ['babbage', 'curie', 'dijkstra', 'euler', 'hopper', 'knuth', 'lamarr', 'lovelace', 'noether', 'pike', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wirth'];

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

function randomName(): string {
  const pick = (list: readonly string[]) => list[randomBytes(1)[0]! % list.length]!;
  return `${pick(ADJECTIVES)}_${pick(NAMES)}`;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export class ContainerStore {
  private readonly names: string;

  constructor(private readonly paths: StorePaths) {
    this.names = path.join(paths.root, 'names');
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

  /** Give the container another name (the new one reserved first, so a clash changes nothing). */
  async rename(record: ContainerRecord, newName: string): Promise<void> {
    const old = record.name;
    const name = await this.reserveName(record.id, newName);
    record.name = name;
    writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
    const oldFile = path.join(this.names, old);
    if (readText(oldFile)?.trim() === record.id) unlinkSync(oldFile);
  }

  /** Reserve `name` (or a generated one) for `id`; ConflictError if it is taken. */
  async reserveName(id: string, name: string | undefined): Promise<string> {
    mkdirSync(this.names, { recursive: true });
    if (name !== undefined) {
      const bare = validateContainerName(name);
      this.claim(bare, id);
      return bare;
    }
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt < 8 ? randomName() : `${randomName()}${attempt}`;
      try {
        this.claim(candidate, id);
        return candidate;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt > 64) throw err;
      }
    }
  }

  private claim(name: string, id: string): void {
    try {
      writeFileSync(path.join(this.names, name), id, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        const owner = readText(path.join(this.names, name)) ?? '?';
        throw new ConflictError(`the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to reuse the name`);
      }
      throw fromNodeError(err, 'create', path.join(this.names, name));
    }
  }

  /** Make the container's directories and write its record and bundle config. */
  async create(record: ContainerRecord, spec: RuntimeSpec): Promise<void> {
    const dir = this.dir(record.id);
    mkdirSync(record.rootfs.upper, { recursive: true });
    mkdirSync(record.rootfs.work);
    mkdirSync(spec.root.path, { recursive: true });
    createLockFile(path.join(dir, LOCK_FILE));
    writeJsonAtomic(path.join(dir, 'config.json'), spec);
    writeJsonAtomic(path.join(dir, 'container.json'), record);
  }

  /** Replace the container's bundle config (`update`). */
  saveSpec(id: string, spec: RuntimeSpec): void {
    writeJsonAtomic(path.join(this.dir(id), 'config.json'), spec);
  }

  /** Persist the record; a running container's state goes to the run root, anything else to disk. */
  async save(record: ContainerRecord): Promise<void> {
    const stateFile = path.join(this.runDir(record.id), 'state.json');
    if (record.state.status === 'running' && record.state.monitorPid === undefined) {
      mkdirSync(this.runDir(record.id), { recursive: true });
      writeJsonAtomic(stateFile, record.state);
      return;
    }
    writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
    rmSync(stateFile, { force: true });
  }

  async get(idOrName: string): Promise<ContainerRecord> {
    const id = await this.resolveId(idOrName);
    const record = this.read(id);
    if (!record) throw new ContainerNotFoundError(idOrName);
    return record;
  }

  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of listDir(this.paths.containers)) {
      const record = this.read(id);
      if (record) out.push(record);
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** The record as it is on disk now (after a lock is taken, say). */
  read(id: string): ContainerRecord | undefined {
    const text = readText(path.join(this.dir(id), 'container.json'));
    if (text === undefined) return undefined;
    const record = JSON.parse(text) as ContainerRecord;
    const state = readText(path.join(this.runDir(id), 'state.json'));
    if (state !== undefined) record.state = JSON.parse(state) as ContainerState;
    if (record.state.monitorPid !== undefined && (record.state.status === 'running' || record.state.status === 'restarting')) {
      record.state = detachedState(record.state, () => readMonitorStatus(path.join(this.dir(id), MONITOR_STATUS_FILE)));
    } else if (record.state.status === 'running' && !isSameProcess(record.state.pid ?? 0, record.state.pidStartTime)) {
      // The hull that ran it died without recording the end (its container died with it).
      record.state = { status: 'exited', startedAt: record.state.startedAt, error: 'hull exited before the container; its exit code is unknown' };
    }
    return record;
  }

  /** A name, a full id, or a unique id prefix. */
  async resolveId(idOrName: string): Promise<string> {
    const bare = idOrName.replace(/^\//, '');
    const byName = isStorableName(bare) ? readText(path.join(this.names, bare)) : undefined;
    if (byName !== undefined) return byName.trim();
    if (/^[0-9a-f]+$/.test(bare)) {
      const hits = listDir(this.paths.containers).filter((id) => id.startsWith(bare));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new UsageError(`multiple containers match the id prefix ${bare}; give more characters`);
    }
    throw new ContainerNotFoundError(idOrName);
  }

  /** Remove every trace of the container: its name, its directories (record, writable layer), run files. */
  async remove(record: Pick<ContainerRecord, 'id' | 'name' | 'logConfig'>): Promise<void> {
    const nameFile = path.join(this.names, record.name);
    if (readText(nameFile)?.trim() === record.id) unlinkSync(nameFile);
    trace('name released');
    detachStaleMounts(this.runDir(record.id)); // never remove through a remapped root's mounts
    removeTree(this.runDir(record.id), ['hostname', 'hosts', 'resolv.conf', 'state.json', STOP_MARKER_FILE], ['rootfs']);
    trace('run dir removed');
    const rotated = Array.from({ length: Math.max(0, (record.logConfig?.maxFile ?? 1) - 1) }, (_, i) => `${LOG_FILE(record.id)}.${i + 1}`);
    removeTree(this.dir(record.id), ['config.json', 'container.json', LOG_FILE(record.id), ...rotated, MONITOR_STATUS_FILE, LOCK_FILE],
      ['upper', 'work/work', 'work/index', 'work']);
  }
}

function createLockFile(file: string): void {
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'create', file);
  }
}

/**
 * Remove a directory whose usual contents are known: those first, one syscall each (fast on the
 * start/stop path), then the recursive walk only if something else is left (a used upper layer).
 */
function removeTree(dir: string, files: readonly string[], dirs: readonly string[]): void {
  const tolerated = new Set(['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR']);
  const attempt = (op: (p: string) => void, target: string, name: string) => {
    try {
      op(target);
    } catch (err) {
      // Not what was expected there (or already gone): the recursive walk below deals with it.
      if (!tolerated.has((err as NodeJS.ErrnoException).code ?? '')) throw fromNodeError(err, name, target);
    }
  };
  // One readdir instead of a failing unlink (a thrown ENOENT) per known file that is not there.
  let present: Set<string>;
  try {
    present = new Set(readdirSync(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromNodeError(err, 'readdir', dir);
  }
  for (const f of files) if (present.has(f)) attempt(unlinkSync, path.join(dir, f), 'unlink');
  for (const d of dirs) if (present.has(d.split('/')[0]!)) attempt(rmdirSync, path.join(dir, d), 'rmdir');
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fromNodeError(err, 'rmdir', dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
