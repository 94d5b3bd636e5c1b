/**
 * Layer compression, detected from magic bytes (not trusted from media types): gzip, zstd or an
 * uncompressed tar. Used by the unpacker (./unpack.ts) and by readers of stored blobs (save,
 * verification).
 *
 * zstd: Node 20 has no zstd decoder. Where Node has one (zlib.createZstdDecompress, Node >=
 * 22.15) it is used; otherwise the data streams through Debian's `zstd -dc` in a child process.
 * Measured here on a 300 MB tar (102 MB .zst), with the sha256 a diffID needs: `zstd` child 0.90 s
 * wall and 0.52 s of this process's CPU (decompression runs on the other core); the pure-JS npm
 * package fzstd 2.9-3.6 s wall, all of it on the event loop. So: no npm dependency, the
 * reference decoder, its default 128 MiB window limit (bounded memory for hostile frames), and
 * backpressure through the pipes. The child is killed when the unpack stops early.
 */

import { spawn } from 'node:child_process';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { HostUnsupportedError, InvalidImageError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const BZIP2_MAGIC = Buffer.from('BZh');
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const MAGIC_BYTES = 6;
/**
 * Output chunk of the gzip decoder. zlib's default (16 KiB) made gunzip of a 128 MB layer take
 * 0.77 s here; 256 KiB, 0.43 s (fewer thread-pool round trips), faster than `gzip -dc` (0.73 s).
 * While a layer is written, the decoder also waits for the busy main thread to take each chunk
 * before it decodes the next: 1 MiB chunks made that wait rare (a Debian layer on tmpfs: 0.69 s
 * with 256 KiB, 0.65 s with 1 MiB).
 */
export const DECODE_CHUNK_BYTES = 1024 * 1024;

export function detectCompression(head: Buffer): Compression | 'bzip2' | 'xz' {
  const starts = (magic: Buffer): boolean => head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  if (starts(XZ_MAGIC)) return 'xz';
  if (starts(BZIP2_MAGIC)) return 'bzip2';
  return 'none';
}

type ZstdFactory = () => Transform;

function builtinZstd(): ZstdFactory | undefined {
  const factory = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof factory === 'function' ? factory : undefined;
}

/** The zstd program used when Node has no zstd decoder (HULL_ZSTD overrides, for tests). */
export function zstdProgram(): string {
  return process.env.HULL_ZSTD ?? 'zstd';
}

/**
 * `input` decompressed by the `zstd` program. The output ends only after zstd exited 0; a
 * non-zero exit (corrupt data) destroys it with an InvalidImageError, a missing program with a
 * HostUnsupportedError naming the package.
 * Destroying the output (or an error of `input`) kills zstd.
 */
export function zstdThroughChild(input: Readable, what: string): { output: Readable; stopped: Promise<void> } {
  const program = zstdProgram();
  const output = new PassThrough({ highWaterMark: 256 * 1024 });
  const child = spawn(program, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stopped = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  let stderr = '';
  let exited = false;
  const fail = (err: Error): void => {
    if (!exited) child.kill('SIGKILL');
    input.destroy();
    output.destroy(err);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    exited = true;
    const why =
      err.code === 'ENOENT'
        ? `zstd layers need the zstd program (Debian/Ubuntu package zstd), and ${program} was not found`
        : `cannot run ${program}: ${err.message}`;
    fail(new HostUnsupportedError(`${what}: ${why}`));
  });
  child.on('close', (code, signal) => {
    exited = true;
    if (code === 0) {
      output.end();
      return;
    }
    if (output.destroyed) return;
    const detail = stderr.trim().split('\n').pop() ?? '';
    fail(new InvalidImageError(`${what}: corrupt zstd data (zstd exited ${code ?? signal}${detail ? `: ${detail}` : ''})`));
  });
  // zstd's stdin closes early when it stops reading (corrupt data): its exit status says why.
  child.stdin.on('error', () => undefined);
  input.on('error', (err) => fail(err));
  input.pipe(child.stdin);
  child.stdout.pipe(output, { end: false });
  output.on('close', () => {
    if (!exited) child.kill('SIGKILL');
    input.destroy();
  });
  return { output, stopped };
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
  /** Settles once the decompressor has stopped: a `zstd` child reaped (after the output is destroyed, it is killed); at once for Node's decoders. */
  readonly stopped: Promise<void>;
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
  const inProcess = Promise.resolve();
  switch (compression) {
    case 'none':
      return { compression, output: raw, stopped: inProcess };
    case 'gzip':
      return { compression, output: through(zlib.createGunzip({ chunkSize: DECODE_CHUNK_BYTES })), stopped: inProcess };
    case 'zstd': {
      const factory = builtinZstd();
      return { compression, ...(factory ? { output: through(factory()), stopped: inProcess } : zstdThroughChild(raw, what)) };
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
