/**
 * The container's stdio. Files and pipes are handed to it directly (no copying on the hot path);
 * a terminal of hull's is never handed in without `-t` (a container must not be able to push input
 * into the host's terminal), so a tty is relayed through a pipe instead.
 */
import { closeSync, constants, openSync } from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { sys } from '../native/index.js';

/** 'inherit': hull's own fd; 'pipe': a stream for the caller; 'ignore': /dev/null; a number: that fd. */
export type StdioSpec = 'inherit' | 'pipe' | 'ignore' | number;

export interface StdioOptions {
  stdin?: StdioSpec;
  stdout?: StdioSpec;
  stderr?: StdioSpec;
}

export interface WiredStdio {
  /** What the child gets as 0, 1, 2. */
  childFds: [number, number, number];
  stdin: Writable | undefined;
  stdout: Readable | undefined;
  stderr: Readable | undefined;
  /** Close hull's copies of the child's ends (after spawn). */
  closeChildEnds(): void;
  /** Resolves when every relayed output stream has ended (so no output is lost). */
  drained(): Promise<void>;
  /** Stop relaying hull's stdin (the container is gone). */
  stop(): void;
}

export async function wireStdio(opts: StdioOptions): Promise<WiredStdio> {
  const toClose: number[] = [];
  const ends: Promise<void>[] = [];
  const stoppers: (() => void)[] = [];
  let devNull: number | undefined;
  const nullFd = (): number => {
    if (devNull === undefined) {
      devNull = openSync('/dev/null', constants.O_RDWR);
      toClose.push(devNull);
    }
    return devNull;
  };
  const result: WiredStdio = {
    childFds: [0, 1, 2],
    stdin: undefined,
    stdout: undefined,
    stderr: undefined,
    closeChildEnds() {
      for (const fd of toClose.splice(0)) closeSync(fd);
    },
    async drained() {
      await Promise.all(ends);
    },
    stop() {
      for (const s of stoppers.splice(0)) s();
    },
  };

  // stdin
  const stdin = opts.stdin ?? 'ignore';
  if (stdin === 'ignore') {
    result.childFds[0] = nullFd();
  } else if (typeof stdin === 'number') {
    result.childFds[0] = stdin;
  } else if (stdin === 'inherit' && !tty.isatty(0)) {
    result.childFds[0] = 0;
  } else {
    const [r, w] = sys.pipe();
    toClose.push(r);
    result.childFds[0] = r;
    const writer = new net.Socket({ fd: w, readable: false, writable: true });
    writer.on('error', () => undefined); // EPIPE once the container is gone: input no one reads
    if (stdin === 'pipe') {
      result.stdin = writer;
    } else {
      process.stdin.pipe(writer);
      stoppers.push(() => {
        process.stdin.unpipe(writer);
        process.stdin.pause();
        writer.destroy();
      });
    }
  }

  // stdout, stderr
  for (const [index, key, hostStream] of [[1, 'stdout', process.stdout], [2, 'stderr', process.stderr]] as const) {
    const spec = opts[key] ?? 'inherit';
    if (spec === 'ignore') {
      result.childFds[index] = nullFd();
    } else if (typeof spec === 'number') {
      result.childFds[index] = spec;
    } else if (spec === 'inherit' && !tty.isatty(index)) {
      result.childFds[index] = index;
    } else {
      const [r, w] = sys.pipe();
      toClose.push(w);
      result.childFds[index] = w;
      const reader = new net.Socket({ fd: r, readable: true, writable: false });
      ends.push(new Promise((resolve) => reader.once('close', () => resolve())));
      if (spec === 'pipe') {
        result[key] = reader;
      } else {
        reader.pipe(hostStream, { end: false });
      }
    }
  }
  return result;
}
