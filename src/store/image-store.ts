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
 * points at an image whose parts are missing, and concurrent invocations need no global lock.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageNotFoundError, InvalidImageError, UsageError, fromNodeError } from '../errors.js';
import type { ArchiveImage } from '../image/archive/index.js';
import { MAX_JSON_BYTES } from '../image/archive/archive-dir.js';
import { parseJson } from '../image/json.js';
import { normalize, parseReference } from '../image/reference.js';
import { parseImageConfig, type ImageConfig } from '../image/types.js';
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

export interface ImageSummary {
  id: string;
  references: string[];
  /** The image's creation time (from its config). */
  created?: string;
  /** Bytes of its distinct uncompressed layers. */
  size: number;
}

const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX_RE = /^(?:sha256:)?([a-f0-9]{4,63})$/;
const PREFIXED_ID_RE = /^sha256:([a-f0-9]{4,63})$/;

function createdTime(image: ImageSummary): number {
  const t = image.created === undefined ? NaN : Date.parse(image.created);
  return Number.isNaN(t) ? 0 : t;
}

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

  constructor(paths: StorePaths) {
    this.paths = paths;
    this.blobs = new BlobStore(paths);
    this.layers = new LayerStore(paths);
    this.records = new ImageRecordStore(paths);
    this.refs = new RefStore(paths);
  }

  /**
   * Loads every image in an OCI image layout (directory or tar) or a `docker save` archive
   * (path, or a stream of the tar such as stdin). Layers already stored are not unpacked again.
   */
  async load(source: string | Readable): Promise<ResolvedImage[]> {
    await this.createLayout();
    const staged = await this.stage(source);
    try {
      // Loading code (tar, decompression) is imported on first use: `run` never needs it.
      const { readImageArchive } = await import('../image/archive/index.js');
      const images = await readImageArchive(staged.dir);
      const loaded: ResolvedImage[] = [];
      for (const image of images) loaded.push(await this.store(image));
      return loaded;
    } finally {
      await staged.cleanup();
    }
  }

  async list(): Promise<ImageSummary[]> {
    const [records, refs] = await Promise.all([this.records.list(), this.refs.list()]);
    const namesById = new Map<string, string[]>();
    for (const ref of refs) namesById.set(ref.id, [...(namesById.get(ref.id) ?? []), ref.name]);
    return records
      .map((r): ImageSummary => ({
        id: r.id,
        references: namesById.get(r.id) ?? [],
        ...(r.created !== undefined ? { created: r.created } : {}),
        size: r.size,
      }))
      .sort((a, b) => createdTime(b) - createdTime(a) || a.id.localeCompare(b.id));
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
    if (full) return this.records.read(full[1] as string).catch((err: unknown) => {
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
      const digest = parseReference(input).digest;
      if (digest !== undefined) {
        const record = (await this.records.list()).find((r) => r.manifestDigest === digest);
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
  private async store(image: ArchiveImage): Promise<ResolvedImage> {
    const diffIds = image.config.rootfs.diff_ids;
    if (diffIds.length !== image.layers.length) {
      throw new InvalidImageError(
        `${image.what}: the config lists ${diffIds.length} layers (rootfs.diff_ids), the manifest ${image.layers.length}`,
      );
    }
    const sizes = new Map<string, number>();
    for (const [i, layer] of image.layers.entries()) {
      const diffId = diffIds[i] as string;
      const stored = await this.layers.unpack(diffId, {
        open: () => layer.open(),
        digest: layer.digest,
        what: `${image.what} layer ${i + 1}/${diffIds.length} (${layer.name})`,
      });
      sizes.set(diffId, stored.size);
    }
    const configDigest = await this.blobs.putBytes(image.configBytes);
    let manifestDigest: string | undefined;
    if (image.manifest !== undefined) {
      manifestDigest = image.manifest.digest;
      if (manifestDigest.startsWith('sha256:')) await this.blobs.putBytes(image.manifest.bytes, manifestDigest);
    }
    const record: ImageRecord = {
      id: configDigest,
      configDigest,
      ...(manifestDigest !== undefined ? { manifestDigest } : {}),
      diffIds: [...diffIds],
      ...(image.config.created !== undefined ? { created: image.config.created } : {}),
      loaded: new Date().toISOString(),
      size: [...sizes.values()].reduce((a, b) => a + b, 0),
    };
    await this.records.write(record);
    for (const name of image.references) await this.refs.set(name, record.id);
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
  private async createLayout(): Promise<void> {
    await ensureDirectory(this.paths.root, 0o711);
    for (const dir of [
      path.join(this.paths.blobs, 'sha256'),
      this.paths.layers,
      this.paths.links,
      this.paths.images,
      this.paths.refs,
      this.paths.tmp,
    ]) {
      await ensureDirectory(dir, 0o700);
    }
  }
}
