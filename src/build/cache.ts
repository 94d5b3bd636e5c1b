/**
 * The build cache: `<root>/build-cache/<key hex>.json`, one file per build step, holding the
 * image config (with history and rootfs.diff_ids) of the state the step produced.
 *
 *   key(step) = sha256(key(parent state) + the step's description)
 *
 * where the description is the instruction with its expanded arguments, the build args it sees,
 * and for COPY/ADD a digest of the sources' content and metadata (./context.ts). A hit restores the
 * state exactly, so an unchanged rebuild gives the same image id.
 *
 * Crash safety: an entry is written to a temporary file and renamed into place (never partly
 * visible under its name), after its layers are stored. Entries are not fsynced (a build step is
 * cheap to redo); instead every read validates: an entry that does not parse, names another key,
 * or refers to a layer that is no longer stored is a miss (and removed). Layers named by entries
 * are kept by the store's garbage collection: the cache is a root source of the store
 * (GcRootSource in src/store/gc.ts, registered by src/hull.ts); `hull system prune` drops the whole
 * cache first, as `docker system prune` drops the build cache, while `image prune` keeps it.
 */

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromNodeError } from '../errors.js';
import { uniqueName } from '../store/atomic-file.js';
import type { GcRootSource } from '../store/gc.js';
import type { StorePaths } from '../store/paths.js';

export interface CacheEntry {
  key: string;
  /** The image config of the state after the step. */
  config: Record<string, unknown>;
}

const HEX_RE = /^[a-f0-9]{64}$/;

export function cacheDir(paths: StorePaths): string {
  return path.join(paths.root, 'build-cache');
}

export function stepKey(parent: string, description: string): string {
  return createHash('sha256').update(parent).update('\n').update(description).digest('hex');
}

function diffIdsOf(config: Record<string, unknown>): string[] | undefined {
  const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
  const ids = rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d))) return undefined;
  return ids as string[];
}

export class BuildCache implements GcRootSource {
  readonly dir: string;

  constructor(private readonly paths: StorePaths) {
    this.dir = cacheDir(paths);
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /** The entry for `key`, if present and whole; `layerExists` confirms its layers are still stored. */
  get(key: string, layerExists: (diffId: string) => boolean): CacheEntry | undefined {
    const file = this.file(key);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromNodeError(err, 'read', file);
    }
    try {
      const entry = JSON.parse(text) as CacheEntry;
      const ids = diffIdsOf(entry.config);
      if (entry.key === key && ids !== undefined && ids.every(layerExists)) return entry;
    } catch {
      /* torn or foreign: a miss */
    }
    rmSync(file, { force: true });
    return undefined;
  }

  put(entry: CacheEntry): void {
    const temp = path.join(this.paths.tmp, uniqueName('cache'));
    try {
      writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
      renameSync(temp, this.file(entry.key));
    } catch (err) {
      rmSync(temp, { force: true });
      throw fromNodeError(err, 'write', this.file(entry.key));
    }
  }

  /** Every diffID the cache refers to (kept by GC). */
  keptDiffIds(): Set<string> {
    return cachedDiffIds(this.paths);
  }

  /** How many entries the cache has. */
  entryCount(): number {
    return listEntries(this.dir).length;
  }

  /** Removes every entry; returns how many. */
  clear(): number {
    let n = 0;
    for (const name of listEntries(this.dir)) {
      try {
        unlinkSync(path.join(this.dir, name));
        n++;
      } catch {
        /* gone meanwhile */
      }
    }
    return n;
  }
}

function listEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.json') && HEX_RE.test(n.slice(0, -5)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromNodeError(err, 'readdir', dir);
  }
}

/** The diffIDs named by the cache entries under `paths.root` (unreadable entries name none). */
function cachedDiffIds(paths: StorePaths): Set<string> {
  const out = new Set<string>();
  const dir = cacheDir(paths);
  for (const name of listEntries(dir)) {
    try {
      const entry = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as CacheEntry;
      for (const d of diffIdsOf(entry.config) ?? []) out.add(d);
    } catch {
      /* torn: names nothing */
    }
  }
  return out;
}
