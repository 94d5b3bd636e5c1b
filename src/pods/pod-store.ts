/**
 * Pods' records: `<root>/pods/<id>/pod.json`, each written whole (temp + rename). A pod's
 * containers are not listed in it: a container's record names its pod (ContainerRecord.pod), so
 * the two can never disagree; the infra container's id is the pod's.
 *
 * Locking (flock, so a killed holder releases it): `<root>/locks/pods`
 *   exclusive  pod create (its name is free until its record is written), pod rm and prune
 *   shared     a container's create in a pod until its record is written, and the pod verbs
 *              (start, stop, …), so no pod is removed under a container joining it
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, PodNotFoundError } from '../errors.js';
import { listDir, readText } from '../files.js';
import type { NetworkMode } from '../network/container-config.js';
import type { ExtraHost } from '../network/hosts.js';
import type { PortSpec } from '../network/ports.js';
import type { SpecResources } from '../runtime/spec.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { type LockHandle, type LockMode, acquireLock, nativeFlock } from '../store/lock.js';
import type { StorePaths } from '../store/paths.js';
import type { PodNamespace } from './options.js';

/** The network a pod's infra container was made with (kept for inspect and `kube generate`). */
export interface PodNetwork {
  mode?: NetworkMode;
  ports: PortSpec[];
  publishAll: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: ExtraHost[];
  ip?: string;
  macAddress?: string;
}

export interface PodRecord {
  id: string;
  name: string;
  created: string;
  labels: Record<string, string>;
  hostname: string;
  /** The namespaces its containers join of the infra container's (sorted). */
  share: PodNamespace[];
  /** The infra container (absent: made with `--infra=false`). */
  infraId?: string;
  /** Where the pod's cgroup is, relative to the cgroup2 root. */
  cgroupParent: string;
  /** The pod's cgroup (`<cgroupParent>/pod-<id>`): its containers' cgroup parent. */
  cgroup: string;
  resources?: SpecResources;
  network: PodNetwork;
}

export function newPodId(): string {
  return randomBytes(32).toString('hex');
}

export class PodStore {
  readonly dir: string;
  private readonly lockFile: string;
  private readonly tmp: string;

  constructor(paths: StorePaths) {
    this.dir = path.join(paths.root, 'pods');
    this.lockFile = path.join(paths.root, 'locks', 'pods');
    this.tmp = paths.tmp;
  }

  lock(mode: LockMode): Promise<LockHandle> {
    return acquireLock(this.lockFile, mode, nativeFlock);
  }

  /** `fn` under the lock taken as `mode`. */
  async locked<T>(mode: LockMode, fn: () => Promise<T>): Promise<T> {
    const lock = await this.lock(mode);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  private file(id: string): string {
    return path.join(this.dir, id, 'pod.json');
  }

  read(id: string): PodRecord | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    const text = readText(this.file(id));
    return text === undefined ? undefined : (JSON.parse(text) as PodRecord);
  }

  list(): PodRecord[] {
    return listDir(this.dir)
      .map((id) => this.read(id))
      .filter((p): p is PodRecord => p !== undefined)
      .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0)); // ISO times: by code unit (no ICU collator to set up)
  }

  /** By full name, full id, or a unique id prefix (Podman's lookup order). */
  get(nameOrId: string): PodRecord {
    const all = this.list();
    const byName = all.find((p) => p.name === nameOrId);
    if (byName) return byName;
    const exact = all.find((p) => p.id === nameOrId);
    if (exact) return exact;
    const prefixed = nameOrId.length > 0 && /^[0-9a-f]+$/.test(nameOrId) ? all.filter((p) => p.id.startsWith(nameOrId)) : [];
    if (prefixed.length > 1) throw new ConflictError(`more than one result for pod ID ${nameOrId}: pod already exists`);
    if (prefixed.length === 1) return prefixed[0]!;
    throw new PodNotFoundError(nameOrId);
  }

  /** Write a new or changed record (the caller holds the lock exclusively for a new one). */
  async save(record: PodRecord): Promise<void> {
    mkdirSync(path.join(this.dir, record.id), { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    await writeFileAtomic(this.tmp, this.file(record.id), JSON.stringify(record, null, 2));
  }

  remove(id: string): void {
    rmSync(path.join(this.dir, id), { recursive: true, force: true });
  }
}
