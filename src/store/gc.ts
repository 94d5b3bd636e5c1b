/**
 * Garbage collection of the store, run with the exclusive store lock held (so no load, tag or
 * container creation is half-way). What stays:
 *
 *   layers  every diffID of every image record, every layer a container record stacks
 *           (its `rootfs.lower` links, whatever happened to its image since), and every layer a
 *           registered root source keeps (GcRootSource: the build cache registers itself, so
 *           the store never imports the builder)
 *   links   `l/init` (the runtime's init layer, never touched, nor `<root>/init-layer`), the
 *           short link each kept layer names, and any link a container record uses
 *   blobs   the config and manifest of every image record and the kept blob of every kept layer
 *
 * Everything else goes: unreferenced layers (renamed out of layers/ first, so a crash never
 * leaves a half-deleted layer that looks whole), dangling links, blobs, leftovers of dead
 * processes in tmp/, and the per-layer lock files. A record that cannot be read stops the
 * collection: deleting what an unreadable record might need would lose data (`hull system check`
 * names it).
 */

import { lstatSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { InvalidImageError, fromNodeError } from '../errors.js';
import { removeTree } from '../layer/remove-tree.js';
import type { BlobStore } from './blobs.js';
import type { ImageRecord, ImageRecordStore } from './image-records.js';
import type { LayerStore } from './layers.js';
import type { StorePaths } from './paths.js';
import { containerUses, layerHexOfLink, type ContainerUse } from './usage.js';
import { listDir } from '../files.js';
import { unmountBelow } from './mounts-below.js';

export const INIT_LINK = 'init';
const HEX_RE = /^[a-f0-9]{64}$/;

/**
 * Something outside the store that keeps layers no image names (the build cache), registered
 * with ImageStore.registerRoots when the library is put together (src/hull.ts). Read while the
 * exclusive store lock is held; an ImageStore made without it would collect those layers (the
 * build cache then misses: it checks its layers on every read).
 */
export interface GcRootSource {
  /** The diffIDs it keeps. */
  keptDiffIds(): ReadonlySet<string>;
  /** How many entries it has (`system df` counts them as the build cache's). */
  entryCount(): number;
}

export interface StoreParts {
  readonly paths: StorePaths;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly records: ImageRecordStore;
  readonly roots: readonly GcRootSource[];
}

/** Every diffID the root sources keep. */
export function rootDiffIds(roots: readonly GcRootSource[]): Set<string> {
  const out = new Set<string>();
  for (const root of roots) for (const d of root.keptDiffIds()) out.add(d);
  return out;
}

export interface GcResult {
  /** Layers removed: diffID and the bytes of their tar. */
  readonly layers: { diffId: string; size: number }[];
  readonly blobs: { digest: string; size: number }[];
  readonly links: number;
  readonly tmp: number;
  /** Bytes freed (layer tars + blobs). */
  readonly reclaimed: number;
}

/** All image records; an unreadable one is an error (see above). */
export async function allRecords(records: ImageRecordStore): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for (const hex of await records.ids()) {
    try {
      out.push(await records.read(hex));
    } catch (err) {
      throw new InvalidImageError(`image record ${hex} cannot be read (${(err as Error).message}); run 'hull system check --repair' first`, { cause: err });
    }
  }
  return out;
}

/** The layer hexes containers stack, from their records' lower links. */
export function containerLayerHexes(uses: readonly ContainerUse[]): Set<string> {
  const out = new Set<string>();
  for (const use of uses) {
    for (const link of use.lower) {
      const hex = layerHexOfLink(link);
      if (hex !== undefined) out.add(hex);
    }
  }
  return out;
}

/** Is `pid` a live process? (A pid in a tmp/ name whose process is gone means a crash leftover.) */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TMP_PID_RE = /-(\d+)-[0-9a-f]{12}$/;

/**
 * Removes tmp/ entries left by processes that are gone (their names carry the pid: see
 * atomic-file.ts uniqueName). With `all`, also entries without a pid in their name (only safe
 * with the exclusive lock held). Returns how many went.
 */
export async function cleanTmp(paths: StorePaths, all: boolean): Promise<number> {
  let removed = 0;
  for (const name of listDir(paths.tmp)) {
    const m = TMP_PID_RE.exec(name);
    if (m ? isAlive(Number(m[1])) : !all) continue;
    unmountBelow(path.join(paths.tmp, name)); // a killed build's overlay mounts
    await removeTree(path.join(paths.tmp, name));
    removed++;
  }
  return removed;
}

export async function collectGarbage(parts: StoreParts): Promise<GcResult> {
  const { paths, blobs, layers } = parts;
  const records = await allRecords(parts.records);
  const uses = containerUses(paths);

  const keepLayers = new Set<string>();
  for (const r of records) for (const d of r.diffIds) keepLayers.add(d.slice('sha256:'.length));
  for (const hex of containerLayerHexes(uses)) keepLayers.add(hex);
  for (const d of rootDiffIds(parts.roots)) keepLayers.add(d.slice('sha256:'.length)); // the build cache's

  const removedLayers: { diffId: string; size: number }[] = [];
  for (const name of layers.entries()) {
    if (keepLayers.has(name)) continue;
    const size = await layers.remove(name);
    removedLayers.push({ diffId: HEX_RE.test(name) ? `sha256:${name}` : name, size });
  }

  // Links: init, each kept layer's own, and those containers use.
  const keepLinks = new Set<string>([INIT_LINK]);
  for (const hex of keepLayers) {
    const id = layers.shortIdOf(`sha256:${hex}`);
    if (id !== undefined) keepLinks.add(id);
  }
  for (const use of uses) for (const link of use.lower) if (path.dirname(link) === paths.links) keepLinks.add(path.basename(link));
  let links = 0;
  for (const name of listDir(paths.links)) {
    if (keepLinks.has(name)) continue;
    const link = path.join(paths.links, name);
    try {
      if (!lstatSync(link).isSymbolicLink()) continue; // not something hull made there
      readlinkSync(link);
      unlinkSync(link);
      links++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'unlink', link);
    }
  }

  const keepBlobs = new Set<string>();
  for (const r of records) {
    keepBlobs.add(r.configDigest);
    if (r.manifestDigest !== undefined) keepBlobs.add(r.manifestDigest);
  }
  for (const hex of keepLayers) {
    const blob = layers.blobOf(`sha256:${hex}`);
    if (blob !== undefined) keepBlobs.add(blob);
  }
  const removedBlobs: { digest: string; size: number }[] = [];
  for (const name of blobs.entries()) {
    if (keepBlobs.has(`sha256:${name}`)) continue;
    removedBlobs.push({ digest: `sha256:${name}`, size: await blobs.removeEntry(name) });
  }

  const tmp = await cleanTmp(paths, true);
  for (const name of listDir(path.join(paths.root, 'locks'))) {
    try {
      unlinkSync(path.join(paths.root, 'locks', name));
    } catch {
      /* gone already */
    }
  }

  const reclaimed = removedLayers.reduce((a, l) => a + l.size, 0) + removedBlobs.reduce((a, b) => a + b.size, 0);
  return { layers: removedLayers, blobs: removedBlobs, links, tmp, reclaimed };
}

/** Bytes of the regular files under `dir` (a container's writable layer); 0 when it is missing. */
export function treeSize(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const name of listDir(d)) {
      const p = path.join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) total += st.size;
    }
  };
  try {
    if (statSync(dir).isDirectory()) walk(dir);
  } catch {
    return 0;
  }
  return total;
}
