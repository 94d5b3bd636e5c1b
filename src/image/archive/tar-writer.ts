/**
 * A minimal streaming tar writer for image archives (`hull save`): ustar headers (node-tar's
 * Header encodes them, base-256 for sizes beyond 8 GiB), entries written in order with
 * backpressure, file bodies streamed with their size stated up front. Entries are owned by 0:0
 * with mtime 0, so saving the same image twice gives the same bytes.
 */

import type { Writable } from 'node:stream';
import { Header } from 'tar/header';
import { InvalidImageError, RuntimeError, fromNodeError } from '../../errors.js';

const BLOCK = 512;
const EPOCH = new Date(0);

export class TarWriter {
  private failed: Error | undefined;
  private readonly onError = (err: Error) => {
    this.failed = err;
  };

  constructor(private readonly out: Writable) {
    out.on('error', this.onError);
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw fromNodeError(this.failed, 'write', 'archive');
    if (this.out.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off('drain', ok);
        this.out.off('error', done);
        this.out.off('close', closed);
        if (err) reject(fromNodeError(err, 'write', 'archive'));
        else resolve();
      };
      const ok = () => done();
      const closed = () => done(this.failed ?? new RuntimeError('the output was closed while the archive was written'));
      this.out.once('drain', ok);
      this.out.once('error', done);
      this.out.once('close', closed);
    });
  }

  private header(name: string, type: 'File' | 'Directory', size: number, mode: number): Buffer {
    const h = new Header({ path: name, mode, uid: 0, gid: 0, size, mtime: EPOCH, type, uname: '', gname: '' });
    h.encode();
    if (h.needPax || !h.block) throw new RuntimeError(`tar: cannot encode ${name} in a ustar header`);
    return h.block;
  }

  async addDirectory(name: string): Promise<void> {
    await this.write(this.header(name.endsWith('/') ? name : `${name}/`, 'Directory', 0, 0o755));
  }

  async addFile(name: string, content: Buffer): Promise<void> {
    await this.write(this.header(name, 'File', content.length, 0o644));
    await this.write(content);
    await this.pad(content.length);
  }

  /** A file of exactly `size` bytes from `body`; fewer or more is an error naming `what`. */
  async addStream(name: string, size: number, body: AsyncIterable<Buffer>, what: string): Promise<void> {
    await this.write(this.header(name, 'File', size, 0o644));
    let written = 0;
    for await (const chunk of body) {
      written += chunk.length;
      if (written > size) throw new InvalidImageError(`${what}: more than the ${size} bytes recorded`);
      await this.write(chunk);
    }
    if (written !== size) throw new InvalidImageError(`${what}: ${written} bytes, ${size} recorded`);
    await this.pad(size);
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.write(Buffer.alloc(BLOCK - rest));
  }

  /** The end-of-archive marker; then ends the output and waits until it is flushed. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    await new Promise<void>((resolve, reject) => {
      if (this.failed) {
        reject(fromNodeError(this.failed, 'write', 'archive'));
        return;
      }
      this.out.end(() => resolve());
      this.out.once('error', (err) => reject(fromNodeError(err, 'write', 'archive')));
    });
    this.out.off('error', this.onError);
  }
}
