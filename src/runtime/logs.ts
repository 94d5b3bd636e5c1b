/**
 * Reading a container's json-file log (written by hull-monitor, one JSON object a line:
 * {"log","stream","time"}, Docker's shape): --tail, --since, --until, and -f (follow until the
 * container has ended).
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { UsageError, fromNodeError } from '../errors.js';

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, UTC. */
  time: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  if (line === '') return undefined;
  try {
    const e = JSON.parse(line) as Partial<LogEntry>;
    if (typeof e.log !== 'string' || typeof e.time !== 'string') return undefined;
    return { log: e.log, stream: e.stream === 'stderr' ? 'stderr' : 'stdout', time: e.time };
  } catch {
    return undefined; // a torn last line (the monitor was killed mid-write): skipped
  }
}

/** Milliseconds since the epoch of a log time; keeps sub-millisecond order out (sorting is by file order). */
export function logTimeMs(time: string): number {
  return Date.parse(time.replace(/\.(\d{3})\d*Z$/, '.$1Z'));
}

const DURATION_RE = /^(?:(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns))+$/;

/**
 * Docker's --since/--until: an RFC 3339 date or date-time, a Unix timestamp (seconds, with an
 * optional fraction), or a Go duration ("10m", "1h30m") meaning that long before `now`.
 */
export function parseTimeBound(text: string, now = Date.now()): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (DURATION_RE.test(t)) {
    const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
    let ms = 0;
    for (const m of t.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * (units[m[2] as string] ?? 0);
    return now - ms;
  }
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (Number.isNaN(parsed)) throw new UsageError(`invalid time value '${text}': use an RFC 3339 time, a Unix timestamp or a duration like 10m`);
  return parsed;
}

export interface LogSelection {
  /** Only the last N entries (of those already written); undefined = all. */
  tail?: number;
  sinceMs?: number;
  untilMs?: number;
}

export function selectEntries(entries: LogEntry[], sel: LogSelection): LogEntry[] {
  let out = entries;
  if (sel.sinceMs !== undefined) out = out.filter((e) => logTimeMs(e.time) >= (sel.sinceMs as number));
  if (sel.untilMs !== undefined) out = out.filter((e) => logTimeMs(e.time) <= (sel.untilMs as number));
  if (sel.tail !== undefined) out = sel.tail <= 0 ? [] : out.slice(-sel.tail);
  return out;
}

/** Reads a growing file line by line from an offset (a reader that keeps an unfinished last line). */
export class LogReader {
  private fd: number | undefined;
  private rest = '';

  constructor(
    private readonly file: string,
    private offset = 0,
  ) {}

  /** Complete lines written since the last call ([] when the file does not exist yet). A file
   *  rotated away meanwhile (renamed to LOG.1) is read to its end, then the new one from its start. */
  readNew(): LogEntry[] {
    const out = this.readOpen();
    if (this.fd !== undefined) {
      let rotated = false;
      try {
        rotated = statSync(this.file).ino !== fstatSync(this.fd).ino;
      } catch {
        rotated = false; // no new file yet
      }
      if (rotated) {
        // Ours is LOG.k now (or dropped); LOG.k-1 … LOG.1 came after it, complete; then LOG itself.
        const ino = fstatSync(this.fd).ino;
        this.close();
        const rotatedNames: string[] = [];
        for (let k = 1; existsSync(`${this.file}.${k}`); k++) rotatedNames.push(`${this.file}.${k}`);
        const ours = rotatedNames.findIndex((f) => statSync(f, { throwIfNoEntry: false })?.ino === ino);
        const newer = (ours < 0 ? rotatedNames : rotatedNames.slice(0, ours)).reverse();
        for (const f of newer) out.push(...entriesOf(f));
        this.offset = 0;
        this.rest = '';
        out.push(...this.readOpen());
      }
    }
    return out;
  }

  private readOpen(): LogEntry[] {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw fromNodeError(err, 'open', this.file);
      }
    }
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      this.offset += n;
    }
    if (chunks.length === 0) return [];
    const text = this.rest + Buffer.concat(chunks).toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map(parseLogLine).filter((e): e is LogEntry => e !== undefined);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface FollowOptions extends LogSelection {
  follow: boolean;
  /** Resolves true once the container has ended (and its monitor has written everything), false when more may come. */
  waitForMore: () => Promise<boolean>;
  /** Start reading at this byte offset (`start -a`: only this run's output). */
  fromOffset?: number;
}

function entriesOf(file: string): LogEntry[] {
  try {
    return readFileSync(file, 'utf8').split('\n').map(parseLogLine).filter((e): e is LogEntry => e !== undefined);
  } catch {
    return []; // rotated away meanwhile
  }
}

/** The rotated files of a log (LOG.N … LOG.1: oldest first), as entries. */
function rotatedEntries(file: string): LogEntry[] {
  let n = 1;
  while (existsSync(`${file}.${n}`)) n++;
  const out: LogEntry[] = [];
  for (let i = n - 1; i >= 1; i--) out.push(...entriesOf(`${file}.${i}`));
  return out;
}

/** The selected entries, then (with follow) new ones as they are written, until the container ends. */
export async function* readLog(file: string, opts: FollowOptions): AsyncGenerator<LogEntry> {
  const reader = new LogReader(file, opts.fromOffset ?? 0);
  try {
    const older = opts.fromOffset === undefined ? rotatedEntries(file) : [];
    const first = selectEntries([...older, ...reader.readNew()], opts);
    yield* first;
    if (!opts.follow) return;
    for (;;) {
      const ended = await opts.waitForMore();
      for (const e of reader.readNew()) {
        const ms = logTimeMs(e.time);
        if (opts.untilMs !== undefined && ms > opts.untilMs) return;
        if (opts.sinceMs === undefined || ms >= opts.sinceMs) yield e;
      }
      if (ended) return;
    }
  } finally {
    reader.close();
  }
}
