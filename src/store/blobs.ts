/**
 * Content-addressed blobs: `blobs/sha256/<hex>`. A blob is written to a temporary file, its
 * digest verified while it streams, fsynced and renamed into place; an existing blob is never
 * rewritten (same name, same content).
 */

import { constants, createReadStream, createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { access, open, rename, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { HullError, InvalidImageError, fromNodeError } from '../errors.js';
import { DigestStream, digestOf, parseSha256, verifyDigest } from '../image/digest.js';
import { fsyncDirectory, uniqueName } from './atomic-file.js';
import type { StorePaths } from './paths.js';

const HEX_RE = /^[a-f0-9]{64}$/;

export class BlobStore {
  private readonly dir: string;
  private readonly tmp: string;

  constructor(paths: StorePaths) {
    this.dir = path.join(paths.blobs, 'sha256');
    this.tmp = paths.tmp;
  }

  /** Where the blob with this (sha256) digest lives. */
  path(digest: string): string {
    return path.join(this.dir, parseSha256(digest, 'blob digest'));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Stores `data` (verified against `expected` when given); returns its sha256 digest. */
  async putBytes(data: Buffer, expected?: string): Promise<string> {
    if (expected !== undefined) verifyDigest('blob', expected, data);
    const digest = digestOf(data, 'sha256');
    if (await this.has(digest)) return digest;
    const temp = path.join(this.tmp, uniqueName('blob'));
    try {
      const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(temp, digest);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw fromNodeError(err, 'write', this.path(digest));
    }
    return digest;
  }

  /** Stores a stream, verifying `expected` (sha256) while it is written; returns digest and size. */
  async putStream(source: Readable, expected: string): Promise<{ digest: string; size: number }> {
    parseSha256(expected, 'blob digest');
    const temp = path.join(this.tmp, uniqueName('blob'));
    const hasher = new DigestStream({ expected, what: `blob ${expected}` });
    try {
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true });
      await pipeline(source, hasher, out);
      if (await this.has(expected)) await unlink(temp);
      else await this.commit(temp, expected);
    } catch (err) {
      source.destroy();
      await unlink(temp).catch(() => undefined);
      throw err instanceof HullError ? err : fromNodeError(err, 'write', this.path(expected));
    }
    return { digest: expected, size: hasher.bytes };
  }

  /** A blob's content (verified), refused when larger than `maxBytes`. */
  async readBytes(digest: string, maxBytes: number): Promise<Buffer> {
    const file = this.path(digest);
    let data: Buffer;
    try {
      const { size } = statSync(file);
      if (size > maxBytes) throw new InvalidImageError(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed`);
      data = readFileSync(file);
    } catch (err) {
      throw fromNodeError(err, 'read', file);
    }
    verifyDigest(`stored blob ${file}`, digest, data);
    return data;
  }

  /** Moves a finished, fsynced temporary file into place as `digest` (kept if already there). */
  async commit(temp: string, digest: string): Promise<void> {
    await rename(temp, this.path(digest));
    await fsyncDirectory(this.dir);
  }

  /** The digests of all stored blobs (names that are not sha256 hex are left out). */
  list(): string[] {
    return this.entries()
      .filter((n) => HEX_RE.test(n))
      .map((n) => `sha256:${n}`);
  }

  /** Every name in blobs/sha256, valid or not (for the store check). */
  entries(): string[] {
    try {
      return readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromNodeError(err, 'readdir', this.dir);
    }
  }

  /** Bytes of a stored blob, or undefined when it is not there. */
  size(digest: string): number | undefined {
    try {
      return statSync(this.path(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** A stream of the stored blob (not verified here; verify with a DigestStream). */
  open(digest: string): Readable {
    return createReadStream(this.path(digest));
  }

  /** The sha256 of a file in blobs/sha256, streamed (for the store check). */
  async hashEntry(name: string): Promise<string> {
    const hash = createHash('sha256');
    const file = path.join(this.dir, name);
    try {
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    } catch (err) {
      throw fromNodeError(err, 'read', file);
    }
    return `sha256:${hash.digest('hex')}`;
  }

  /** Removes a blob by name in blobs/sha256; returns the bytes freed (0 if it was not there). */
  async removeEntry(name: string): Promise<number> {
    const file = path.join(this.dir, name);
    let size = 0;
    try {
      size = statSync(file).size;
      await unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw fromNodeError(err, 'unlink', file);
    }
    return size;
  }
}
