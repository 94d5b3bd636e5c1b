/**
 * Unpacked layers, one directory per diffID, shared by every image that has the layer:
 *
 *   layers/<hex>/diff   the layer's files in overlay format
 *   layers/<hex>/link   its short id <ID>
 *   layers/<hex>/size   bytes of its uncompressed tar
 *   layers/<hex>/blob   digest of the layer blob exactly as it was loaded (kept in blobs/), so
 *                       `save` emits the original bytes and the diffID/digests stay identical
 *   l/<ID>              symlink → ../layers/<hex>/diff (short lowerdir names: 128 fit in a page)
 *
 * A layer is unpacked into a private directory under tmp/ and renamed into place as a whole, so
 * layers/<hex> either is complete or does not exist, whatever crashes. When two loaders race,
 * the first rename wins and the other discards its copy; and loaders of one store serialise on a
 * per-layer flock (`locks/layer-<hex>`), so a layer is unpacked exactly once however many load it.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { mkdir, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { HullError, InvalidImageError, fromNodeError } from '../errors.js';
import { DigestStream, parseSha256 } from '../image/digest.js';
import { removeTree } from '../layer/remove-tree.js';
import { trace } from '../trace.js';
import { fsyncDirectory, uniqueName, writeFileAtomic } from './atomic-file.js';
import { BlobStore } from './blobs.js';
import { acquireLock, nativeFlock, type FlockFn } from './lock.js';
import type { StorePaths } from './paths.js';

/**
 * Passes data through unchanged while writing a copy to `fd`: the layer blob is kept as it streams
 * into the unpacker, with no second read. (The unpacker hashes the same bytes: its digest names it.)
 */
class FileTee extends Transform {
  bytes = 0;

  constructor(private readonly fd: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      for (let off = 0; off < chunk.length;) off += writeSync(this.fd, chunk, off);
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

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
  private readonly blobs: BlobStore;
  private readonly flock: FlockFn;

  constructor(paths: StorePaths, options: { flock?: FlockFn } = {}) {
    this.paths = paths;
    this.blobs = new BlobStore(paths);
    this.flock = options.flock ?? nativeFlock;
  }

  /** The hex names of everything in layers/ (complete layers, or damage for the check to find). */
  entries(): string[] {
    try {
      return readdirSync(this.paths.layers);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw fromNodeError(err, 'readdir', this.paths.layers);
    }
  }

  /** The digest of the layer's kept blob (as loaded), or undefined when none was kept. */
  blobOf(diffId: string): string | undefined {
    const text = readOptional(path.join(this.layerDir(diffId), 'blob'));
    return text !== undefined && /^sha256:[a-f0-9]{64}$/.test(text) ? text : undefined;
  }

  /** Forgets the layer's kept blob (the store check's repair of a blob that is gone). */
  async forgetBlob(diffId: string): Promise<void> {
    await unlink(path.join(this.layerDir(diffId), 'blob')).catch(() => undefined);
  }

  /** The short id the layer's `link` file names, if readable. */
  shortIdOf(diffId: string): string | undefined {
    const id = readOptional(path.join(this.layerDir(diffId), 'link'));
    return id !== undefined && SHORT_ID_RE.test(id) ? id : undefined;
  }

  /**
   * Removes a layer, crash-safely: its directory is first renamed out of layers/ (atomic: the
   * layer is there whole or not at all), then its link, then the files. Returns the bytes of
   * its tar (its recorded size). Call with the store's exclusive lock held.
   */
  async remove(hexOrName: string): Promise<number> {
    const dir = path.join(this.paths.layers, hexOrName);
    const size = Number(readOptional(path.join(dir, 'size')) ?? '0');
    const shortId = readOptional(path.join(dir, 'link'));
    const trash = path.join(this.paths.tmp, uniqueName('gc-layer'));
    try {
      await rename(dir, trash);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return 0;
      throw fromNodeError(err, 'rename', dir);
    }
    await fsyncDirectory(this.paths.layers);
    if (shortId !== undefined && SHORT_ID_RE.test(shortId)) await unlink(path.join(this.paths.links, shortId)).catch(() => undefined);
    await removeTree(trash);
    return Number.isSafeInteger(size) ? size : 0;
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
    if (existing && this.blobOf(diffId) !== undefined) return existing;
    const hex = parseSha256(diffId, 'layer diffID');
    const lock = await acquireLock(path.join(this.paths.root, 'locks', `layer-${hex}`), 'exclusive', this.flock);
    try {
      const stored = await this.get(diffId);
      if (stored) {
        // Stored by an older hull (or its blob was lost): keep the blob now, for `save`.
        if (this.blobOf(diffId) === undefined) await this.keepBlob(diffId, source);
        return stored;
      }
      return await this.unpackLocked(diffId, hex, source);
    } finally {
      lock.release();
    }
  }

  private async unpackLocked(diffId: string, hex: string, source: UnpackLayerSource): Promise<StoredLayer> {
    const work = path.join(this.paths.tmp, uniqueName(`layer-${hex.slice(0, 12)}`));
    const blobTemp = path.join(this.paths.tmp, uniqueName('blob'));
    let blobFd: number | undefined;
    let link: string | undefined;
    try {
      await mkdir(work, { mode: 0o700 });
      blobFd = openSync(blobTemp, 'wx', 0o644);
      const tee = new FileTee(blobFd);
      const { unpackLayer } = await import('../layer/unpack.js');
      const input = await source.open();
      const result = await unpackLayer(
        pipeline(input, tee, () => undefined),
        path.join(work, 'diff'),
        {
          expectedDiffId: diffId,
          ...(source.digest !== undefined ? { expectedDigest: source.digest } : {}),
          fsync: true,
          what: source.what ?? `layer ${diffId}`,
        },
      );
      fsyncSync(blobFd);
      closeSync(blobFd);
      blobFd = undefined;
      const blobDigest = result.digest;
      // The blob first, then the layer that names it: a crash in between leaves only an
      // unreferenced blob (garbage for prune), never a layer whose blob is missing.
      if (this.blobs.size(blobDigest) === undefined) await this.blobs.commit(blobTemp, blobDigest);
      else await unlink(blobTemp);
      const shortId = newShortId();
      await writeFileAtomic(work, path.join(work, 'link'), `${shortId}\n`);
      await writeFileAtomic(work, path.join(work, 'size'), `${result.size}\n`);
      await writeFileAtomic(work, path.join(work, 'blob'), `${blobDigest}\n`);
      // The link first: a crash before the rename leaves only a dangling link, never a layer
      // without one.
      link = path.join(this.paths.links, shortId);
      await symlink(`../layers/${hex}/diff`, link);
      try {
        await rename(work, path.join(this.paths.layers, hex));
      } catch (err) {
        if (!isCode(err, 'ENOTEMPTY', 'EEXIST')) throw err;
        // Another loader (without the layer lock: a different store version) stored it first.
        await unlink(link).catch(() => undefined);
        await removeTree(work);
        const theirs = await this.get(diffId);
        if (!theirs) throw new InvalidImageError(`layer ${diffId}: ${this.layerDir(diffId)} exists but is incomplete`);
        return theirs;
      }
      await fsyncDirectory(this.paths.layers);
      trace(`unpacked layer ${diffId}`);
      return { diffId, dir: path.join(this.paths.layers, hex, 'diff'), link, size: result.size };
    } catch (err) {
      if (blobFd !== undefined) closeSync(blobFd);
      await unlink(blobTemp).catch(() => undefined);
      if (link !== undefined) await unlink(link).catch(() => undefined);
      await removeTree(work);
      throw fromNodeError(err, 'unpack', this.layerDir(diffId));
    }
  }

  /**
   * Keeps the blob of a layer that is stored already: copies it into blobs/, verifying its
   * digest (when known) and that it decompresses to the diffID, then records it in the layer.
   */
  private async keepBlob(diffId: string, source: UnpackLayerSource): Promise<void> {
    const what = source.what ?? `layer ${diffId}`;
    const temp = path.join(this.paths.tmp, uniqueName('blob'));
    let fd: number | undefined;
    try {
      fd = openSync(temp, 'wx', 0o644);
      const tee = new FileTee(fd);
      const { decompress } = await import('../layer/compression.js');
      const input = await source.open();
      const hashed = new DigestStream({ what, ...(source.digest !== undefined ? { expected: source.digest } : {}) });
      const verified = pipeline(input, hashed, tee, () => undefined);
      const { output } = await decompress(verified, what);
      await new Promise<void>((resolve, reject) => {
        pipeline(output, new DigestStream({ expected: diffId, what: `${what} diffID` }), new Writable({ write: (_c, _e, cb) => cb() }), (err) =>
          err ? reject(err) : resolve(),
        );
      });
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      const digest = hashed.digest();
      if (this.blobs.size(digest) === undefined) await this.blobs.commit(temp, digest);
      else await unlink(temp);
      await writeFileAtomic(this.paths.tmp, path.join(this.layerDir(diffId), 'blob'), `${digest}\n`);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      await unlink(temp).catch(() => undefined);
      throw err instanceof HullError ? err : fromNodeError(err, 'keep blob', this.layerDir(diffId));
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
