/**
 * Reading a container's json-file log (written by hull-monitor, one JSON object a line:
 * {"log","stream","time"}, Docker's shape): --tail, --since, --until, and -f (follow until the
 * container has ended), over the rotated files LOG.N … LOG.1 and LOG.
 *
 * A log may be gigabytes, so nothing here holds more than a block and one line: --tail walks the
 * files newest first, each from its end backwards, to where the last N entries begin; from there
 * the files are read forward block by block and handed on as the entries of each block. A line
 * longer than hull-monitor ever writes is skipped, not gathered.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { UsageError, fromNodeError } from '../errors.js';
import { parseGoDuration } from '../duration.js';

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, UTC. */
  time: string;
}

const HEAD = '{"log":"';
const STREAM = '","stream":"';
const TIME = '","time":"';

/**
 * A line in hull-monitor's exact shape, {"log":"…","stream":"stdout|stderr","time":"…"} with no
 * escape in the log but its final \n (most lines), read without JSON.parse: a big log's read is
 * mostly parsing, and this is a few times faster. Anything else is left to JSON.parse (undefined).
 * (It is laxer in one way: a raw control character, which the monitor never writes, is taken as it is.)
 */
function parseMonitorLine(line: string): LogEntry | undefined {
  if (!line.startsWith(HEAD) || !line.endsWith('"}')) return undefined;
  const s = line.lastIndexOf(STREAM);
  const t = line.indexOf(TIME, s + STREAM.length);
  if (s < HEAD.length || t < 0) return undefined;
  const stream = line.slice(s + STREAM.length, t);
  const time = line.slice(t + TIME.length, -2);
  if ((stream !== 'stdout' && stream !== 'stderr') || time.includes('"') || time.includes('\\')) return undefined;
  const log = line.slice(HEAD.length, s);
  if (log.includes('"')) return undefined;
  const esc = log.indexOf('\\');
  if (esc < 0) return { log, stream, time };
  if (esc !== log.length - 2 || log[esc + 1] !== 'n') return undefined;
  return { log: `${log.slice(0, esc)}\n`, stream, time };
}

export function parseLogLine(line: string): LogEntry | undefined {
  if (line === '') return undefined;
  const fast = parseMonitorLine(line);
  if (fast !== undefined) return fast;
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

/**
 * Docker's --since/--until: an RFC 3339 date or date-time, a Unix timestamp (seconds, with an
 * optional fraction), or a Go duration ("10m", "1h30m") meaning that long before `now`.
 */
export function parseTimeBound(text: string, now = Date.now()): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const ns = parseGoDuration(t);
  if (ns !== undefined) return now - ns / 1e6;
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (Number.isNaN(parsed)) throw new UsageError(`invalid time value '${text}': use an RFC 3339 time, a Unix timestamp or a duration like 10m`);
  return parsed;
}

export interface LogSelection {
  /** Only the last N entries (of those already written), as Docker's --tail: counted before --since/--until filter; undefined = all. */
  tail?: number;
  sinceMs?: number;
  untilMs?: number;
}

/** How the files are read: the block size and the longest line kept (tests use tiny ones). */
export interface LogIo {
  block: number;
  /** At least `block`: a line within one block is never too long. */
  maxLine: number;
}

/**
 * hull-monitor splits output at 16 KiB and escapes a byte as 6 at most, so its lines stay under
 * ~100 KiB: a longer one is no entry of its (a damaged or foreign file) and is skipped. Blocks of
 * 32 KiB: with 64 or 128 KiB, V8's young generation grew on a 2 GB log (peak RSS 86-90 MB against
 * 70) for no gain in speed.
 */
export const DEFAULT_IO: LogIo = { block: 32 * 1024, maxLine: 1024 * 1024 };

const NL = 0x0a; // never inside a multi-byte UTF-8 sequence: splitting bytes at it never splits a character

function pushEntry(out: LogEntry[], line: string): void {
  const e = parseLogLine(line);
  if (e !== undefined) out.push(e);
}

/**
 * One file read forward from an offset in bounded blocks: each `next()` gives the entries of the
 * complete lines of one block. The unfinished last line is kept (up to `maxLine`) for the next
 * block, so lines and characters split across blocks come out whole.
 */
export class LineSource {
  private carry: Buffer | undefined;
  /** Inside a line longer than maxLine: its bytes are dropped up to its '\n'. */
  private skipping = false;
  private buf: Buffer;

  constructor(
    readonly fd: number,
    public offset = 0,
    /** Read no further than this (a snapshot of a file that may still grow). */
    private readonly end = Infinity,
    private readonly io: LogIo = DEFAULT_IO,
  ) {
    this.buf = Buffer.allocUnsafe(io.block);
  }

  /** The entries of the next block (possibly none), or undefined at the end (for now: a growing file may have more later). */
  next(): LogEntry[] | undefined {
    const want = Math.min(this.buf.length, this.end - this.offset);
    if (want <= 0) return undefined;
    const n = readSync(this.fd, this.buf, 0, want, this.offset);
    if (n <= 0) return undefined;
    this.offset += n;
    return this.take(this.buf.subarray(0, n));
  }

  /**
   * At the end of what is there: a last line without its '\n' that is a whole entry (a file not
   * written by the monitor). A torn one (the monitor mid-write, or killed) is kept: its end may come.
   */
  atEnd(): LogEntry[] {
    if (this.carry === undefined) return [];
    const e = parseLogLine(this.carry.toString('utf8'));
    if (e === undefined) return [];
    this.carry = undefined;
    return [e];
  }

  /** Every block's entries to the end (of a file that no longer grows, or of the snapshot), then a last line without '\n'. */
  *batches(): Generator<LogEntry[]> {
    for (let b = this.next(); b !== undefined; b = this.next()) yield b;
    yield this.atEnd();
  }

  /** Read again from the start (the file was truncated). */
  restart(): void {
    this.offset = 0;
    this.carry = undefined;
    this.skipping = false;
  }

  private take(data: Buffer): LogEntry[] {
    const out: LogEntry[] = [];
    let i = 0;
    if (this.carry !== undefined || this.skipping) {
      const nl = data.indexOf(NL);
      if (nl < 0) {
        this.keep(data);
        return out;
      }
      if (this.carry !== undefined && this.carry.length + nl <= this.io.maxLine) {
        pushEntry(out, Buffer.concat([this.carry, data.subarray(0, nl)]).toString('utf8'));
      }
      this.carry = undefined;
      this.skipping = false;
      i = nl + 1;
    }
    const last = data.lastIndexOf(NL);
    if (last >= i) {
      for (const line of data.toString('utf8', i, last).split('\n')) pushEntry(out, line);
      i = last + 1;
    }
    if (i < data.length) this.keep(data.subarray(i));
    return out;
  }

  private keep(part: Buffer): void {
    if (this.skipping) return;
    if ((this.carry?.length ?? 0) + part.length > this.io.maxLine) {
      this.carry = undefined;
      this.skipping = true;
      return;
    }
    this.carry = this.carry === undefined ? Buffer.from(part) : Buffer.concat([this.carry, part]);
  }
}

export interface BackwardLine {
  /** Byte offset of the line's first byte. */
  start: number;
  /** The line without its '\n'; undefined for a line longer than maxLine (skipped, never gathered). */
  text: string | undefined;
  /** Whether a '\n' ends it (only the last line of a file may lack one). */
  terminated: boolean;
}

/** The lines of the first `size` bytes of a file, last first, reading it backwards block by block. */
export function* linesBackward(fd: number, size: number, io: LogIo = DEFAULT_IO): Generator<BackwardLine> {
  const buf = Buffer.allocUnsafe(io.block);
  let pos = size; // the bytes before pos are still to read
  let end = size; // where the line being gathered ends (its '\n' included)
  let terminated = false;
  let parts: Buffer[] = []; // its bytes found so far, earliest first
  let len = 0;
  let tooLong = false;
  const add = (part: Buffer) => {
    if (tooLong || part.length === 0) return;
    len += part.length;
    if (len > io.maxLine) {
      tooLong = true;
      parts = [];
      return;
    }
    parts.unshift(Buffer.from(part));
  };
  const line = (start: number): BackwardLine => ({ start, text: tooLong ? undefined : Buffer.concat(parts).toString('utf8'), terminated });
  while (pos > 0) {
    const from = Math.max(0, pos - buf.length);
    const n = readSync(fd, buf, 0, pos - from, from);
    if (n < pos - from) return; // truncated meanwhile: nothing more to find
    let j = n; // buf[0, j) is not yet part of a line
    for (let k = buf.lastIndexOf(NL, j - 1); k >= 0 && j > 0; k = j > 0 ? buf.lastIndexOf(NL, j - 1) : -1) {
      add(buf.subarray(k + 1, j));
      const start = from + k + 1;
      if (start < end) yield line(start);
      end = start;
      terminated = true;
      parts = [];
      len = 0;
      tooLong = false;
      j = k;
    }
    add(buf.subarray(0, j));
    pos = from;
  }
  if (end > 0) yield line(0);
}

export interface OpenLog {
  fd: number;
  /** Its size when opened: what --tail and a read without -f cover. */
  size: number;
  ino: number;
  /** LOG itself, not a rotated LOG.k. */
  current: boolean;
}

function tryOpen(file: string): number | undefined {
  try {
    return openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError(err, 'open', file);
  }
}

/**
 * The log's files, opened, oldest first: LOG.N … LOG.1, LOG. Opened newest first and checked
 * against a rotation meanwhile (which would shift the names under us): then again.
 */
export function openLogFiles(file: string): OpenLog[] {
  for (let attempt = 0; ; attempt++) {
    const out: OpenLog[] = [];
    for (let k = 0; ; k++) {
      const fd = tryOpen(k === 0 ? file : `${file}.${k}`);
      if (fd === undefined) {
        if (k === 0) continue; // no LOG now (rotation could not create it): the rotated ones still count
        break;
      }
      const st = fstatSync(fd);
      if (out.some((o) => o.ino === st.ino)) {
        closeSync(fd);
        continue;
      }
      out.unshift({ fd, size: st.size, ino: st.ino, current: k === 0 });
    }
    const newest = out.at(-1);
    const now = statSync(file, { throwIfNoEntry: false })?.ino;
    if (attempt >= 3 || (newest?.current === true ? newest.ino === now : now === undefined)) return out;
    for (const o of out) closeSync(o.fd);
  }
}

/**
 * Where the last `n` entries of the files begin (`index` into files, byte offset there): the files
 * newest first, each from its end. With n = 0, after the last whole line of the newest file.
 */
export function tailStart(files: OpenLog[], n: number, io: LogIo = DEFAULT_IO): { index: number; offset: number } {
  if (files.length === 0) return { index: 0, offset: 0 };
  if (n <= 0) {
    const last = files.length - 1;
    const l = linesBackward(files[last]!.fd, files[last]!.size, io).next();
    // an unfinished last line (not a whole entry yet) is left for a follower to read once it is
    const unfinished = !l.done && !l.value.terminated && (l.value.text === undefined || parseLogLine(l.value.text) === undefined);
    return { index: last, offset: unfinished ? l.value.start : files[last]!.size };
  }
  let left = n;
  for (let i = files.length - 1; i >= 0; i--) {
    for (const l of linesBackward(files[i]!.fd, files[i]!.size, io)) {
      if (l.text !== undefined && parseLogLine(l.text) !== undefined && --left === 0) return { index: i, offset: l.start };
    }
  }
  return { index: 0, offset: 0 };
}

/**
 * Follows a growing log file from an offset, block by block. A file rotated away meanwhile
 * (renamed to LOG.1) is read to its end, then the newer rotated ones, then LOG from its start; a
 * truncated one (max-file=1) from its start again.
 */
export class LogReader {
  private src: LineSource | undefined;
  /** Whether src was LOG when last looked at (not yet seen rotated away). */
  private current = true;
  /** Files to read after src, oldest first: rotated ones newer than src, then LOG. */
  private queue: { fd: number; current: boolean }[] = [];
  private startOffset: number;

  constructor(
    private readonly file: string,
    /** Where to start: an offset in LOG, or in a file already open as LOG. */
    from: { offset: number; fd?: number } = { offset: 0 },
    private readonly io: LogIo = DEFAULT_IO,
  ) {
    this.startOffset = from.offset;
    if (from.fd !== undefined) {
      this.src = new LineSource(from.fd, from.offset, Infinity, io);
      this.startOffset = 0;
    }
  }

  /** The entries of the next block written since the last call (possibly none), or undefined when nothing more is there now. */
  read(): LogEntry[] | undefined {
    for (;;) {
      if (this.src === undefined) {
        const next = this.queue.shift();
        const fd = next?.fd ?? tryOpen(this.file);
        if (fd === undefined) return undefined;
        this.src = new LineSource(fd, next ? 0 : this.startOffset, Infinity, this.io);
        this.current = next?.current ?? true;
        this.startOffset = 0;
      }
      const got = this.src.next();
      if (got !== undefined) return got;
      if (this.current) {
        const ours = fstatSync(this.src.fd);
        const now = statSync(this.file, { throwIfNoEntry: false });
        if (now === undefined || now.ino === ours.ino) {
          if (ours.size < this.src.offset) {
            this.src.restart(); // truncated (a log of one file at its max-size): it starts again
            continue;
          }
          const last = this.src.atEnd();
          return last.length > 0 ? last : undefined;
        }
        // Rotated away: ours is LOG.k now and complete once we have read what came before the
        // rename (the loop reads on to its end); then LOG.k-1 … LOG.1, then LOG.
        this.queue = this.newerThan(ours.ino);
        this.current = false;
        continue;
      }
      const last = this.src.atEnd();
      closeSync(this.src.fd);
      this.src = undefined;
      if (last.length > 0) return last;
    }
  }

  /** The blocks written since, until there is nothing more now. */
  *batches(): Generator<LogEntry[]> {
    for (let b = this.read(); b !== undefined; b = this.read()) yield b;
  }

  /** The files newer than the rotated file `ino`, opened now (before another rotation renames them), oldest first. */
  private newerThan(ino: number): { fd: number; current: boolean }[] {
    const rotated: string[] = [];
    for (let k = 1; existsSync(`${this.file}.${k}`); k++) rotated.push(`${this.file}.${k}`);
    const ours = rotated.findIndex((f) => statSync(f, { throwIfNoEntry: false })?.ino === ino);
    // ours dropped already (more rotations than files while we were behind): all that is left is newer
    const newer = (ours < 0 ? rotated : rotated.slice(0, ours)).reverse();
    const out: { fd: number; current: boolean }[] = [];
    for (const f of newer) {
      const fd = tryOpen(f);
      if (fd !== undefined) out.push({ fd, current: false });
    }
    const fd = tryOpen(this.file);
    if (fd !== undefined) out.push({ fd, current: true });
    return out;
  }

  close(): void {
    if (this.src !== undefined) closeSync(this.src.fd);
    for (const q of this.queue) closeSync(q.fd);
    this.src = undefined;
    this.queue = [];
  }
}

export interface FollowOptions extends LogSelection {
  follow: boolean;
  /** Resolves true once the container has ended (and its monitor has written everything), false when more may come. */
  waitForMore: () => Promise<boolean>;
  /** Start reading LOG at this byte offset (`start -a`, `attach`: only this run's output); no rotated files, no --tail. */
  fromOffset?: number;
}

/** A batch's entries in the --since/--until window, and whether the stream ends there. */
type Window = (batch: LogEntry[]) => { entries: LogEntry[]; done: boolean };

/** --since drops entries before it; --until ends the stream at the first entry after it (the log is in time order), as Docker's. */
function windowOf(sel: LogSelection): Window {
  const { sinceMs, untilMs } = sel;
  if (sinceMs === undefined && untilMs === undefined) return (entries) => ({ entries, done: false });
  return (batch) => {
    const entries: LogEntry[] = [];
    for (const e of batch) {
      const ms = logTimeMs(e.time);
      if (untilMs !== undefined && ms > untilMs) return { entries, done: true };
      if (sinceMs === undefined || ms >= sinceMs) entries.push(e);
    }
    return { entries, done: false };
  };
}

/**
 * The window's part of each batch, with a turn of the event loop between blocks (a log of
 * gigabytes must not hold it: timers, signals, other requests). Returns false once past --until.
 */
async function* windowed(batches: Iterable<LogEntry[]>, window: Window): AsyncGenerator<LogEntry[], boolean> {
  for (const batch of batches) {
    const w = window(batch);
    if (w.entries.length > 0) yield w.entries;
    if (w.done) return false;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}

/**
 * The selected entries, then (with follow) new ones as they are written, until the container ends:
 * in batches (the entries of one block read, never more), so a consumer pays per block and can
 * hold back the reading while it writes. Without follow, what was written when it began.
 */
export async function* readLog(file: string, opts: FollowOptions, io: LogIo = DEFAULT_IO): AsyncGenerator<LogEntry[]> {
  const window = windowOf(opts);
  const files = opts.fromOffset === undefined ? openLogFiles(file) : [];
  let reader: LogReader | undefined;
  try {
    if (opts.fromOffset !== undefined) {
      reader = new LogReader(file, { offset: opts.fromOffset }, io);
    } else {
      const start = opts.tail === undefined ? { index: 0, offset: 0 } : tailStart(files, opts.tail, io);
      for (let i = start.index; i < files.length; i++) {
        const f = files[i]!;
        const offset = i === start.index ? start.offset : 0;
        if (f.current && opts.follow) {
          reader = new LogReader(file, { offset, fd: f.fd }, io); // it reads on from there, and closes it
          files.splice(i, 1);
          break;
        }
        if (!(yield* windowed(new LineSource(f.fd, offset, f.size, io).batches(), window))) return;
      }
      if (opts.follow) reader ??= new LogReader(file, { offset: 0 }, io); // no LOG yet: it will come
    }
    if (reader === undefined) return;
    for (let ended = false; ;) {
      if (!(yield* windowed(reader.batches(), window))) return;
      if (ended || !opts.follow) return;
      ended = await opts.waitForMore();
    }
  } finally {
    reader?.close();
    for (const f of files) closeSync(f.fd);
  }
}
