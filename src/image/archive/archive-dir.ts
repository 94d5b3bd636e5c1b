/**
 * Read-only access to the files of an unpacked image archive (an OCI layout or `docker save`
 * output), confined to its directory: names are resolved inside it, symlinks included, so an
 * archive cannot make hull read `/etc/shadow` as a "layer".
 */

import { constants, createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidImageError, fromNodeError } from '../../errors.js';
import { archivePathComponents, resolveFollowing } from '../../layer/root-path.js';

/** JSON documents (index, manifests, configs) larger than this are refused. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

export class ArchiveDir {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private locate(name: string): string {
    const what = `archive ${this.root}: ${name}`;
    return resolveFollowing(this.root, archivePathComponents(name, what), what);
  }

  async exists(name: string): Promise<boolean> {
    const file = this.locate(name);
    try {
      const fh = await open(file, OPEN_FLAGS);
      await fh.close();
      return true;
    } catch {
      return false;
    }
  }

  private async openHandle(name: string): Promise<FileHandle> {
    const file = this.locate(name);
    try {
      const fh = await open(file, OPEN_FLAGS);
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw new InvalidImageError(`archive ${this.root}: ${name} is not a regular file`);
      }
      return fh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new InvalidImageError(`archive ${this.root}: ${name} is missing`);
      }
      throw fromNodeError(err, 'open', file);
    }
  }

  /** The whole file, refused when larger than `maxBytes`. */
  async readBounded(name: string, maxBytes: number = MAX_JSON_BYTES): Promise<Buffer> {
    const fh = await this.openHandle(name);
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) throw new InvalidImageError(`archive ${this.root}: ${name} is ${size} bytes, more than the ${maxBytes} allowed`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** A stream of the file's content. */
  async open(name: string): Promise<Readable> {
    const fh = await this.openHandle(name);
    return createReadStream(name, { fd: fh, autoClose: true });
  }
}
