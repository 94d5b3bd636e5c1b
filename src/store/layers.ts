/**
 * Unpacked layers, one directory per diffID, shared by every image that has the layer:
 *
 *   layers/<hex>/diff   the layer's files in overlay format
 *   layers/<hex>/link   its short id <ID>
 *   layers/<hex>/size   bytes of its uncompressed tar
 *   l/<ID>              symlink → ../layers/<hex>/diff (short lowerdir names: 128 fit in a page)
 *
 * A layer is unpacked into a private directory under tmp/ and renamed into place as a whole, so
 * layers/<hex> either is complete or does not exist, whatever crashes. When two loaders race,
 * the first rename wins and the other discards its copy.
 */

import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { mkdir, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidImageError, fromNodeError } from '../errors.js';
import { parseSha256 } from '../image/digest.js';
import { removeTree } from '../layer/remove-tree.js';
import { fsyncDirectory, uniqueName, writeFileAtomic } from './atomic-file.js';
import type { StorePaths } from './paths.js';

export interface StoredLayer {
  readonly diffId: string;
  /** Absolute path of the layer's files: `<root>/layers/<hex>/diff`. */
  readonly dir: string;
  /** Absolute path of its short link: `<root>/l/<ID>`. */
  readonly link: string;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
}

const SHORT_ID_LENGTH = 26;
const SHORT_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'; // base32: 32 symbols, unbiased from a byte
const SHORT_ID_RE = /^[A-Z2-7]{26}$/;

/** 26 random uppercase alphanumerics (130 bits), like Docker's overlay2 `l/` names. */
export function newShortId(): string {
  return [...randomBytes(SHORT_ID_LENGTH)].map((b) => SHORT_ID_ALPHABET[b & 31]).join('');
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

export interface UnpackLayerSource {
  /** Opens the layer blob (compressed or not). */
  open(): Promise<Readable>;
  /** The blob's digest, verified while unpacking, when known. */
  digest?: string | undefined;
  /** Names the layer in error messages. */
  what?: string;
}

export class LayerStore {
  private readonly paths: StorePaths;

  constructor(paths: StorePaths) {
    this.paths = paths;
  }

  /** `<root>/layers/<hex>` for a sha256 diffID. */
  layerDir(diffId: string): string {
    return path.join(this.paths.layers, parseSha256(diffId, 'layer diffID'));
  }

  /** The stored layer, or undefined when it is not (completely) there. Repairs a missing short link. */
  async get(diffId: string): Promise<StoredLayer | undefined> {
    const dir = this.layerDir(diffId);
    let shortId: string;
    try {
      shortId = readFileSync(path.join(dir, 'link'), 'utf8').trim();
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw fromNodeError(err, 'read', path.join(dir, 'link'));
    }
    if (!SHORT_ID_RE.test(shortId)) throw new InvalidImageError(`layer ${diffId}: invalid short id in ${path.join(dir, 'link')}`);
    const size = Number(readOptional(path.join(dir, 'size')) ?? '0');
    const link = path.join(this.paths.links, shortId);
    await this.createLink(link, diffId);
    return { diffId, dir: path.join(dir, 'diff'), link, size: Number.isSafeInteger(size) ? size : 0 };
  }

  /**
   * Unpacks the layer (verifying its diffID, and the blob digest when given) unless it is stored
   * already. Nothing is left behind on failure.
   */
  async unpack(diffId: string, source: UnpackLayerSource): Promise<StoredLayer> {
    const existing = await this.get(diffId);
    if (existing) return existing;

    const hex = parseSha256(diffId, 'layer diffID');
    const work = path.join(this.paths.tmp, uniqueName(`layer-${hex.slice(0, 12)}`));
    let link: string | undefined;
    try {
      await mkdir(work, { mode: 0o700 });
      const { unpackLayer } = await import('../layer/unpack.js');
      const result = await unpackLayer(await source.open(), path.join(work, 'diff'), {
        expectedDiffId: diffId,
        ...(source.digest !== undefined ? { expectedDigest: source.digest } : {}),
        fsync: true,
        what: source.what ?? `layer ${diffId}`,
      });
      const shortId = newShortId();
      await writeFileAtomic(work, path.join(work, 'link'), `${shortId}\n`);
      await writeFileAtomic(work, path.join(work, 'size'), `${result.size}\n`);
      // The link first: a crash before the rename leaves only a dangling link, never a layer
      // without one.
      link = path.join(this.paths.links, shortId);
      await symlink(`../layers/${hex}/diff`, link);
      try {
        await rename(work, path.join(this.paths.layers, hex));
      } catch (err) {
        if (!isCode(err, 'ENOTEMPTY', 'EEXIST')) throw err;
        // Another loader stored the same layer first: use theirs.
        await unlink(link).catch(() => undefined);
        await removeTree(work);
        const theirs = await this.get(diffId);
        if (!theirs) throw new InvalidImageError(`layer ${diffId}: ${this.layerDir(diffId)} exists but is incomplete`);
        return theirs;
      }
      await fsyncDirectory(this.paths.layers);
      return { diffId, dir: path.join(this.paths.layers, hex, 'diff'), link, size: result.size };
    } catch (err) {
      if (link !== undefined) await unlink(link).catch(() => undefined);
      await removeTree(work);
      throw fromNodeError(err, 'unpack', this.layerDir(diffId));
    }
  }

  /** Makes sure `link` → ../layers/<hex>/diff exists. */
  private async createLink(link: string, diffId: string): Promise<void> {
    try {
      lstatSync(link);
      return;
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw fromNodeError(err, 'lstat', link);
    }
    try {
      await symlink(`../layers/${parseSha256(diffId)}/diff`, link);
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw fromNodeError(err, 'symlink', link);
    }
  }
}

/** A small metadata file's trimmed text, or undefined when it is missing. */
function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw fromNodeError(err, 'read', file);
  }
}
