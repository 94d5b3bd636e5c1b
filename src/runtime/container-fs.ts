/**
 * A container's file system seen from outside: `diff` (the changes of its writable layer against
 * its image, as Docker lists them) and `export` (its whole merged root as a tar).
 *
 * diff follows moby's pkg/archive changes() over the overlay2 driver (OverlayChanges): the upper
 * directory is walked depth first, names in byte order (Go's filepath.Walk), and each entry is
 *   - D when it is a whiteout (a 0:0 character device) or an opaque directory some lower layer has;
 *   - C when a lower layer has the path — except a directory whose size, mode and mtime equal the
 *     lower one's (copied up only because something below it changed: not listed);
 *   - A otherwise;
 * and the parent of an A or D entry is listed as C (once, just before it) when it was not itself.
 *
 * export mounts a read-only overlay of the upper directory over the image's layers (every one a
 * lowerdir: whiteouts and opaque directories in the upper one still hide what is below), so a
 * running container's root is read without touching its mounts, and never its /proc, /dev or
 * volumes — Docker's export is the same view (the rw layer mounted, no volumes).
 */
import { lstatSync, mkdirSync, readdirSync, rmdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SystemError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';
import { diffTar } from '../layer/diff.js';
import { OVERLAY_OPAQUE_XATTR } from '../layer/whiteout.js';
import { uniqueName } from '../store/atomic-file.js';
import type { RootfsLayers } from './plan.js';

export type ChangeKind = 'A' | 'C' | 'D';

export interface Change {
  kind: ChangeKind;
  /** Absolute in the container: `/etc/passwd`. */
  path: string;
}

/** Docker's numeric kinds (the API's `Kind`: 0 modified, 1 added, 2 deleted). */
export const CHANGE_KIND_NUMBER: Readonly<Record<ChangeKind, number>> = { C: 0, A: 1, D: 2 };

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file); // followed, as Go's os.Stat in moby's changes()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw fromNodeError(err, 'stat', file);
  }
}

function isOpaque(file: string): boolean {
  try {
    return sys.lgetxattr(file, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
  } catch (err) {
    if (err instanceof SystemError) return false;
    throw err;
  }
}

/** The changes of `rootfs.upper` against `rootfs.lower` (top layer first), in Docker's order. */
export function containerChanges(rootfs: Pick<RootfsLayers, 'upper' | 'lower'>): Change[] {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const inLower = (rel: string): Stats | undefined => {
    for (const layer of rootfs.lower) {
      const st = statOrUndefined(path.join(layer, rel));
      if (st) return st;
    }
    return undefined;
  };
  const walk = (rel: string): void => {
    const dir = path.join(rootfs.upper, rel);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw fromNodeError(err, 'readdir', dir);
    }
    for (const name of names.sort(byteOrder)) {
      const p = `${rel}/${name}`;
      const full = path.join(rootfs.upper, p);
      let st: Stats;
      try {
        st = lstatSync(full);
      } catch (err) {
        throw fromNodeError(err, 'lstat', full);
      }
      let kind: ChangeKind | undefined;
      const lower = inLower(p);
      if (st.isCharacterDevice() && st.rdev === 0) kind = 'D';
      else if (st.isDirectory() && isOpaque(full) && lower !== undefined) kind = 'D';
      else if (lower === undefined) kind = 'A';
      else if (
        lower.isDirectory() &&
        st.isDirectory() &&
        lower.size === st.size &&
        lower.mode === st.mode &&
        Math.floor(lower.mtimeMs) === Math.floor(st.mtimeMs)
      ) {
        kind = undefined; // copied up for what is below it: not a change of its own
      } else kind = 'C';
      if (kind !== undefined) {
        if (st.isDirectory()) changedDirs.add(p);
        if (kind === 'A' || kind === 'D') {
          const parent = path.posix.dirname(p);
          if (parent !== '/' && !changedDirs.has(parent)) {
            changes.push({ kind: 'C', path: parent });
            changedDirs.add(parent);
          }
        }
        changes.push({ kind, path: p });
      }
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  return changes;
}

const MS_RDONLY = 1;
const MNT_DETACH = 2;

/**
 * Runs `fn` with the container's merged root mounted read-only at a fresh directory under `tmpDir`
 * (removed after). The mount is in this process's mount namespace and lives only during `fn`.
 */
export async function withMergedRoot<T>(
  rootfs: Pick<RootfsLayers, 'upper' | 'lower'>,
  dirs: { tmp: string; root: string },
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const tmpDir = dirs.tmp;
  const target = path.join(tmpDir, uniqueName('export'));
  mkdirSync(target, { recursive: true, mode: 0o700 });
  // An overlay without an upper dir needs two lower ones: an image without layers gets an empty one.
  const empty = rootfs.lower.length === 0 ? path.join(tmpDir, uniqueName('export-empty')) : undefined;
  if (empty !== undefined) mkdirSync(empty, { mode: 0o700 });
  const lowers = [rootfs.upper, ...rootfs.lower, ...(empty !== undefined ? [empty] : [])];
  const cleanup = () => {
    rmdirSync(target);
    if (empty !== undefined) rmdirSync(empty);
  };
  // Relative to the store's root when the absolute list would pass the one-page mount data limit.
  const common = dirs.root;
  const absolute = `lowerdir=${lowers.join(':')}`;
  const relative = `lowerdir=${lowers.map((l) => path.relative(common, l)).join(':')}`;
  const cwd = process.cwd();
  try {
    if (absolute.length < 4000) sys.mount('overlay', target, 'overlay', MS_RDONLY, absolute);
    else {
      process.chdir(common);
      try {
        sys.mount('overlay', target, 'overlay', MS_RDONLY, relative);
      } finally {
        process.chdir(cwd);
      }
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  try {
    return await fn(target);
  } finally {
    sys.umount2(target, MNT_DETACH);
    cleanup();
  }
}

/**
 * Writes the tar of the container's merged root to `out` (entries as a layer's: modes, owners,
 * symlinks, hard links, devices, xattrs); `out` is not ended.
 */
export function exportRoot(rootfs: Pick<RootfsLayers, 'upper' | 'lower'>, dirs: { tmp: string; root: string }, out: Writable): Promise<void> {
  return withMergedRoot(rootfs, dirs, (dir) => pipeline(diffTar(dir), out, { end: false }));
}
