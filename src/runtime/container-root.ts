/**
 * The root `cp` and the Engine API's archive copy files in, in any state of the container (as
 * Docker's): a running or paused one's is /proc/PID/root; a created or exited one's is its file
 * system as its next start will see it, mounted for the copy only —
 *
 *   <runRoot>/cp/<id>            the container's overlay (the lowerdir/upperdir/workdir start uses,
 *                                plan.ts overlayMount; a remapped container's through userns.ts's
 *                                idmapped layers), read-only for a read-only rootfs
 *   <runRoot>/cp/<id>/<target>   each volume and bind at its target, resolved inside that root
 *                                (openat2 RESOLVE_IN_ROOT), read-only when it is; tmpfs mounts are
 *                                skipped (nothing written to one lives on)
 *
 * so a file copied "under" a volume lands in the volume, as at the next start, never in the upper
 * directory below it (where that start would hide it). The caller holds the container's lock, so
 * no start races the mount; it goes in a finally (detached lazily when busy). A mount a killed
 * hull left there is detached by the next copy of that container, and found by `hull system check`.
 */
import { closeSync, mkdirSync, openSync, rmdirSync, constants } from 'node:fs';
import path from 'node:path';
import { ConflictError, UsageError, fromNodeError } from '../errors.js';
import { MNT_DETACH, sys } from '../native/index.js';
import { mountsBelow } from '../store/mounts-below.js';
import type { ContainerRecord } from './container-store.js';
import { openProcess } from './liveness.js';
import { MS, overlayMount } from './plan.js';
import { containerSpec } from './prepare.js';
import { type Runtime, isHostFile } from './runtime.js';
import type { RuntimeSpec } from './spec.js';
import { isLive, mayAct, statusOfRecord } from './states.js';
import { hasUserns, prepareIdmappedRootfs } from './userns.js';

const O_PATH = 0o10000000;
const { O_DIRECTORY, O_CREAT, O_WRONLY, O_NOFOLLOW } = constants;

/** Where a stopped container's root is mounted while files are copied (one per container: its lock is held). */
export function copyMountPoint(runRoot: string, id: string): string {
  return path.join(runRoot, 'cp', id);
}

/** A container's root for a copy, and the check a write into one of its directories must pass. */
export interface CopyRoot {
  root: string;
  /** Throws Docker's error when `dir` (resolved in the container) is on its read-only rootfs or in a read-only volume. */
  checkWritable: (dir: string) => void;
}

/**
 * Runs `fn` with the container's root: a running or paused one's (its process held by a pidfd
 * meanwhile), else the created or exited one's mounted as above. The caller holds the container's lock.
 */
export async function inContainerRoot<T>(rt: Runtime, record: ContainerRecord, idOrName: string, fn: (root: CopyRoot) => T | Promise<T>): Promise<T> {
  const status = statusOfRecord(record);
  mayAct('copy', status, idOrName);
  const spec = containerSpec(rt, record.id);
  const checkWritable = (dir: string) => refuseReadOnly(spec, record, dir);
  if (!isLive(status)) return withStoppedRoot(rt, record, spec, (root) => fn({ root, checkWritable }));
  const fd = await openProcess(record.state.pid, record.state.pidStartTime);
  if (fd === undefined) throw new ConflictError(`container ${idOrName} is not running`); // ended meanwhile: its monitor has not written it down yet
  try {
    return await fn({ root: `/proc/${record.state.pid}/root`, checkWritable });
  } finally {
    closeSync(fd);
  }
}

/**
 * Docker's check before it extracts into a container (checkIfPathIsInAVolume): a directory in a
 * volume, bind or tmpfs (the deepest that holds it) is as writable as that mount; anywhere else,
 * as the rootfs.
 */
export function refuseReadOnly(spec: Pick<RuntimeSpec, 'root'>, record: Pick<ContainerRecord, 'mounts'>, dir: string): void {
  const clean = path.posix.join('/', dir);
  const holder = (record.mounts ?? [])
    .filter((m) => {
      const dest = path.posix.join('/', m.Destination);
      return clean === dest || clean.startsWith(`${dest}/`);
    })
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  if (holder) {
    if (!holder.RW) throw new UsageError('mounted volume is marked read-only');
    return;
  }
  if (spec.root.readonly) throw new UsageError('container rootfs is marked read-only');
}

/** `fn` with the created or exited container's root mounted at its copy mount point; unmounted after, whatever happens. */
async function withStoppedRoot<T>(rt: Runtime, record: ContainerRecord, spec: RuntimeSpec, fn: (root: string) => T | Promise<T>): Promise<T> {
  const dir = copyMountPoint(rt.paths.runRoot, record.id);
  unmountAll(dir); // a killed hull's: this container's lock is ours, so no copy is using it
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let idmapped: { detach: () => void } | undefined;
  try {
    if (hasUserns(spec)) {
      // The layers idmapped as start does (files copied up from them keep their mapped owners); the overlay it makes, bound here.
      idmapped = prepareIdmappedRootfs(spec, record.rootfs, rt.containers.runDir(record.id), rt.searchPath(record.id));
      sys.mount(spec.root.path, dir, '', MS.BIND, '');
    } else {
      const [cwd, data] = overlayMount(record.rootfs);
      const back = process.cwd();
      if (cwd !== undefined) process.chdir(cwd); // the relative l/ID lower directories
      try {
        sys.mount('overlay', dir, 'overlay', 0, data);
      } finally {
        if (cwd !== undefined) process.chdir(back);
      }
    }
    for (const m of record.mounts ?? []) {
      if (m.Type === 'tmpfs') continue;
      const target = openMountTarget(dir, m.Destination, isHostFile(m.Source) ? 'file' : 'dir');
      try {
        sys.mount(m.Source, `/proc/self/fd/${target}`, '', MS.BIND | MS.REC, '');
      } finally {
        closeSync(target);
      }
      if (!m.RW) {
        // The bind's own root, opened again through it: a remount applies to the mount it names.
        const mounted = sys.openInRoot(dir, m.Destination, O_PATH, 0);
        try {
          sys.mount('', `/proc/self/fd/${mounted}`, '', MS.REMOUNT | MS.BIND | MS.RDONLY, '');
        } finally {
          closeSync(mounted);
        }
      }
    }
    // Read-only after the mount targets were made (start makes them too, before its own remount).
    if (spec.root.readonly) sys.mount('', dir, '', MS.REMOUNT | MS.BIND | MS.RDONLY, '');
    return await fn(dir);
  } finally {
    unmountAll(dir);
    idmapped?.detach();
    try {
      rmdirSync(dir);
    } catch {
      // a mount that would not go even lazily: `hull system check` names it
    }
  }
}

/** Every mount at or below `dir`, deepest first: unmounted, or detached lazily when busy. */
function unmountAll(dir: string): void {
  for (const m of mountsBelow(dir)) {
    try {
      sys.umount2(m, 0);
    } catch {
      try {
        sys.umount2(m, MNT_DETACH);
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** errno name of an error the addon threw. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An O_PATH fd of a mount target inside `root`, made when missing (directories 0755, a file 0644,
 * as the launcher's mount step makes them: native/child.cc OpenMountTarget). Each component is
 * made through the fd of its parent, resolved inside the root, so a link cannot lead out of it.
 */
function openMountTarget(root: string, target: string, kind: 'dir' | 'file'): number {
  try {
    return sys.openInRoot(root, target, O_PATH, 0);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw err;
  }
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new UsageError(`invalid mount target ${target}`);
  const dirs = kind === 'dir' ? parts : parts.slice(0, -1);
  let at = '/';
  for (const part of dirs) {
    const next = path.posix.join(at, part);
    try {
      closeSync(sys.openInRoot(root, next, O_PATH | O_DIRECTORY, 0));
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw err;
      const parent = sys.openInRoot(root, at, O_PATH | O_DIRECTORY, 0);
      try {
        mkdirSync(`/proc/self/fd/${parent}/${part}`, { mode: 0o755 }); // EEXIST: a dangling link, refused (the launcher would follow it inside the root)
      } catch (made) {
        throw fromNodeError(made, 'mkdir', `${next} in the container's root (a mount target)`);
      } finally {
        closeSync(parent);
      }
    }
    at = next;
  }
  if (kind === 'file') {
    const parent = sys.openInRoot(root, at, O_PATH | O_DIRECTORY, 0);
    try {
      closeSync(openSync(`/proc/self/fd/${parent}/${parts[parts.length - 1]!}`, O_CREAT | O_WRONLY | O_NOFOLLOW, 0o644));
    } catch (made) {
      throw fromNodeError(made, 'open', `${target} in the container's root (a mount target)`);
    } finally {
      closeSync(parent);
    }
  }
  return sys.openInRoot(root, target, O_PATH, 0);
}
