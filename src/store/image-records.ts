/**
 * Image records: `images/<config hex>.json`, one per image, written atomically. The image id is
 * the digest of its config (`sha256:<hex>`), whose bytes are in the blob store.
 */

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ImageNotFoundError, InvalidImageError, fromNodeError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import { expectArray, expectInteger, expectObject, expectString, optional, parseJson } from '../image/json.js';
import { writeFileAtomic } from './atomic-file.js';
import type { StorePaths } from './paths.js';

export interface ImageRecord {
  /** `sha256:<hex>` of the config. */
  readonly id: string;
  readonly configDigest: string;
  /** The manifest's digest, when the image came with one (OCI layouts, registries). */
  readonly manifestDigest?: string;
  /**
   * `repository@digest` (normalised: `docker.io/library/busybox@sha256:…`) for each repository
   * the image was pulled from, with the digest the registry served for the tag: an index's,
   * for a multi-platform image (Docker's RepoDigests; pinning it keeps every platform).
   */
  readonly repoDigests?: readonly string[];
  /** The layers' diffIDs, lowest first (the config's rootfs.diff_ids). */
  readonly diffIds: readonly string[];
  /** The image's creation time from its config. */
  readonly created?: string;
  /** When this store got the image. */
  readonly loaded: string;
  /** Sum of the uncompressed sizes of its distinct layers. */
  readonly size: number;
}

const HEX_RE = /^[a-f0-9]{64}$/;

function expectSha256(v: unknown, where: string): string {
  const s = expectString(v, where);
  if (!isDigest(s) || !s.startsWith('sha256:')) throw new InvalidImageError(`${where}: expected a sha256 digest`);
  return s;
}

function parseImageRecord(v: unknown, where: string): ImageRecord {
  const obj = expectObject(v, where);
  const manifestDigest = optional(obj.manifestDigest, `${where}.manifestDigest`, expectString);
  const created = optional(obj.created, `${where}.created`, expectString);
  const repoDigests = optional(obj.repoDigests, `${where}.repoDigests`, (v, w) => expectArray(v, w).map((d, i) => expectString(d, `${w}[${i}]`)));
  return {
    id: expectSha256(obj.id, `${where}.id`),
    configDigest: expectSha256(obj.configDigest, `${where}.configDigest`),
    ...(manifestDigest !== undefined ? { manifestDigest } : {}),
    ...(repoDigests !== undefined ? { repoDigests } : {}),
    diffIds: expectArray(obj.diffIds, `${where}.diffIds`).map((d, i) => expectSha256(d, `${where}.diffIds[${i}]`)),
    ...(created !== undefined ? { created } : {}),
    loaded: expectString(obj.loaded, `${where}.loaded`),
    size: expectInteger(obj.size, `${where}.size`),
  };
}

export class ImageRecordStore {
  private readonly paths: StorePaths;

  constructor(paths: StorePaths) {
    this.paths = paths;
  }

  private file(hex: string): string {
    return path.join(this.paths.images, `${hex}.json`);
  }

  async write(record: ImageRecord): Promise<void> {
    const hex = record.id.slice('sha256:'.length);
    await writeFileAtomic(this.paths.tmp, this.file(hex), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** The record for a full hex id; ImageNotFoundError when there is none. */
  async read(hex: string): Promise<ImageRecord> {
    const file = this.file(hex);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageNotFoundError(`sha256:${hex}`);
      throw fromNodeError(err, 'read', file);
    }
    const record = parseImageRecord(parseJson(text, file), file);
    if (record.id !== `sha256:${hex}`) throw new InvalidImageError(`${file}: record of ${record.id} in the wrong file`);
    return record;
  }

  /** The hex ids of all images. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.paths.images);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromNodeError(err, 'readdir', this.paths.images);
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((h) => HEX_RE.test(h));
  }

  async list(): Promise<ImageRecord[]> {
    const records: ImageRecord[] = [];
    for (const hex of await this.ids()) {
      try {
        records.push(await this.read(hex));
      } catch (err) {
        if (err instanceof ImageNotFoundError) continue; // removed meanwhile
        throw err;
      }
    }
    return records;
  }
}
