/**
 * A build's temporary state: one directory under the store's tmp/ (its name carries our pid, so
 * a killed build's leftovers are removed by the next load or prune), and the overlay mounts that
 * show a state's files — read-only views (COPY --from), a writable upper directory on top of a
 * state (COPY, ADD) whose diff becomes the step's layer. Mounts are undone on every path.
 */

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BuildError } from '../errors.js';
import { parseImageConfig } from '../image/types.js';
import { removeTree } from '../layer/remove-tree.js';
import { MNT_DETACH, sys } from '../native/index.js';
import { readImageFile } from '../runtime/image-files.js';
import { uniqueName } from '../store/atomic-file.js';
import type { ImageStore, ResolvedImage } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { commitLayer } from './layer-commit.js';
import { diffIdsOf, type State } from './state.js';

const MS_RDONLY = 1;

export class BuildWorkspace {
  readonly dir: string;
  private readonly mounts: string[] = [];
  private readonly views = new Map<string, string>();

  constructor(private readonly paths: StorePaths, private readonly images: ImageStore) {
    this.dir = path.join(paths.tmp, uniqueName('build'));
  }

  create(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Undoes every mount, removes the directory. */
  cleanup(): void {
    for (const m of this.mounts.splice(0).reverse()) {
      try {
        sys.umount2(m, MNT_DETACH);
      } catch {
        /* not mounted */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new name in the workspace (nothing made there). */
  temp(prefix: string): string {
    return path.join(this.dir, uniqueName(prefix));
  }

  /** The diff of an upper directory stored as a layer; undefined when nothing changed. */
  commitLayer(upper: string): Promise<string | undefined> {
    return commitLayer(this.images, this.dir, upper);
  }

  /** The state as the runtime's resolved image (config + layer directories). */
  async resolvedState(state: State): Promise<ResolvedImage> {
    const ids = diffIdsOf(state);
    const seen = new Set<string>();
    const distinct: string[] = [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const d = ids[i] as string;
      if (!seen.has(d)) {
        seen.add(d);
        distinct.unshift(d);
      }
    }
    const layerDirs: string[] = [];
    const layerLinks: string[] = [];
    for (const d of distinct) {
      const l = await this.images.storedLayer(d);
      if (!l) throw new BuildError(`layer ${d} of the build state is missing from the store`);
      layerDirs.push(l.dir);
      layerLinks.push(l.link);
    }
    const image = { ...state.image, rootfs: { type: 'layers', diff_ids: ids } };
    return { id: `sha256:${state.key}`, references: [], config: parseImageConfig(image, 'build state'), layerDirs, layerLinks };
  }

  /** A file of the state (`/etc/passwd`), read through its layers as the runtime reads image files. */
  stateFile(state: State, file: string): string | undefined {
    const dirs = diffIdsOf(state).map((d) => path.join(this.paths.layers, d.slice('sha256:'.length), 'diff'));
    return readImageFile(dirs, file);
  }

  /** A read-only view of a state's files (for COPY --from): its single layer, or an overlay. */
  async viewOf(state: State): Promise<string> {
    const cached = this.views.get(state.key);
    if (cached !== undefined) return cached;
    const resolved = await this.resolvedState(state);
    let dir: string;
    if (resolved.layerDirs.length === 0) {
      dir = this.temp('empty');
      mkdirSync(dir);
    } else if (resolved.layerDirs.length === 1) {
      dir = resolved.layerDirs[0] as string;
    } else {
      dir = this.temp('view');
      mkdirSync(dir);
      this.mount(dir, `lowerdir=${[...resolved.layerLinks].reverse().join(':')}`, MS_RDONLY);
    }
    this.views.set(state.key, dir);
    return dir;
  }

  /** Mounts the state with a fresh upper directory, runs `fn` on the merged root, stores the diff. */
  async inMountedState(state: State, fn: (rootfs: string) => Promise<void>): Promise<string | undefined> {
    const resolved = await this.resolvedState(state);
    const dir = this.temp('copy');
    const [upper, work, merged, empty] = ['upper', 'work', 'merged', 'empty'].map((d) => path.join(dir, d)) as [string, string, string, string];
    for (const d of [upper, work, merged, empty]) mkdirSync(d, { recursive: true, mode: 0o755 });
    const lowers = resolved.layerLinks.length > 0 ? [...resolved.layerLinks].reverse() : [empty];
    this.mount(merged, `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`);
    try {
      await fn(merged);
    } finally {
      this.unmount(merged);
    }
    const layer = await this.commitLayer(upper);
    await removeTree(dir);
    return layer;
  }

  private mount(target: string, data: string, flags = 0): void {
    if (data.length >= 4096) throw new BuildError(`overlay mount data is ${data.length} bytes (too many layers)`);
    sys.mount('overlay', target, 'overlay', flags, data);
    this.mounts.push(target);
  }

  private unmount(target: string): void {
    sys.umount2(target, 0);
    const i = this.mounts.indexOf(target);
    if (i >= 0) this.mounts.splice(i, 1);
  }
}
