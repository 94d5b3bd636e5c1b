/**
 * The Engine API's byte streams: Docker's multiplexed frames (an 8-byte header {stream, 0, 0, 0,
 * size u32 big-endian} before each chunk; 0 stdin, 1 stdout, 2 stderr) when a container has no
 * terminal, raw bytes when it has one. Every copy waits for 'drain' when the client's buffer is
 * full: a slow client holds back its own stream, never the server.
 */
import type { Readable, Writable } from 'node:stream';
import type { LogEntry } from '../runtime/logs.js';

export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

/** Resolves once `out` can take more (at once when it can, or when it has gone). */
export function drained(out: Writable): Promise<void> {
  if (!out.writableNeedDrain || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * Copies a container's (or an exec's) output to a client: framed unless `raw` (a terminal's one
 * stream). Resolves when every source has ended. A source is paused while the client is full.
 */
export function relayOutput(out: Writable, sources: { stdout?: Readable | undefined; stderr?: Readable | undefined }, raw: boolean): Promise<void> {
  const copies = ([1, 2] as const).map((n) => {
    const source = n === 1 ? sources.stdout : sources.stderr;
    if (!source) return Promise.resolve();
    return new Promise<void>((resolve) => {
      source.on('data', (chunk: Buffer) => {
        if (out.destroyed) return;
        if (!out.write(raw ? chunk : frame(n, chunk))) {
          source.pause();
          void drained(out).then(() => source.resume());
        }
      });
      source.once('end', resolve);
      source.once('close', resolve);
      source.once('error', () => resolve());
    });
  });
  return Promise.all(copies).then(() => undefined);
}

/** Log entries to a client: framed by their stream unless `raw`, with Docker's timestamps when asked; stops when the client has gone. */
export async function writeLogs(
  out: Writable,
  batches: AsyncIterable<LogEntry[]>,
  opts: { raw: boolean; timestamps: boolean; stdout: boolean; stderr: boolean },
): Promise<void> {
  for await (const batch of batches) {
    if (out.destroyed) return;
    const parts: Buffer[] = [];
    for (const e of batch) {
      if (e.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
      const data = Buffer.from(opts.timestamps ? `${e.time} ${e.log}` : e.log);
      parts.push(opts.raw ? data : frame(e.stream === 'stderr' ? 2 : 1, data));
    }
    if (parts.length > 0 && !out.write(Buffer.concat(parts))) await drained(out);
  }
}
