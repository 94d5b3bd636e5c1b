/**
 * Content-addressed blobs: `blobs/sha256/<hex>`. A blob is written to a temporary file, its
 * digest verified while it streams, fsynced and renamed into place; an existing blob is never
 * rewritten (same name, same content).
 */

import { constants, createWriteStream, readFileSync, statSync } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { HullError, InvalidImageError, fromNodeError } from '../errors.js';
import { DigestStream, digestOf, parseSha256, verifyDigest } from '../image/digest.js';
import { fsyncDirectory, uniqueName } from './atomic-file.js';
import type { StorePaths } from './paths.js';

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

  private async commit(temp: string, digest: string): Promise<void> {
    await rename(temp, this.path(digest));
    await fsyncDirectory(this.dir);
  }
}
