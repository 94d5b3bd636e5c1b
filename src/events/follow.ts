/**
 * Reading the events log (log.ts): what it holds between `since` and `until`, then, while `until`
 * is ahead, the new lines as they are written. A follower wakes on inotify (fs.watch on the log's
 * directory), never on a timer. Across a rotation it finishes the old file (now `.1`) and keeps
 * draining it while it follows the new one: a writer that opened the old file just before the
 * rename still writes there.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { DirectoryChanges } from '../directory-changes.js';
import { type EventMessage, eventsDir, eventsFile, rotatedFile } from './log.js';

export interface EventReadOptions {
  /** Nanoseconds since the epoch. Without since and until only new events come (Docker's live stream). */
  since?: bigint;
  until?: bigint;
  filter?: (ev: EventMessage) => boolean;
  signal?: AbortSignal;
}

/** One file of the log, read from `offset` on; a line cut by the end of a read waits for its rest. */
class Tail {
  private partial = '';
  private constructor(
    private readonly fd: number,
    readonly ino: number,
    private offset: number,
  ) {}

  static open(file: string, atEnd: boolean): Tail | undefined {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined; // not written yet (or rotated away meanwhile)
    }
    const st = fstatSync(fd);
    return new Tail(fd, st.ino, atEnd ? st.size : 0);
  }

  lines(): string[] {
    const out: string[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) return out;
      this.offset += n;
      const parts = (this.partial + buf.toString('utf8', 0, n)).split('\n');
      this.partial = parts.pop() ?? '';
      out.push(...parts.filter((l) => l !== ''));
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

function parse(line: string): EventMessage | undefined {
  // timeNano read from the text: JSON.parse would round it to a double.
  const nano = /"timeNano":(\d+)\}$/.exec(line);
  if (!nano) return undefined; // a line cut by a crash mid-write: skipped
  try {
    const ev = JSON.parse(line) as Omit<EventMessage, 'timeNano'>;
    return typeof ev.Type === 'string' && typeof ev.Action === 'string' ? { ...ev, timeNano: BigInt(nano[1]!) } : undefined;
  } catch {
    return undefined;
  }
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** The events as `opts` select them, in the order they were appended; ends at `until` (never without one) or on `signal`. */
export async function* readEvents(runRoot: string, opts: EventReadOptions = {}): AsyncGenerator<EventMessage> {
  const file = eventsFile(runRoot);
  mkdirSync(eventsDir(runRoot), { recursive: true, mode: 0o700 });
  // Watch before the first read: a line written between the read and the watch would wait for the next one.
  const changes = new DirectoryChanges(eventsDir(runRoot), { persistent: true });
  const history = opts.since !== undefined || opts.until !== undefined;
  let previous = history ? Tail.open(rotatedFile(runRoot), false) : undefined;
  let current = Tail.open(file, !history);
  if (previous && current && previous.ino === current.ino) {
    previous.close(); // rotated between the two opens: it is the current one
    previous = undefined;
  }
  // Ends the wait at `until` or on abort; the loop then drains once more and stops.
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.until !== undefined) timer = setTimeout(resolve, Math.max(0, Number((opts.until - nowNs()) / 1_000_000n)) + 1);
  });
  const done = () => opts.signal?.aborted === true || (opts.until !== undefined && nowNs() > opts.until);
  try {
    for (;;) {
      const last = done(); // decided before the drain: what was written until then is read
      yield* drain([previous, current], opts);
      let inode: number | undefined;
      try {
        inode = statSync(file).ino;
      } catch {
        inode = undefined; // rotated, the new one not yet written
      }
      if (inode !== undefined && inode !== current?.ino) {
        // Rotated (or first written): the old current is `.1` now, the one before it gone — unless
        // this follower slept through two rotations: then `.1` is a file it never saw, read after
        // the old current (what rotated more often while it slept is gone: the log is bounded).
        previous?.close();
        previous = current;
        const rotated = current ? Tail.open(rotatedFile(runRoot), false) : undefined;
        if (rotated && rotated.ino !== current?.ino) {
          yield* drain([current], opts);
          current?.close();
          previous = rotated;
        } else {
          rotated?.close();
        }
        current = Tail.open(file, false);
        continue;
      }
      if (last) return;
      await Promise.race([changes.next(), stopped]);
    }
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    changes.close();
    previous?.close();
    current?.close();
  }
}

function* drain(tails: (Tail | undefined)[], opts: EventReadOptions): Generator<EventMessage> {
  for (const tail of tails) {
    for (const line of tail?.lines() ?? []) {
      const ev = parse(line);
      if (!ev) continue;
      const t = ev.timeNano;
      if ((opts.since !== undefined && t < opts.since) || (opts.until !== undefined && t > opts.until)) continue;
      if (opts.filter && !opts.filter(ev)) continue;
      yield ev;
    }
  }
}
