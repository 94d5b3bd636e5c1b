import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { matchesEvent, parseEventFilters, parseEventTime } from '../../../src/events/filter.js';
import { type EventMessage, MAX_LINE, appendLine, emitEvent, eventLine, eventMessage, eventsFile } from '../../../src/events/log.js';
import { readEvents } from '../../../src/events/follow.js';
import { eventText } from '../../../src/cli/commands/events.js';
import { UsageError } from '../../../src/errors.js';

const ev = (type: EventMessage['Type'], action: string, id: string, attributes: Record<string, string> = {}): EventMessage =>
  eventMessage({ type, action, id, attributes }, 1_700_000_000_123_456_789n);

describe('event messages', () => {
  it("have Docker's shape: legacy fields for containers and images only, time and timeNano", () => {
    const c = ev('container', 'start', 'abc', { image: 'busybox', name: 'x' });
    expect(c).toEqual({
      status: 'start',
      id: 'abc',
      from: 'busybox',
      Type: 'container',
      Action: 'start',
      Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'x' } },
      scope: 'local',
      time: 1_700_000_000,
      timeNano: 1_700_000_000_123_456_789n,
    });
    expect(ev('image', 'tag', 'sha256:1', { name: 'a:1' })).toMatchObject({ status: 'tag', id: 'sha256:1' });
    const n = ev('network', 'create', 'n1', { name: 'net', type: 'bridge' });
    expect('status' in n || 'id' in n || 'from' in n).toBe(false);
  });

  it('are written with the exact timeNano, as the last key', () => {
    expect(eventLine(ev('volume', 'create', 'v'))).toBe(
      '{"Type":"volume","Action":"create","Actor":{"ID":"v","Attributes":{}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}\n',
    );
  });

  it('are one line under PIPE_BUF: long values cut, then labels dropped, the attributes Docker sets kept', () => {
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label${i}`, 'v'.repeat(400)]));
    const line = eventLine(ev('container', 'die', 'abc', { ...labels, image: 'busybox', name: 'x', exitCode: '1' }));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE);
    expect(line.endsWith('}\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    const back = JSON.parse(line) as EventMessage;
    expect(back.Actor.Attributes).toMatchObject({ image: 'busybox', name: 'x', exitCode: '1' });
    expect(Object.keys(back.Actor.Attributes).length).toBeLessThan(43);
  });

  it("prints Docker's default text line, attributes sorted", () => {
    expect(eventText(ev('container', 'start', 'abc', { name: 'x', image: 'busybox', app: 'y' }))).toBe(
      '2023-11-14T22:13:20.123456789Z container start abc (app=y, image=busybox, name=x)\n',
    );
    expect(eventText(ev('network', 'create', 'n1'))).toBe('2023-11-14T22:13:20.123456789Z network create n1\n');
  });
});

describe('event filters', () => {
  const c = ev('container', 'start', 'abcdef', { image: 'busybox:1', name: 'web', app: 'x' });
  const execStart = ev('container', 'exec_start: sh -c true', 'abcdef', { image: 'busybox', name: 'web' });
  const img = ev('image', 'tag', 'sha256:9', { name: 'me/box:2' });
  const net = ev('network', 'connect', 'n1', { name: 'front', type: 'bridge', container: 'abcdef' });
  const vol = ev('volume', 'mount', 'data', { driver: 'local', container: 'abcdef' });
  const match = (filters: string[], e: EventMessage) => matchesEvent(parseEventFilters(filters), e);

  it('OR the values of one key and AND different keys', () => {
    expect(match(['type=container', 'type=network'], c)).toBe(true);
    expect(match(['type=container', 'type=network'], img)).toBe(false);
    expect(match(['type=container', 'event=die'], c)).toBe(false);
    expect(match(['type=container', 'event=die', 'event=start'], c)).toBe(true);
    expect(match(['action=start'], c)).toBe(true);
  });

  it('match containers, networks and volumes by id or name prefix, and only objects of that type', () => {
    expect(match(['container=abc'], c)).toBe(true);
    expect(match(['container=we'], c)).toBe(true);
    expect(match(['container=zzz'], c)).toBe(false);
    expect(match(['container=abc'], net)).toBe(false);
    expect(match(['network=front'], net)).toBe(true);
    expect(match(['network=n1'], net)).toBe(true);
    expect(match(['volume=data'], vol)).toBe(true);
    expect(match(['volume=data'], c)).toBe(false);
  });

  it("match images by id, name or name without the tag, a container's by its image", () => {
    expect(match(['image=busybox'], c)).toBe(true);
    expect(match(['image=busybox:1'], c)).toBe(true);
    expect(match(['image=me/box'], img)).toBe(true);
    expect(match(['image=sha256:9'], img)).toBe(true);
    expect(match(['image=other'], img)).toBe(false);
  });

  it('match labels by key or key=value, every label given', () => {
    expect(match(['label=app'], c)).toBe(true);
    expect(match(['label=app=x'], c)).toBe(true);
    expect(match(['label=app=y'], c)).toBe(false);
    expect(match(['label=app=x', 'label=tier'], c)).toBe(false);
  });

  it('match exec_create/exec_start without their command, as Docker does', () => {
    expect(match(['event=exec_start'], execStart)).toBe(true);
    expect(match(['event=exec_start: sh -c true'], execStart)).toBe(true);
    expect(match(['event=exec'], execStart)).toBe(false);
  });

  it("refuse Docker's bad filters", () => {
    expect(() => parseEventFilters(['nope=1'])).toThrow("invalid filter 'nope'");
    expect(() => parseEventFilters(['type'])).toThrow(UsageError);
    expect(() => parseEventFilters(['type=plugin'])).toThrow(/unknown event type/);
  });
});

describe('event times (--since, --until)', () => {
  const now = new Date('2026-12-06T15:00:00Z');
  it("read Docker's forms", () => {
    expect(parseEventTime('1700000000', now)).toBe(1_700_000_000_000_000_000n);
    expect(parseEventTime('1700000000.5', now)).toBe(1_700_000_000_500_000_000n);
    expect(parseEventTime('1700000000.000000001', now)).toBe(1_700_000_000_000_000_001n);
    expect(parseEventTime('10m', now)).toBe(BigInt(now.getTime() - 600_000) * 1_000_000n);
    expect(parseEventTime('1h30m', now)).toBe(BigInt(now.getTime() - 5_400_000) * 1_000_000n);
    expect(parseEventTime('0s', now)).toBe(BigInt(now.getTime()) * 1_000_000n);
    expect(parseEventTime('2026-12-06T14:00:00Z', now)).toBe(BigInt(Date.parse('2026-12-06T14:00:00Z')) * 1_000_000n);
    expect(parseEventTime('2026-12-06T14:00:00.25+01:00', now)).toBe(BigInt(Date.parse('2026-12-06T13:00:00Z')) * 1_000_000n + 250_000_000n);
    expect(parseEventTime('2026-12-06T14:00Z', now)).toBe(BigInt(Date.parse('2026-12-06T14:00:00Z')) * 1_000_000n);
  });
  it('refuse anything else', () => {
    for (const bad of ['yesterday', '', '10x', '2026-13-45T00:00:00Z', '-5']) expect(() => parseEventTime(bad, now), bad).toThrow(UsageError);
  });
});

describe('the log', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('appends whole lines, creating its directory; rotates past the limit; a reader with --since/--until reads both files in order', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-events-'));
    const previous = process.env.HULL_EVENTS_MAX_BYTES;
    process.env.HULL_EVENTS_MAX_BYTES = '1000';
    try {
      for (let i = 0; i < 20; i++) expect(emitEvent(dir, { type: 'volume', action: 'create', id: `v${i}`, attributes: { driver: 'local' } })).toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env.HULL_EVENTS_MAX_BYTES;
      else process.env.HULL_EVENTS_MAX_BYTES = previous;
    }
    expect(readdirSync(path.dirname(eventsFile(dir))).sort()).toEqual(['events.log', 'events.log.1', 'rotate.lock']);
    const current = readFileSync(eventsFile(dir), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const seen: string[] = [];
    for await (const e of readEvents(dir, { since: 0n, until: BigInt(Date.now() + 1000) * 1_000_000n })) seen.push(e.Actor.ID);
    // what rotated twice is gone; the rest, in order, ending with the last written
    expect(seen.at(-1)).toBe('v19');
    expect(seen.length).toBeGreaterThan(current.length);
    expect(seen).toEqual(seen.slice().sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
  });

  it('a follower that slept through two rotations still reads the file between them', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-events-'));
    const previous = process.env.HULL_EVENTS_MAX_BYTES;
    process.env.HULL_EVENTS_MAX_BYTES = '1000';
    const emit = (i: number) => emitEvent(dir!, { type: 'volume', action: 'create', id: `v${i}` });
    try {
      emit(0);
      const reader = readEvents(dir, { since: 0n, until: BigInt(Date.now() + 1500) * 1_000_000n });
      const first = await reader.next();
      if (first.done) throw new Error('no first event');
      const seen = [first.value.Actor.ID];
      for (let i = 1; i <= 24; i++) emit(i); // ~100 bytes a line: two rotations while the reader waits at its yield
      for await (const e of reader) seen.push(e.Actor.ID);
      const files = ['events.log.1', 'events.log'].map((f) => readFileSync(path.join(dir!, 'events', f), 'utf8'));
      const kept = files.flatMap((t) => t.split('\n').filter((l) => l !== '')).map((l) => (JSON.parse(l) as EventMessage).Actor.ID);
      expect(kept.length).toBeGreaterThan(5);
      for (const id of kept) expect(seen).toContain(id);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `v${i}`).filter((id) => seen.includes(id)));
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      if (previous === undefined) delete process.env.HULL_EVENTS_MAX_BYTES;
      else process.env.HULL_EVENTS_MAX_BYTES = previous;
    }
  });

  it('skips a line cut by a crash, and a failed append is a warning, not an error', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-events-'));
    appendLine(dir, '{"Type":"volume","Act');
    appendLine(dir, '\n');
    emitEvent(dir, { type: 'volume', action: 'create', id: 'ok' });
    const seen: string[] = [];
    for await (const e of readEvents(dir, { since: 0n, until: BigInt(Date.now() + 1000) * 1_000_000n })) seen.push(e.Actor.ID);
    expect(seen).toEqual(['ok']);
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, '');
    expect(emitEvent(notADir, { type: 'volume', action: 'create', id: 'x' })).toMatch(/could not log the volume create event/);
  });
});
