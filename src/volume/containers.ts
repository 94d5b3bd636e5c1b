/**
 * Volumes as containers use them: a container's mount requests resolved at create time (under the
 * volumes lock, which the caller holds shared until the container's record is written), the
 * copy-up from its image, who uses a volume (any container record that mounts it, running or
 * not), and the removal of a container's anonymous volumes (`rm -v`, `--rm`).
 */
import path from 'node:path';
import { ConflictError } from '../errors.js';
import type { MountRequest, VolumesFromRequest } from './requests.js';
import { type MountPoint, type MountSource, type ResolvedMounts, resolveMounts } from './resolve.js';
import { ANONYMOUS_LABEL, type VolumeStore } from './store.js';

/** What this module reads of the container store. */
export interface ContainerLookup {
  list(): Promise<{ id: string; mounts?: MountPoint[]; state: { status: string } }[]>;
  get(idOrName: string): Promise<MountSource>;
}

export class ContainerVolumes {
  constructor(
    readonly store: VolumeStore,
    private readonly containers: ContainerLookup,
    /** Where the image's read-only view is mounted for a moment during copy-up (the run root). */
    private readonly scratch: string,
  ) {}

  /** The container's mounts; undefined when it has none (no flags, no image VOLUME). Call with the volumes lock held. */
  async resolve(opts: { mounts?: MountRequest[]; volumesFrom?: VolumesFromRequest[]; imageConfig: unknown }): Promise<ResolvedMounts | undefined> {
    const imageVolumes = Object.keys((opts.imageConfig as { Volumes?: Record<string, unknown> | null } | undefined)?.Volumes ?? {});
    if (!opts.mounts?.length && !opts.volumesFrom?.length && imageVolumes.length === 0) return undefined;
    return resolveMounts({
      requests: opts.mounts ?? [],
      volumesFrom: opts.volumesFrom ?? [],
      imageVolumes,
      volumes: this.store,
      getContainer: (c) => this.containers.get(c),
    });
  }

  /** Docker's copy-up: each empty volume gets the image's content at its mount path. */
  async populate(mounts: ResolvedMounts, lowerTopFirst: readonly string[]): Promise<void> {
    if (mounts.populate.length === 0) return;
    const { populateVolume } = await import('./populate.js');
    for (const p of mounts.populate) {
      // A bind volume's data is the host directory it names, which may be on another file system (copy-up renames across from the volume's directory): not filled.
      if (this.store.get(p.name).Options?.device !== undefined) continue;
      await populateVolume({
        volumeDir: this.store.volumeDir(p.name),
        dataDir: this.store.dataDir(p.name),
        lowerTopFirst,
        inner: p.target,
        scratch: path.join(this.scratch, 'volume-views'),
      });
    }
  }

  /** Forget the anonymous volumes a failed create made (no record names them; the lock is held). */
  discard(mounts: ResolvedMounts | undefined): void {
    for (const name of mounts?.createdAnonymous ?? []) this.store.discard(name);
  }

  /** The ids of containers (any state but being removed: those never run again) whose records mount the volume. */
  async users(name: string): Promise<string[]> {
    return (await this.containers.list())
      .filter((c) => c.state.status !== 'removing' && c.mounts?.some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.id);
  }

  /** Remove the anonymous volumes among `mounts` that no container uses any more. Call without the volumes lock. */
  async removeAnonymous(mounts: readonly MountPoint[] | undefined): Promise<void> {
    const names = (mounts ?? [])
      .filter((m) => m.Type === 'volume' && m.Name !== undefined && this.store.read(m.Name)?.Labels[ANONYMOUS_LABEL] !== undefined)
      .map((m) => m.Name as string);
    if (names.length === 0) return;
    const lock = await this.store.lock('exclusive');
    try {
      for (const name of names) {
        await this.store
          .removeLocked(name, (n) => this.users(n), { force: true })
          .catch((err: unknown) => {
            if (!(err instanceof ConflictError)) throw err; // still used (--volumes-from): kept, as Docker does
          });
      }
    } finally {
      lock.release();
    }
  }
}
