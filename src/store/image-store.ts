/**
 * The image store: load images from archives, list them, resolve a name or id to what the
 * runtime needs (config and layer directories).
 *
 *   <root>/blobs/sha256/<hex>     config (and manifest) blobs            ./blobs.ts
 *   <root>/layers/<hex>/…, l/<ID>  unpacked layers, by diffID            ./layers.ts
 *   <root>/images/<hex>.json       image records, by config digest       ./image-records.ts
 *   <root>/refs/<name>             name → image id                       ./refs.ts
 *   <root>/tmp/                    private work areas (same file system)
 *
 * Every write is temp + rename, ordered layers → config blob → record → refs, so a name never
 * points at an image whose parts are missing. Writers that only add (load, tag, container
 * creation) share the store lock (./lock.ts); whatever deletes (rmi, prune, check --repair)
 * takes it exclusively, so it never removes what a concurrent command is about to use.
 * Reading (images, inspect, history, df, resolve) takes no lock: every file is replaced whole.
 *
 * The store hands out facts (StoredImage, ImageDetails, StoreUsage); the shapes Docker shows
 * them in (`image inspect`, `history`, `images`, `system df`) are made in src/present/images.ts.
 */

import { objectEvent } from '../events/emit.js';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, ImageNotFoundError, InvalidImageError, UsageError, fromNodeError } from '../errors.js';
import type { SaveFormat, SaveImage, SaveLayer } from '../image/archive/save.js';
import { isObject } from '../image/json.js';
import { familiar, repositoryName } from '../image/reference.js';
import { checkStore, type CheckResult } from './check.js';
import { allRecords, cleanTmp, collectGarbage, containerLayerHexes, rootDiffIds, treeSize, type GcResult, type GcRootSource } from './gc.js';
import { acquireLock, nativeFlock, type FlockFn, type LockHandle } from './lock.js';
import { containerUses, type ContainerUse } from './usage.js';
import type { ArchiveImage, ArchiveLayer } from '../image/archive/index.js';
import { MAX_JSON_BYTES } from '../image/archive/archive-dir.js';
import { parseJson } from '../image/json.js';
import { normalize, parseReference } from '../image/reference.js';
import { parseImageConfig, parseManifest, type ImageConfig } from '../image/types.js';
import { removeTree } from '../layer/remove-tree.js';
import { ensureDirectory, uniqueName } from './atomic-file.js';
import { BlobStore } from './blobs.js';
import { ImageRecordStore, type ImageRecord } from './image-records.js';
import { LayerStore, type StoredLayer } from './layers.js';
import type { StorePaths } from './paths.js';
import { RefStore } from './refs.js';

export interface ResolvedImage {
  /** `sha256:<hex>` of the image config. */
  id: string;
  /** Normalised names pointing at this image. */
  references: string[];
  config: ImageConfig;
  /** Absolute `<root>/layers/<hex>/diff`, lowest layer first. A layer that occurs more than once
   *  is listed only at its highest position (the same merged view, and overlayfs needs no
   *  duplicate lowerdirs). */
  layerDirs: string[];
  /** Absolute `<root>/l/<ID>`, in the same order. */
  layerLinks: string[];
}

/** A stored image as the store keeps it (Docker's views of it: src/present/images.ts). */
export interface StoredImage {
  /** `sha256:<hex>` of the image config. */
  readonly id: string;
  /** Normalised names pointing at this image. */
  readonly names: readonly string[];
  /** The image's creation time (from its config). */
  readonly created?: string;
  /** When it was stored (loaded, pulled or built). */
  readonly loaded: string;
  /** Bytes of its distinct uncompressed layers. */
  readonly size: number;
  /** The digest of its manifest, when it came with one. */
  readonly manifestDigest?: string;
  /** Normalised `repo@digest` of each repository it was pulled from (an index's digest for a multi-platform image). */
  readonly pulledDigests: readonly string[];
  /** Its layers (rootfs.diff_ids), lowest first. */
  readonly diffIds: readonly string[];
}

/** One image with its config and layers, for `image inspect` and `history`. */
export interface ImageDetails extends StoredImage {
  /** The config blob as stored (not narrowed: inspect shows it as it is). */
  readonly config: Record<string, unknown>;
  /** The bytes of each layer, in diffIds' order (0 for one that is not stored). */
  readonly layerSizes: readonly number[];
  /** `<root>/layers/<hex>/diff` of its distinct stored layers, lowest first (as ResolvedImage.layerDirs; missing ones left out). */
  readonly layerDirs: readonly string[];
}

/** What `system df` counts, as facts (Docker's figures from them: src/present/images.ts). */
export interface StoreUsage {
  /** Every image record: its id and layers. */
  readonly images: readonly { readonly id: string; readonly diffIds: readonly string[] }[];
  /** Every container record: its image, the layers it stacks, the bytes of its writable layer, whether it runs. */
  readonly containers: readonly {
    readonly id: string;
    readonly imageId: string;
    readonly diffIds: readonly string[];
    readonly upperSize: number;
    readonly running: boolean;
  }[];
  /** What the registered root sources (the build cache) hold: their entries and the layers they keep. */
  readonly roots: { readonly entries: number; readonly diffIds: ReadonlySet<string> };
  /** Bytes of each layer an image or a root source names (0 for one that is not stored). */
  readonly layerSizes: ReadonlyMap<string, number>;
}

export interface RemoveResult {
  /** Names removed (familiar form). */
  untagged: string[];
  /** The image id, then the diffIDs of the layers that went with it. */
  deleted: string[];
}

export interface PruneResult extends RemoveResult {
  gc: GcResult;
  /** Bytes freed. */
  reclaimed: number;
}

/** What `prune`'s filter sees of an image it would remove (`--filter until=`, `label=`). */
export interface PruneCandidate {
  readonly id: string;
  readonly created?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** How `importImage` stores an image that is not in an archive (a pull). */
export interface ImportOptions {
  /** Layers unpacked at once (default 1). */
  concurrency?: number;
  /** Called as each layer is stored (or found stored), with its index in the manifest. */
  onLayer?: (index: number, diffId: string) => void;
  /** Called when a layer fails (a pull then cancels the downloads still running). */
  onFailure?: (err: unknown) => void;
}

export interface ImageStoreOptions {
  /** flock(2); default the native one. Unit tests pass an in-process fake. */
  flock?: FlockFn;
}

const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX_RE = /^(?:sha256:)?([a-f0-9]{4,63})$/;
const PREFIXED_ID_RE = /^sha256:([a-f0-9]{4,63})$/;

/** The distinct diffIDs, each at its highest position, lowest first. */
function distinctFromTop(diffIds: readonly string[]): string[] {
  const seen = new Set<string>();
  const topDown: string[] = [];
  for (let i = diffIds.length - 1; i >= 0; i--) {
    const d = diffIds[i] as string;
    if (!seen.has(d)) {
      seen.add(d);
      topDown.push(d);
    }
  }
  return topDown.reverse();
}

export class ImageStore {
  readonly paths: StorePaths;
  private readonly blobs: BlobStore;
  private readonly layers: LayerStore;
  private readonly records: ImageRecordStore;
  private readonly refs: RefStore;
  /** What keeps layers outside the store (the build cache), see registerRoots. */
  private readonly roots: GcRootSource[] = [];

  private readonly flock: FlockFn;

  constructor(paths: StorePaths, options: ImageStoreOptions = {}) {
    this.paths = paths;
    this.flock = options.flock ?? nativeFlock;
    this.blobs = new BlobStore(paths);
    this.layers = new LayerStore(paths, { flock: this.flock });
    this.records = new ImageRecordStore(paths);
    this.refs = new RefStore(paths);
  }

  /** The store lock (see ./lock.ts). Hold `shared` while making something that uses an image. */
  lock(mode: 'shared' | 'exclusive', onWait?: () => void): Promise<LockHandle> {
    return acquireLock(path.join(this.paths.root, 'store.lock'), mode, this.flock, { onWait });
  }

  /**
   * Registers something outside the store whose layers garbage collection, `rmi` and `prune`
   * keep, and whose entries `system df` counts (the build cache registers itself: the store
   * does not know the builder).
   */
  registerRoots(source: GcRootSource): void {
    this.roots.push(source);
  }

  private parts() {
    return { paths: this.paths, blobs: this.blobs, layers: this.layers, records: this.records, refs: this.refs, roots: this.roots };
  }

  private async withLock<T>(mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
    const lock = await this.lock(mode);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  /**
   * Loads every image in an OCI image layout (directory or tar) or a `docker save` archive
   * (path, or a stream of the tar such as stdin). Layers already stored are not unpacked again.
   */
  async load(source: string | Readable): Promise<ResolvedImage[]> {
    await this.createLayout();
    return this.withLock('shared', async () => {
      // What a killed hull left in tmp/ is never used: the next load removes it.
      await cleanTmp(this.paths, false);
      const staged = await this.stage(source);
      try {
        // Loading code (tar, decompression) is imported on first use: `run` never needs it.
        const { readImageArchive } = await import('../image/archive/index.js');
        const images = await readImageArchive(staged.dir);
        const loaded: ResolvedImage[] = [];
        for (const image of images) loaded.push(await this.store(image));
        for (const image of loaded) this.event('load', image.id, image.id);
        return loaded;
      } finally {
        await staged.cleanup();
      }
    });
  }

  /** Points `target` (a name) at the image `source` names. */
  async tag(source: string, target: string): Promise<void> {
    const ref = parseReference(target);
    if (ref.digest !== undefined) throw new UsageError(`refusing to create a tag with a digest reference: ${target}`);
    const name = normalize(target);
    await this.createLayout();
    await this.withLock('shared', async () => {
      const record = await this.findRecord(source);
      await this.refs.set(name, record.id);
      this.event('tag', record.id, familiar(name));
    });
  }

  /** One image with its config and layers (what `image inspect` and `history` show). */
  async describe(refOrId: string): Promise<ImageDetails> {
    const record = await this.findRecord(refOrId);
    const config = await this.rawConfig(record);
    const names = (await this.refs.list()).filter((r) => r.id === record.id).map((r) => r.name);
    const stored = new Map<string, StoredLayer | undefined>();
    for (const diffId of new Set(record.diffIds)) stored.set(diffId, await this.layers.get(diffId));
    const layerDirs: string[] = [];
    for (const diffId of distinctFromTop(record.diffIds)) {
      const layer = stored.get(diffId);
      if (layer) layerDirs.push(layer.dir);
    }
    return { ...storedImage(record, names), config, layerSizes: record.diffIds.map((d) => stored.get(d)?.size ?? 0), layerDirs };
  }

  /**
   * `rmi`: by name, removes that name, and the image when it was its last one; by id (or digest
   * reference), the image with all its names. Refused while a container uses the image (any
   * container record, running or not), or — by id — while it has several names, unless `force`.
   * Layers no other image or container uses go with it.
   */
  async remove(refOrId: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
    return this.withLock('exclusive', async () => {
      const record = await this.findRecord(refOrId);
      const names = (await this.refs.list()).filter((r) => r.id === record.id).map((r) => r.name);
      const byName = this.nameOf(refOrId, names);
      const short = record.id.slice('sha256:'.length, 'sha256:'.length + 12);
      const users = containerUses(this.paths).filter((c) => c.imageId === record.id);
      const result: RemoveResult = { untagged: [], deleted: [] };
      if (byName !== undefined && names.length > 1) {
        await this.refs.delete(byName);
        result.untagged.push(familiar(byName));
        this.event('untag', record.id, familiar(byName));
        return result;
      }
      if (!options.force && users.length > 0) {
        const user = users[0] as ContainerUse;
        const state = user.running ? 'running' : 'stopped';
        throw new ConflictError(
          byName !== undefined
            ? `conflict: unable to remove repository reference "${familiar(byName)}" (must force) - container ${user.id.slice(0, 12)} (${user.name}, ${state}) is using its referenced image ${short}`
            : `conflict: unable to delete ${short} (must be forced) - image is being used by ${state} container ${user.id.slice(0, 12)} (${user.name})`,
        );
      }
      if (!options.force && byName === undefined && names.length > 1) {
        throw new ConflictError(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
      for (const name of names) {
        await this.refs.delete(name);
        result.untagged.push(familiar(name));
        this.event('untag', record.id, familiar(name));
      }
      result.deleted.push(...(await this.deleteImages([record])));
      this.event('delete', record.id, record.id);
      return result;
    });
  }

  /**
   * `image prune`: removes dangling images (no name), or with `all` every image no container
   * uses, then collects the garbage (unreferenced layers and blobs, tmp/ leftovers). `filter`
   * (false: keep it) narrows which of those go.
   */
  async prune(options: { all?: boolean; filter?: (image: PruneCandidate) => boolean } = {}): Promise<PruneResult> {
    await this.createLayout();
    return this.withLock('exclusive', async () => {
      const records = await allRecords(this.records);
      const refs = await this.refs.list();
      const used = new Set(containerUses(this.paths).map((c) => c.imageId));
      const result: RemoveResult = { untagged: [], deleted: [] };
      const doomed: ImageRecord[] = [];
      for (const record of records) {
        if (used.has(record.id)) continue;
        const names = refs.filter((r) => r.id === record.id).map((r) => r.name);
        if (names.length > 0 && !options.all) continue;
        if (options.filter) {
          const config = await this.rawConfig(record);
          const labels = (config.config as { Labels?: Record<string, string> | null } | undefined)?.Labels ?? {};
          if (!options.filter({ id: record.id, ...(record.created !== undefined ? { created: record.created } : {}), labels })) continue;
        }
        for (const name of names) {
          await this.refs.delete(name);
          result.untagged.push(familiar(name));
        }
        doomed.push(record);
      }
      result.deleted.push(...(await this.deleteImages(doomed, false)));
      const gc = await collectGarbage(this.parts());
      result.deleted.push(...gc.layers.map((l) => l.diffId));
      return { ...result, gc, reclaimed: gc.reclaimed };
    });
  }

  /**
   * Stores one image given as parts (a pull: layers stream from the registry), exactly as
   * `load` stores an archive's: layers verified and unpacked once, then config, record, names.
   */
  async importImage(image: ArchiveImage, options: ImportOptions = {}): Promise<ResolvedImage> {
    await this.createLayout();
    return this.withLock('shared', async () => {
      await cleanTmp(this.paths, false);
      return this.store(image, options);
    });
  }

  /** Whether a layer is stored whole, with its blob (a pull skips it). */
  async hasLayer(diffId: string): Promise<boolean> {
    return (await this.layers.get(diffId)) !== undefined && this.layers.blobOf(diffId) !== undefined;
  }

  /** The image's kept blobs and manifest (what `save` writes; a push sends the same). */
  async exportImage(refOrId: string): Promise<SaveImage & { references: string[] }> {
    const record = await this.findRecord(refOrId);
    const names = (await this.refs.list()).filter((r) => r.id === record.id).map((r) => r.name);
    return { ...(await this.saveImage(record, [])), references: names };
  }

  /** A range of a stored blob (both ends inclusive), for chunked uploads. */
  openBlob(digest: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobs.path(digest), range ? { start: range.start, end: range.end } : {});
  }

  /** Removes unreferenced layers, blobs and leftovers (no image is removed). */
  async collectGarbage(): Promise<GcResult> {
    await this.createLayout();
    return this.withLock('exclusive', () => collectGarbage(this.parts()));
  }

  /** What `system df` counts: images, containers and root sources, with the bytes of their layers. */
  async usage(): Promise<StoreUsage> {
    const records = await this.records.list();
    const rootIds = rootDiffIds(this.roots);
    const layerSizes = new Map<string, number>();
    for (const d of [...records.flatMap((r) => r.diffIds), ...rootIds]) {
      if (!layerSizes.has(d)) layerSizes.set(d, (await this.layers.get(d))?.size ?? 0);
    }
    return {
      images: records.map((r) => ({ id: r.id, diffIds: r.diffIds })),
      containers: containerUses(this.paths).map((c) => ({
        id: c.id,
        imageId: c.imageId,
        diffIds: [...containerLayerHexes([c])].map((hex) => `sha256:${hex}`),
        upperSize: treeSize(path.join(this.paths.containers, c.id, 'upper')),
        running: c.running,
      })),
      roots: { entries: this.roots.reduce((n, r) => n + r.entryCount(), 0), diffIds: rootIds },
      layerSizes,
    };
  }

  /** `system check`: verifies every blob, layer, image and name; `repair` removes the damaged. */
  async check(options: { repair?: boolean } = {}): Promise<CheckResult> {
    await this.createLayout();
    const repair = options.repair ?? false;
    return this.withLock(repair ? 'exclusive' : 'shared', () => checkStore(this.parts(), { repair }));
  }

  /**
   * `save`: writes the images as one archive to `out` (docker-archive or an OCI layout tar),
   * from the config and layer blobs kept at load time, byte for byte.
   */
  async save(refsOrIds: readonly string[], format: SaveFormat, out: Writable): Promise<void> {
    if (refsOrIds.length === 0) throw new UsageError('save: name at least one image');
    const images: SaveImage[] = [];
    for (const input of refsOrIds) {
      const record = await this.findRecord(input);
      const names = (await this.refs.list()).filter((r) => r.id === record.id).map((r) => r.name);
      const named = this.nameOf(input, names);
      const existing = images.find((i) => i.id === record.id);
      if (existing) {
        if (named !== undefined && !existing.names.includes(named)) (existing.names as string[]).push(named);
        continue;
      }
      images.push(await this.saveImage(record, named !== undefined ? [named] : []));
    }
    const archive = await import('../image/archive/save.js');
    if (format === 'oci') await archive.writeOciArchive(images, out);
    else await archive.writeDockerArchive(images, out);
    for (const image of images) this.event('save', image.id, image.id);
  }

  /**
   * An image event (src/events/): Docker's `name` is the tag for tag/untag (Docker's untag names
   * the image id; hull names the tag removed, which `--filter image=` can then find), the id otherwise.
   */
  private event(action: string, id: string, name: string): void {
    objectEvent(this.paths.runRoot, 'image', action, id, { name });
  }

  private async saveImage(record: ImageRecord, names: string[]): Promise<SaveImage> {
    const configBytes = await this.blobs.readBytes(record.configDigest, MAX_JSON_BYTES);
    const layers: SaveLayer[] = [];
    for (const diffId of record.diffIds) {
      const stored = await this.layers.get(diffId);
      if (!stored) throw new InvalidImageError(`image ${record.id}: layer ${diffId} is missing from the store`);
      const blob = this.layers.blobOf(diffId);
      const blobSize = blob === undefined ? undefined : this.blobs.size(blob);
      if (blob === undefined || blobSize === undefined) {
        throw new InvalidImageError(`image ${record.id}: layer ${diffId} was stored without its blob, so it cannot be saved; load the image again`);
      }
      layers.push({
        diffId,
        blobDigest: blob,
        blobSize,
        compression: this.compressionOf(blob),
        tarSize: stored.size,
        open: () => this.blobs.open(blob),
      });
    }
    let manifest: SaveImage['manifest'];
    if (record.manifestDigest?.startsWith('sha256:') && this.blobs.size(record.manifestDigest) !== undefined) {
      const bytes = await this.blobs.readBytes(record.manifestDigest, MAX_JSON_BYTES);
      // Verbatim only when it describes exactly the blobs kept (a layer may have been kept from
      // another archive, e.g. uncompressed from a docker-archive).
      try {
        const m = parseManifest(parseJson(bytes, 'manifest'), 'manifest');
        if (m.config.digest === record.configDigest && m.layers.length === layers.length && m.layers.every((l, i) => l.digest === layers[i]?.blobDigest)) {
          manifest = { digest: record.manifestDigest, bytes };
        }
      } catch {
        manifest = undefined;
      }
    }
    return { id: record.id, configBytes, names, manifest, layers };
  }

  private compressionOf(blob: string): SaveLayer['compression'] {
    const head = Buffer.alloc(6);
    const fd = openSync(this.blobs.path(blob), 'r');
    try {
      readSync(fd, head, 0, 6, 0);
    } finally {
      closeSync(fd);
    }
    if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  }

  /** The normalised name `input` is, when it is one of `names` (else it named an id or digest). */
  private nameOf(input: string, names: readonly string[]): string | undefined {
    try {
      const name = normalize(input);
      return names.includes(name) ? name : undefined;
    } catch {
      return undefined;
    }
  }

  /** The config blob as JSON (not narrowed: inspect shows it as stored). */
  private async rawConfig(record: ImageRecord): Promise<Record<string, unknown>> {
    const raw = parseJson(await this.blobs.readBytes(record.configDigest, MAX_JSON_BYTES), `config of ${record.id}`);
    if (!isObject(raw)) throw new InvalidImageError(`config of ${record.id}: expected an object`);
    return raw;
  }

  /**
   * Deletes image records (their names are gone already), then — with `gc` — the layers and
   * blobs only they used. Returns the image ids and layer diffIDs deleted. Exclusive lock held.
   */
  private async deleteImages(doomed: readonly ImageRecord[], gc = true): Promise<string[]> {
    const deleted: string[] = [];
    for (const record of doomed) {
      await unlink(path.join(this.paths.images, `${record.id.slice('sha256:'.length)}.json`)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'unlink', record.id);
      });
      deleted.push(record.id);
    }
    if (!gc || doomed.length === 0) return deleted;
    const remaining = await allRecords(this.records);
    const keep = new Set<string>();
    for (const r of remaining) for (const d of r.diffIds) keep.add(d);
    for (const hex of containerLayerHexes(containerUses(this.paths))) keep.add(`sha256:${hex}`);
    for (const d of rootDiffIds(this.roots)) keep.add(d); // the build cache keeps its layers
    const blobsInUse = new Set<string>();
    for (const r of remaining) {
      blobsInUse.add(r.configDigest);
      if (r.manifestDigest !== undefined) blobsInUse.add(r.manifestDigest);
    }
    for (const d of keep) {
      const b = this.layers.blobOf(d);
      if (b !== undefined) blobsInUse.add(b);
    }
    for (const record of doomed) {
      const blobs = [record.configDigest, ...(record.manifestDigest ? [record.manifestDigest] : [])];
      for (const diffId of new Set(record.diffIds)) {
        if (keep.has(diffId)) continue;
        const blob = this.layers.blobOf(diffId);
        if (blob !== undefined) blobs.push(blob);
        if (this.layers.entries().includes(diffId.slice('sha256:'.length))) {
          await this.layers.remove(diffId.slice('sha256:'.length));
          deleted.push(diffId);
        }
        keep.add(diffId); // once
      }
      for (const b of blobs) if (!blobsInUse.has(b) && b.startsWith('sha256:')) await this.blobs.removeEntry(b.slice('sha256:'.length));
    }
    return deleted;
  }

  /** Every stored image, with its names (in no particular order). */
  async list(): Promise<StoredImage[]> {
    const [records, refs] = await Promise.all([this.records.list(), this.refs.list()]);
    const namesById = new Map<string, string[]>();
    for (const ref of refs) namesById.set(ref.id, [...(namesById.get(ref.id) ?? []), ref.name]);
    return records.map((r) => storedImage(r, namesById.get(r.id) ?? []));
  }

  /**
   * An image by name (`busybox`, `docker.io/library/busybox:latest`, `name@sha256:<manifest>`),
   * by id (`sha256:<hex>`, `<hex>`), or by a unique id prefix of at least 4 hex digits.
   */
  async resolve(refOrId: string): Promise<ResolvedImage> {
    return this.resolveRecord(await this.findRecord(refOrId));
  }

  private async findRecord(input: string): Promise<ImageRecord> {
    const full = FULL_ID_RE.exec(input);
    if (full)
      return this.records.read(full[1] as string).catch((err: unknown) => {
        throw err instanceof ImageNotFoundError ? new ImageNotFoundError(input) : err;
      });
    const prefixed = PREFIXED_ID_RE.exec(input);
    if (prefixed) return this.byIdPrefix(prefixed[1] as string, input);

    let name: string | undefined;
    let parseError: UsageError | undefined;
    try {
      name = normalize(input);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      parseError = err;
    }
    if (name !== undefined) {
      const id = await this.refs.get(name);
      if (id !== undefined) {
        try {
          return await this.records.read(id.slice('sha256:'.length));
        } catch (err) {
          if (!(err instanceof ImageNotFoundError)) throw err;
        }
      }
      const ref = parseReference(input);
      if (ref.digest !== undefined) {
        // By the manifest's digest, or by the digest a repository served for it (an index's:
        // images of several platforms may share it, and the one pulled last wins, as in Docker).
        const pinned = `${repositoryName(ref)}@${ref.digest}`;
        const record = (await this.records.list())
          .filter((r) => r.manifestDigest === ref.digest || r.repoDigests?.includes(pinned))
          .sort((a, b) => b.loaded.localeCompare(a.loaded))[0];
        if (record) return record;
      }
    }
    const prefix = ID_PREFIX_RE.exec(input);
    if (prefix) return this.byIdPrefix(prefix[1] as string, input);
    if (parseError) throw parseError;
    throw new ImageNotFoundError(input);
  }

  private async byIdPrefix(prefix: string, input: string): Promise<ImageRecord> {
    const matches = (await this.records.ids()).filter((hex) => hex.startsWith(prefix));
    if (matches.length === 0) throw new ImageNotFoundError(input);
    if (matches.length > 1) {
      throw new UsageError(`image id prefix ${input} is ambiguous: it matches ${matches.map((h) => `sha256:${h.slice(0, 12)}`).join(', ')}`);
    }
    return this.records.read(matches[0] as string);
  }

  private async resolveRecord(record: ImageRecord): Promise<ResolvedImage> {
    const config = parseImageConfig(
      parseJson(await this.blobs.readBytes(record.configDigest, MAX_JSON_BYTES), `config of ${record.id}`),
      `config of ${record.id}`,
    );
    const layers: StoredLayer[] = [];
    for (const diffId of distinctFromTop(record.diffIds)) {
      const layer = await this.layers.get(diffId);
      if (!layer) throw new InvalidImageError(`image ${record.id}: layer ${diffId} is missing from the store`);
      layers.push(layer);
    }
    const references = (await this.refs.list()).filter((r) => r.id === record.id).map((r) => r.name);
    return {
      id: record.id,
      references,
      config,
      layerDirs: layers.map((l) => l.dir),
      layerLinks: layers.map((l) => l.link),
    };
  }

  /** Stores one image from an archive: layers, config blob, record, then its names. */
  private async store(image: ArchiveImage, options: ImportOptions = {}): Promise<ResolvedImage> {
    const diffIds = image.config.rootfs.diff_ids;
    if (diffIds.length !== image.layers.length) {
      throw new InvalidImageError(`${image.what}: the config lists ${diffIds.length} layers (rootfs.diff_ids), the manifest ${image.layers.length}`);
    }
    const sizes = new Map<string, number>();
    // Layers are independent until the record names them all: `concurrency` of them at once
    // (a pull streams each from the network into its unpacker). The first failure stops the rest.
    let next = 0;
    let failed = false;
    let firstError: unknown;
    const worker = async (): Promise<void> => {
      while (!failed && next < image.layers.length) {
        const i = next++;
        const layer = image.layers[i] as ArchiveLayer;
        const diffId = diffIds[i] as string;
        try {
          const stored = await this.layers.unpack(diffId, {
            open: () => layer.open(),
            digest: layer.digest,
            what: `${image.what} layer ${i + 1}/${diffIds.length} (${layer.name})`,
          });
          sizes.set(diffId, stored.size);
          options.onLayer?.(i, diffId);
        } catch (err) {
          if (!failed) firstError = err;
          failed = true;
          options.onFailure?.(err);
          throw err;
        }
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, image.layers.length)) }, worker);
    await Promise.allSettled(workers);
    if (failed) throw firstError; // the first failure: others may only have been cancelled by it
    const configDigest = await this.blobs.putBytes(image.configBytes);
    let manifestDigest: string | undefined;
    if (image.manifest !== undefined) {
      manifestDigest = image.manifest.digest;
      if (manifestDigest.startsWith('sha256:')) await this.blobs.putBytes(image.manifest.bytes, manifestDigest);
    }
    const earlier = await this.records.read(configDigest.slice('sha256:'.length)).catch(() => undefined);
    // The same image loaded before with its manifest (e.g. now from a docker-archive): keep it.
    manifestDigest ??= earlier?.manifestDigest;
    const repoDigests = withRepoDigest(earlier?.repoDigests, image.repoDigest);
    const record: ImageRecord = {
      id: configDigest,
      configDigest,
      ...(manifestDigest !== undefined ? { manifestDigest } : {}),
      ...(repoDigests.length > 0 ? { repoDigests } : {}),
      diffIds: [...diffIds],
      ...(image.config.created !== undefined ? { created: image.config.created } : {}),
      loaded: new Date().toISOString(),
      size: [...sizes.values()].reduce((a, b) => a + b, 0),
    };
    await this.records.write(record);
    for (const name of image.references) await this.refs.set(name, record.id);
    return this.resolveRecord(record);
  }

  // ---- builds (src/build/): layers and images made here rather than loaded ----------------

  /** The store's directories (what a load makes first). */
  ensureLayout(): Promise<void> {
    return this.createLayout();
  }

  /** A stored layer by diffID, or undefined. */
  storedLayer(diffId: string): Promise<StoredLayer | undefined> {
    return this.layers.get(diffId);
  }

  /** Stores a layer made by a build (its blob, verified against `digest` and `diffId`), through the load path. */
  storeLayer(diffId: string, source: { open(): Promise<Readable>; digest: string; what: string }): Promise<StoredLayer> {
    return this.layers.unpack(diffId, source);
  }

  /** An image's config exactly as stored (with the fields hull does not model: Healthcheck, OnBuild, Shell). */
  async rawImage(refOrId: string): Promise<{ id: string; config: Record<string, unknown> }> {
    const record = await this.findRecord(refOrId);
    return { id: record.id, config: await this.rawConfig(record) };
  }

  /**
   * Commits a built image: its config blob, record and names (layers stored already, with the
   * store lock held by the caller). Same order as a load: a name never points at missing parts.
   */
  async commitImage(configBytes: Buffer, names: readonly string[]): Promise<ResolvedImage> {
    await this.createLayout();
    const config = parseImageConfig(parseJson(configBytes, 'built image config'), 'built image config');
    let size = 0;
    for (const diffId of new Set(config.rootfs.diff_ids)) {
      const layer = await this.layers.get(diffId);
      if (!layer) throw new InvalidImageError(`built image: layer ${diffId} is missing from the store`);
      size += layer.size;
    }
    const configDigest = await this.blobs.putBytes(configBytes);
    const record: ImageRecord = {
      id: configDigest,
      configDigest,
      diffIds: [...config.rootfs.diff_ids],
      ...(config.created !== undefined ? { created: config.created } : {}),
      loaded: new Date().toISOString(),
      size,
    };
    await this.records.write(record);
    for (const name of names) {
      await this.refs.set(normalize(name), record.id);
      this.event('tag', record.id, familiar(normalize(name))); // Docker's commit, import and build tag through TagImage, which logs it
    }
    return this.resolveRecord(record);
  }

  /** A directory with the archive's files: the source itself, or the tar extracted under tmp/. */
  private async stage(source: string | Readable): Promise<{ dir: string; cleanup: () => Promise<void> }> {
    let stream: Readable;
    let what = 'image archive';
    if (typeof source === 'string') {
      let isDirectory: boolean;
      try {
        isDirectory = (await stat(source)).isDirectory();
      } catch (err) {
        throw fromNodeError(err, 'stat', source);
      }
      if (isDirectory) return { dir: path.resolve(source), cleanup: async () => undefined };
      stream = createReadStream(source);
      what = source;
    } else {
      stream = source;
    }
    const dir = path.join(this.paths.tmp, uniqueName('load'));
    const { extractTar } = await import('../layer/unpack.js');
    await extractTar(stream, dir, { what });
    return { dir, cleanup: () => removeTree(dir) };
  }

  /** The store's directories, private to root (layers hold setuid binaries and device nodes). */
  async createLayout(): Promise<void> {
    await ensureDirectory(this.paths.root, 0o711);
    for (const dir of [path.join(this.paths.blobs, 'sha256'), this.paths.layers, this.paths.links, this.paths.images, this.paths.refs, this.paths.tmp]) {
      await ensureDirectory(dir, 0o700);
    }
  }
}

function storedImage(r: ImageRecord, names: readonly string[]): StoredImage {
  return {
    id: r.id,
    names,
    ...(r.created !== undefined ? { created: r.created } : {}),
    loaded: r.loaded,
    size: r.size,
    ...(r.manifestDigest !== undefined ? { manifestDigest: r.manifestDigest } : {}),
    pulledDigests: r.repoDigests ?? [],
    diffIds: r.diffIds,
  };
}

/** The normalised repository of a reference (`docker.io/library/busybox` for `busybox@sha256:…`). */
function repositoryOf(reference: string): string {
  return repositoryName(parseReference(reference));
}

/** `earlier` with `added` (`repo@digest`) replacing the entry of its repository. */
function withRepoDigest(earlier: readonly string[] | undefined, added: string | undefined): string[] {
  if (added === undefined) return [...(earlier ?? [])];
  return [...(earlier ?? []).filter((p) => repositoryOf(p) !== repositoryOf(added)), added];
}
