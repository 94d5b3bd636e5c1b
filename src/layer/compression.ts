/**
 * Layer compression, detected from magic bytes (not trusted from media types): gzip, zstd (when
 * this Node has it: zlib.createZstdDecompress, Node >= 22.15), or an uncompressed tar.
 */

import { Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidImageError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const BZIP2_MAGIC = Buffer.from('BZh');
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const MAGIC_BYTES = 6;

export function detectCompression(head: Buffer): Compression | 'bzip2' | 'xz' {
  const starts = (magic: Buffer): boolean => head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  if (starts(XZ_MAGIC)) return 'xz';
  if (starts(BZIP2_MAGIC)) return 'bzip2';
  return 'none';
}

type ZstdFactory = () => Transform;

function zstdDecompressor(): ZstdFactory | undefined {
  const factory = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof factory === 'function' ? factory : undefined;
}

function toBuffer(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
}

/** `head` first, then the rest of `rest` (which is closed if this generator is). */
async function* prepend(head: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  yield* head;
  for await (const v of { [Symbol.asyncIterator]: () => rest }) yield toBuffer(v);
}

export interface Decompressed {
  readonly compression: Compression;
  /** The uncompressed bytes. Errors of `source` and of the decompressor surface here. */
  readonly output: Readable;
}

/**
 * Looks at the first bytes of `source` and returns a stream of its uncompressed content.
 * Unsupported compression is an InvalidImageError naming `what`.
 */
export async function decompress(source: Readable, what: string): Promise<Decompressed> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  while (have < MAGIC_BYTES) {
    const r = await iterator.next();
    if (r.done) break;
    const chunk = toBuffer(r.value);
    head.push(chunk);
    have += chunk.length;
  }
  const compression = detectCompression(Buffer.concat(head));
  const raw = Readable.from(prepend(head, iterator), { objectMode: false });
  const through = (decoder: Transform): Readable => {
    raw.on('error', (err) => decoder.destroy(err));
    decoder.on('close', () => raw.destroy());
    return raw.pipe(decoder);
  };
  switch (compression) {
    case 'none':
      return { compression, output: raw };
    case 'gzip':
      return { compression, output: through(zlib.createGunzip()) };
    case 'zstd': {
      const factory = zstdDecompressor();
      if (factory === undefined) {
        raw.destroy();
        throw new InvalidImageError(`${what}: zstd layers are not supported yet (this Node.js has no zstd decompressor)`);
      }
      return { compression, output: through(factory()) };
    }
    default:
      raw.destroy();
      throw new InvalidImageError(`${what}: ${compression} compressed layers are not supported (gzip, zstd or uncompressed tar)`);
  }
}

/** Whether `err` came from zlib (corrupt compressed data). */
export function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_ZLIB') || code.startsWith('ZSTD_'));
}

/** Fails with InvalidImageError once more than `max` bytes went through (decompression bombs). */
export class ByteLimit extends Transform {
  private seen = 0;
  private readonly max: number;
  private readonly what: string;

  constructor(max: number, what: string) {
    super();
    this.max = max;
    this.what = what;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      callback(new InvalidImageError(`${this.what}: uncompressed size exceeds the limit of ${this.max} bytes`));
      return;
    }
    callback(null, chunk);
  }
}
