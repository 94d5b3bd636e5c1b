/**
 * The container lifecycle's front: one `Runtime` per store, holding the parts every verb works
 * with (the container store, networking, volumes) and the helpers they share — finding a container
 * and settling what an interrupted command left of it (see `settle`), its lock, its etc files.
 * The verbs live one concern per module: create.ts, start.ts (foreground), detached.ts (under a
 * monitor), stop.ts, exec.ts, container-verbs.ts; this class only hands them over.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError } from '../errors.js';
import { withLock } from './lock.js';
import { finishRemoval, holdsResources, releaseResources } from './removal.js';
import { type LogEntry, type LogSelection } from './logs.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { ContainerCgroup, cgroup2Root, cgroupHost } from './cgroups.js';
import type { SpecResources } from './spec.js';
import { type ContainerRecord, ContainerStore, tryExistingLock } from './container-store.js';
import type { RuntimeSpec } from './spec.js';
import { compiledFilter } from './seccomp/step.js';
import { VolumeStore } from '../volume/store.js';
import { ContainerVolumes } from '../volume/containers.js';

import { Networking } from '../network/manager.js';
import { hostsHead } from '../network/hosts.js';
import { containerEvent } from '../events/emit.js';

import * as createVerb from './create.js';
import * as startVerb from './start.js';
import * as detachedVerb from './detached.js';
import * as stopVerb from './stop.js';
import * as execVerb from './exec.js';
import * as verbs from './container-verbs.js';
import type { CreateOptions, CreatedContainer } from './create.js';
import type { ExecOptions } from './exec.js';
import type { ExecProcess, RunningContainer, StartOptions } from './started.js';
import type { Attachment } from './monitor-client.js';

export type { CreateOptions, CreatedContainer } from './create.js';
export { ANNOTATION_CREATE_WORKDIR, INIT_PATH_IN_CONTAINER } from './create.js';
export type { ExecOptions } from './exec.js';
export { type ExecProcess, RunningContainer, type StartOptions, StartedProcess } from './started.js';

export class Runtime {
  readonly containers: ContainerStore;
  readonly volumes: ContainerVolumes;
  readonly network: Networking;

  constructor(
    readonly paths: StorePaths,
    readonly images: ImageStore,
  ) {
    this.containers = new ContainerStore(paths);
    this.volumes = new ContainerVolumes(new VolumeStore(paths), this.containers, paths.runRoot);
    this.network = new Networking(paths);
  }

  // ---- the verbs (one module each) -------------------------------------------------------------

  /** A new container from typed options, and Docker's warnings about them (for the caller to show). */
  create(opts: CreateOptions): Promise<CreatedContainer> {
    return createVerb.create(this, opts);
  }

  /** Start a created or stopped container in the foreground (hull's child); resolves once its command runs. */
  start(record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
    return startVerb.start(this, record, opts);
  }

  /** Start a created or stopped container under its own monitor (`run -d`, `start`). A running one is left as it is. */
  startDetached(idOrName: string): Promise<ContainerRecord> {
    return detachedVerb.startDetached(this, idOrName);
  }

  /** Start under its monitor, attached from its first output (`start -a`, with stdin: `start -ai`). */
  startAttached(idOrName: string, opts: { stdin: boolean }): Promise<{ record: ContainerRecord; attachment: Attachment }> {
    return detachedVerb.startAttached(this, idOrName, opts);
  }

  /** Attach to a running detached container (`attach`). */
  attach(idOrName: string, opts: { stdin: boolean }): Promise<{ record: ContainerRecord; attachment: Attachment }> {
    return detachedVerb.attachTo(this, idOrName, opts);
  }

  stop(idOrName: string, timeoutSeconds?: number): Promise<void> {
    return stopVerb.stop(this, idOrName, timeoutSeconds);
  }

  kill(idOrName: string, signal: number): Promise<void> {
    return stopVerb.kill(this, idOrName, signal);
  }

  releaseNetwork(idOrName: string): Promise<void> {
    return stopVerb.releaseNetwork(this, idOrName);
  }

  restart(idOrName: string, timeoutSeconds?: number): Promise<void> {
    return stopVerb.restart(this, idOrName, timeoutSeconds);
  }

  wait(idOrName: string): Promise<number> {
    return stopVerb.wait(this, idOrName);
  }

  exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    return execVerb.exec(this, idOrName, opts);
  }

  inspect(idOrName: string): Promise<Record<string, unknown>> {
    return verbs.inspect(this, idOrName);
  }

  logs(idOrName: string, opts: LogSelection & { follow?: boolean; fromOffset?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogEntry[]> {
    return verbs.logs(this, idOrName, opts);
  }

  waitForChange(id: string, ms: number): Promise<boolean> {
    return verbs.waitForChange(this, id, ms);
  }

  copy(idOrName: string, direction: 'from' | 'to', containerPath: string, hostPath: string, opts: { followLink?: boolean } = {}): Promise<void> {
    return verbs.copy(this, idOrName, direction, containerPath, hostPath, opts);
  }

  update(idOrName: string, changes: SpecResources): Promise<void> {
    return verbs.update(this, idOrName, changes);
  }

  cgroupDir(idOrName: string): Promise<{ record: ContainerRecord; dir: string }> {
    return verbs.cgroupDir(this, idOrName);
  }

  pause(idOrName: string): Promise<void> {
    return verbs.pause(this, idOrName);
  }

  unpause(idOrName: string): Promise<void> {
    return verbs.unpause(this, idOrName);
  }

  rename(idOrName: string, newName: string): Promise<void> {
    return verbs.rename(this, idOrName, newName);
  }

  remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return verbs.remove(this, idOrName, opts);
  }

  // ---- shared by the verbs ---------------------------------------------------------------------

  /** Remove a container's files, and with `volumes` its anonymous volumes (`rm -v`, `--rm`). */
  async dropContainer(record: ContainerRecord, volumes: boolean): Promise<void> {
    await this.containers.remove(record);
    containerEvent(this.paths.runRoot, record, 'destroy');
    if (volumes) await this.volumes.removeAnonymous(record.mounts);
  }

  /** The spec's compiled seccomp filter, cached in the store by digest (see seccomp/step.ts). */
  async seccompFilter(spec: RuntimeSpec): Promise<string | undefined> {
    if (!spec.linux.seccomp) return undefined;
    return compiledFilter(spec.linux.seccomp, path.join(this.paths.root, 'cache', 'seccomp'));
  }

  /** The directories a remapped container's root must be able to search: its own, up to hull's roots. */
  searchPath(id: string): string[] {
    const out: string[] = [];
    for (const [from, top] of [
      [this.containers.dir(id), this.paths.root],
      [this.containers.runDir(id), this.paths.runRoot],
    ] as const) {
      mkdirSync(from, { recursive: true });
      for (let d = from; d.startsWith(top); d = path.dirname(d)) {
        out.push(d);
        if (d === top) break;
      }
    }
    return out;
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
  unsettled(record: ContainerRecord): boolean {
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
  async settle(record: ContainerRecord): Promise<'removed' | 'kept'> {
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
  async settleIfFree(record: ContainerRecord): Promise<ContainerRecord | undefined> {
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

  /** The container's cgroup when it exists (undefined without a cgroup2 hierarchy). */
  existingCgroup(record: ContainerRecord): ContainerCgroup | undefined {
    const root = cgroupHost().root;
    return root === undefined ? undefined : ContainerCgroup.existing(root, record.id, record.cgroupParent);
  }

  async runningCgroup(record: ContainerRecord, idOrName: string): Promise<ContainerCgroup> {
    const cgroup = record.state.status === 'running' ? ContainerCgroup.existing(await cgroup2Root(), record.id, record.cgroupParent) : undefined;
    if (!cgroup || !(await cgroup.populated())) throw new ConflictError(`container ${idOrName} is not running`);
    return cgroup;
  }

  /** /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, in its run directory. */
  async writeEtcFiles(id: string, hostname: string): Promise<{ hostname: string; hosts: string; resolvConf: string }> {
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

function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return ''; // a host without resolv.conf: the container gets the public fallbacks
  }
}

export function isHostFile(hostPath: string): boolean {
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
