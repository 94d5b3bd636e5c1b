// Reading json-file logs in bounded memory: forward block by block, --tail backwards from the
// end across rotated files, --since/--until, and following a log that is rotated or truncated
// under the reader. Tiny block sizes put every line and character across block boundaries.
import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  DEFAULT_IO,
  type LogEntry,
  type LogIo,
  LineSource,
  LogReader,
  type FollowOptions,
  linesBackward,
  openLogFiles,
  parseLogLine,
  parseTimeBound,
  readLog,
  tailStart,
} from '../../../src/runtime/logs.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'hull-unit-logs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = () => path.join(tmp, `c${seq++}-json.log`);

const time = (s: number) => new Date(Date.UTC(2024, 0, 1) + s * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
const entry = (log: string, i = 0, stream: 'stdout' | 'stderr' = 'stdout'): LogEntry => ({ log, stream, time: time(i) });
const line = (e: LogEntry) => `${JSON.stringify(e)}\n`;
const lines = (es: LogEntry[]) => es.map(line).join('');
/** Entries with multi-byte characters (2, 3 and 4 bytes in UTF-8), escapes and both streams. */
const sample = (n: number, from = 0): LogEntry[] =>
  Array.from({ length: n }, (_, k) => entry(`${from + k} héllo ✓ 日本 🎉 "q" \\ \t${'x'.repeat(k % 7)}\n`, from + k, k % 3 === 0 ? 'stderr' : 'stdout'));

async function collect(file: string, opts: Partial<FollowOptions> = {}, io: LogIo = DEFAULT_IO): Promise<{ entries: LogEntry[]; batches: LogEntry[][] }> {
  const batches: LogEntry[][] = [];
  for await (const b of readLog(file, { follow: false, waitForMore: async () => true, ...opts }, io)) batches.push(b);
  return { entries: batches.flat(), batches };
}

/** As hull-monitor rotates: LOG.(n-2) → LOG.(n-1) … LOG → LOG.1, then a new LOG. */
function rotate(file: string, maxFiles: number): void {
  for (let i = maxFiles - 1; i >= 1; i--) {
    try {
      renameSync(i === 1 ? file : `${file}.${i - 1}`, `${file}.${i}`);
    } catch {
      // a missing older file is no error
    }
  }
  writeFileSync(file, '');
}

describe('json-file lines and times', () => {
  it('parses json-file lines and skips torn ones', () => {
    const e = { log: 'a\n', stream: 'stderr', time: '2024-01-01T00:00:00.000000001Z' };
    expect(parseLogLine(JSON.stringify(e))).toEqual(e);
    expect(parseLogLine('{"log":"a\\n","str')).toBeUndefined();
    expect(parseLogLine('')).toBeUndefined();
  });

  it("reads the monitor's plain lines without JSON.parse exactly as JSON.parse does, and leaves the rest to it", () => {
    const reference = (l: string) => {
      try {
        const e = JSON.parse(l) as Record<string, unknown>;
        return typeof e.log === 'string' && typeof e.time === 'string'
          ? { log: e.log, stream: e.stream === 'stderr' ? 'stderr' : 'stdout', time: e.time }
          : undefined;
      } catch {
        return undefined;
      }
    };
    const t = '2024-01-01T00:00:00.000000001Z';
    const logs = [
      'plain\n',
      'no newline',
      '',
      'a "quote"\n',
      'back\\slash\n',
      'tab\t\n',
      '\u001b[31mred\n',
      'x\\n',
      'x\n\n',
      'é ✓ 🎉\n',
      '","stream":"stderr',
      '\\',
    ];
    const candidates = [
      ...logs.flatMap((log) => ['stdout', 'stderr', 'other'].map((stream) => `{"log":${JSON.stringify(log)},"stream":"${stream}","time":"${t}"}`)),
      `{"stream":"stdout","log":"reordered\\n","time":"${t}"}`,
      `{"log":"extra\\n","stream":"stdout","time":"${t}","attrs":{}}`,
      `{"log":"no time\\n","stream":"stdout"}`,
      `{"log":"bad time\\n","stream":"stdout","time":1}`,
      `{"log":"torn\\n","stream":"stdout","time":"${t}`,
      `{"log":"torn\\n","stream":"stdout","time":"${t}"`,
      `{"log":"quote " inside\\n","stream":"stdout","time":"${t}"}`,
      `{"log":"x","stream":"stdout","time":"a"b"}`,
      `{"log":"x","stream":"stdout","time":"a\\"b"}`,
      `{"log":"x\\u0041\\n","stream":"stdout","time":"${t}"}`,
    ];
    for (const l of candidates) expect([l, parseLogLine(l)]).toEqual([l, reference(l)]);
    expect(parseLogLine(`{"log":"plain\\n","stream":"stderr","time":"${t}"}`)).toEqual({ log: 'plain\n', stream: 'stderr', time: t });
  });

  it("reads Docker's --since forms", () => {
    const now = Date.parse('2024-01-01T01:00:00Z');
    expect(parseTimeBound('10m', now)).toBe(now - 600_000);
    expect(parseTimeBound('1h30m', now)).toBe(now - 5_400_000);
    expect(parseTimeBound('1704067200', now)).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseTimeBound('2024-01-01', now)).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(() => parseTimeBound('yesterday', now)).toThrow(UsageError);
  });
});

describe('reading forward in blocks', () => {
  const es = sample(40);
  const file = fresh();
  writeFileSync(file, lines(es));

  it('gives every entry whole whatever the block size (lines and UTF-8 characters across blocks)', () => {
    const fd = openSync(file, 'r');
    try {
      for (const block of [1, 2, 3, 7, 13, 64, 100, 4096]) {
        const src = new LineSource(fd, 0, Infinity, { block, maxLine: 4096 });
        const got: LogEntry[] = [];
        for (let b = src.next(); b !== undefined; b = src.next()) got.push(...b);
        expect(got).toEqual(es);
      }
    } finally {
      closeSync(fd);
    }
  });

  it("reads no further than a snapshot's end, and skips a line longer than maxLine without gathering it", async () => {
    const f = fresh();
    const long = entry('y'.repeat(500), 1);
    writeFileSync(f, lines([es[0]!, long, es[1]!, long]) + line(es[2]!));
    for (const block of [5, 64, 200]) {
      expect((await collect(f, {}, { block, maxLine: 200 })).entries).toEqual([es[0], es[1], es[2]]);
      expect((await collect(f, { tail: 2 }, { block, maxLine: 200 })).entries).toEqual([es[1], es[2]]);
    }
    const fd = openSync(file, 'r');
    const src = new LineSource(fd, 0, Buffer.byteLength(line(es[0]!)) + 3, { block: 7, maxLine: 4096 });
    const got: LogEntry[] = [];
    for (let b = src.next(); b !== undefined; b = src.next()) got.push(...b);
    closeSync(fd);
    expect(got).toEqual([es[0]]);
  });

  it('passes over an enormous line (5 MiB, no entry the monitor writes) with the default sizes, forward and backward', async () => {
    const f = fresh();
    const es = sample(4);
    writeFileSync(f, `${lines(es.slice(0, 2))}{"log":"${'z'.repeat(5 << 20)}\\n","stream":"stdout","time":"${time(9)}"}\n${lines(es.slice(2))}`);
    expect((await collect(f)).entries).toEqual(es);
    expect((await collect(f, { tail: 3 })).entries).toEqual(es.slice(1));
    expect((await collect(f, { tail: 2 })).entries).toEqual(es.slice(2));
  });

  it("hands on one block's entries at a time", async () => {
    const { entries, batches } = await collect(file, {}, { block: 256, maxLine: 4096 });
    expect(entries).toEqual(es);
    expect(batches.length).toBeGreaterThan(5);
    const shortest = Math.min(...es.map((e) => Buffer.byteLength(line(e))));
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(Math.ceil(256 / shortest) + 1);
  });
});

describe('reading backwards (--tail)', () => {
  it('finds every line from the end, with where it starts, whatever the block size', () => {
    const es = sample(25);
    const file = fresh();
    writeFileSync(file, lines(es));
    const starts = es.map((_, i) => Buffer.byteLength(lines(es.slice(0, i))));
    const fd = openSync(file, 'r');
    try {
      for (const block of [1, 2, 3, 7, 13, 64, 100, 4096]) {
        const got = [...linesBackward(fd, Buffer.byteLength(lines(es)), { block, maxLine: 4096 })];
        expect(got.map((l) => parseLogLine(l.text ?? ''))).toEqual([...es].reverse());
        expect(got.map((l) => l.start)).toEqual([...starts].reverse());
        expect(got.every((l) => l.terminated)).toBe(true);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('handles an empty file, a missing one, a file without a final newline and a torn last line', async () => {
    const empty = fresh();
    writeFileSync(empty, '');
    expect((await collect(empty, { tail: 3 })).entries).toEqual([]);
    expect((await collect(empty)).entries).toEqual([]);
    expect((await collect(fresh(), { tail: 3 })).entries).toEqual([]);

    const es = sample(5);
    const noNewline = fresh();
    writeFileSync(noNewline, lines(es).slice(0, -1));
    const fd = openSync(noNewline, 'r');
    const [last] = linesBackward(fd, Buffer.byteLength(lines(es)) - 1, { block: 8, maxLine: 4096 });
    closeSync(fd);
    expect(last).toMatchObject({ terminated: false });
    for (const block of [3, 64, 4096]) {
      const io = { block, maxLine: 4096 };
      expect((await collect(noNewline, {}, io)).entries).toEqual(es);
      expect((await collect(noNewline, { tail: 2 }, io)).entries).toEqual(es.slice(-2));
    }

    // The monitor mid-write (or killed): the torn line is no entry, and --tail counts past it.
    const torn = fresh();
    writeFileSync(torn, `${lines(es)}{"log":"half`);
    for (const block of [3, 64, 4096]) {
      const io = { block, maxLine: 4096 };
      expect((await collect(torn, {}, io)).entries).toEqual(es);
      expect((await collect(torn, { tail: 2 }, io)).entries).toEqual(es.slice(-2));
      expect((await collect(torn, { tail: 0 }, io)).entries).toEqual([]);
    }
  });

  it('takes the last N entries across rotated files (LOG, then LOG.1, LOG.2), newest file first', async () => {
    const file = fresh();
    const es = sample(30);
    writeFileSync(`${file}.2`, lines(es.slice(0, 10)));
    writeFileSync(`${file}.1`, lines(es.slice(10, 12)));
    writeFileSync(file, lines(es.slice(12)));
    for (const block of [4, 50, 4096]) {
      const io = { block, maxLine: 4096 };
      for (const n of [0, 1, 2, 17, 18, 19, 20, 21, 29, 30, 31, 1000]) {
        expect((await collect(file, { tail: n }, io)).entries.map((e) => e.log)).toEqual(n === 0 ? [] : es.slice(-n).map((e) => e.log));
      }
      expect((await collect(file, {}, io)).entries).toEqual(es);
    }
    const files = openLogFiles(file);
    try {
      expect(files.map((f) => f.current)).toEqual([false, false, true]);
      expect(tailStart(files, 19)).toEqual({ index: 1, offset: Buffer.byteLength(line(es[10]!)) });
      expect(tailStart(files, 20)).toEqual({ index: 1, offset: 0 });
      expect(tailStart(files, 21)).toEqual({ index: 0, offset: Buffer.byteLength(lines(es.slice(0, 9))) });
    } finally {
      for (const f of files) closeSync(f.fd);
    }
  });

  it('counts --tail before --since/--until filter, as Docker does; --until ends the stream', async () => {
    const file = fresh();
    const es = sample(20);
    writeFileSync(`${file}.1`, lines(es.slice(0, 8)));
    writeFileSync(file, lines(es.slice(8)));
    const ms = (i: number) => Date.parse(time(i));
    const logs = async (opts: Partial<FollowOptions>) => (await collect(file, opts, { block: 16, maxLine: 4096 })).entries.map((e) => e.time);
    expect(await logs({ tail: 5, sinceMs: ms(17) })).toEqual([time(17), time(18), time(19)]);
    expect(await logs({ tail: 5, sinceMs: ms(10) })).toEqual(es.slice(-5).map((e) => e.time));
    expect(await logs({ tail: 5, untilMs: ms(16) })).toEqual([time(15), time(16)]);
    expect(await logs({ tail: 5, untilMs: ms(3) })).toEqual([]);
    expect(await logs({ tail: 15, sinceMs: ms(6), untilMs: ms(9) })).toEqual([time(6), time(7), time(8), time(9)]);
    expect(await logs({ sinceMs: ms(18) })).toEqual([time(18), time(19)]);
  });
});

describe('following', () => {
  const drain = (r: LogReader): LogEntry[] => {
    const out: LogEntry[] = [];
    for (let b = r.read(); b !== undefined; b = r.read()) out.push(...b);
    return out;
  };

  it('keeps an unfinished line for later and reads on as the file grows', () => {
    const file = fresh();
    const [a, b] = sample(2);
    writeFileSync(file, `${line(a!)}${line(b!).slice(0, 9)}`);
    const reader = new LogReader(file, { offset: 0 }, { block: 5, maxLine: 4096 });
    try {
      expect(drain(reader)).toEqual([a]);
      expect(drain(reader)).toEqual([]);
      appendFileSync(file, line(b!).slice(9));
      expect(drain(reader)).toEqual([b]);
    } finally {
      reader.close();
    }
  });

  it('reads a file rotated away to its end (what came before the rename), then the newer ones, then LOG', () => {
    const file = fresh();
    const es = sample(12);
    writeFileSync(file, lines(es.slice(0, 2)));
    const reader = new LogReader(file, { offset: 0 }, { block: 7, maxLine: 4096 });
    try {
      expect(drain(reader)).toEqual(es.slice(0, 2));
      appendFileSync(file, line(es[2]!)); // written after our last read, then rotated
      rotate(file, 3);
      appendFileSync(file, line(es[3]!));
      expect(drain(reader)).toEqual(es.slice(2, 4));
      // behind by two rotations: LOG.2 (ours) to its end, LOG.1, LOG
      appendFileSync(file, line(es[4]!));
      rotate(file, 3);
      appendFileSync(file, line(es[5]!));
      rotate(file, 3);
      appendFileSync(file, line(es[6]!));
      expect(drain(reader)).toEqual(es.slice(4, 7));
      // behind by more rotations than files: ours is dropped (still read through the open fd), then all that is left
      appendFileSync(file, line(es[7]!));
      rotate(file, 3);
      appendFileSync(file, line(es[8]!));
      rotate(file, 3);
      appendFileSync(file, line(es[9]!));
      rotate(file, 3);
      appendFileSync(file, line(es[10]!));
      expect(drain(reader)).toEqual(es.slice(7, 11));
    } finally {
      reader.close();
    }
  });

  it("starts again at a truncated file's start (one file at its max-size)", () => {
    const file = fresh();
    const es = sample(4);
    writeFileSync(file, lines(es.slice(0, 3)));
    const reader = new LogReader(file);
    try {
      expect(drain(reader)).toEqual(es.slice(0, 3));
      truncateSync(file, 0);
      appendFileSync(file, line(es[3]!));
      expect(drain(reader)).toEqual([es[3]]);
    } finally {
      reader.close();
    }
  });

  it('follows from the tail across rotations until the container ends', async () => {
    const file = fresh();
    const es = sample(10);
    writeFileSync(`${file}.1`, lines(es.slice(0, 3)));
    writeFileSync(file, `${lines(es.slice(3, 5))}${line(es[5]!).slice(0, 4)}`);
    let rounds = 0;
    const seen: LogEntry[] = [];
    for await (const b of readLog(
      file,
      {
        follow: true,
        tail: 3,
        waitForMore: async () => {
          rounds++;
          if (rounds === 1) {
            appendFileSync(file, line(es[5]!).slice(4));
            rotate(file, 3);
            appendFileSync(file, lines(es.slice(6, 8)));
          }
          if (rounds === 2) appendFileSync(file, lines(es.slice(8)));
          return rounds >= 2;
        },
      },
      { block: 9, maxLine: 4096 },
    ))
      seen.push(...b);
    expect(seen).toEqual(es.slice(2));
  });

  it('from an offset (attach): only what comes after it', async () => {
    const file = fresh();
    const es = sample(3);
    writeFileSync(file, lines(es.slice(0, 2)));
    const from = Buffer.byteLength(lines(es.slice(0, 2)));
    const seen: LogEntry[] = [];
    let rounds = 0;
    for await (const b of readLog(file, { follow: true, fromOffset: from, waitForMore: async () => (appendFileSync(file, line(es[2]!)), ++rounds >= 1) }))
      seen.push(...b);
    expect(seen).toEqual([es[2]]);
  });
});
