import { describe, expect, it } from 'vitest';
import { parseFilterFlags, parsePruneFilters as parseArgs, prunable } from '../../../src/filters/index.js';
import type { PruneVerb } from '../../../src/filters/prune.js';

const parsePruneFilters = (flags: string[], verb: PruneVerb, now?: number) => parseArgs(parseFilterFlags(flags), verb, now);

describe('prune --filter (until, label, label!, dangling)', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');

  it('parses until as a timestamp, an RFC 3339 time or a duration before now', () => {
    expect(parsePruneFilters(['until=1700000000'], 'container').untilMs).toBe(1_700_000_000_000);
    expect(parsePruneFilters(['until=2026-01-01T00:00:00Z'], 'network').untilMs).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parsePruneFilters(['until=1h'], 'image', now).untilMs).toBe(now - 3_600_000);
    expect(() => parsePruneFilters(['until=soon'], 'container')).toThrow('failed to parse value as time or duration: "soon"');
  });

  it("refuses Docker's way: unknown names, no '='", () => {
    expect(() => parsePruneFilters(['dangling=true'], 'container')).toThrow("Invalid filter 'dangling'");
    expect(() => parsePruneFilters(['until=1h'], 'volume')).toThrow("Invalid filter 'until'");
    expect(() => parsePruneFilters(['label'], 'volume')).toThrow('bad format of filter (expected name=value)');
    expect(() => parsePruneFilters(['until=1h', 'until=2h'], 'network')).toThrow('more than one until filter specified');
    expect(() => parsePruneFilters(['dangling=maybe'], 'image')).toThrow("Invalid filter 'dangling=[maybe]'");
    expect(parsePruneFilters(['dangling=false'], 'image').dangling).toBe(false);
    expect(parsePruneFilters(['dangling=0', 'dangling=1'], 'image').dangling).toBe(true);
  });

  it('label= must all match; label!= excludes when all match; until keeps what is newer', () => {
    const f = parsePruneFilters(['label=a', 'label=b=2', 'label!=c=3'], 'volume');
    expect(prunable(f, undefined, { a: 'x', b: '2' })).toBe(true);
    expect(prunable(f, undefined, { a: 'x', b: '1' })).toBe(false);
    expect(prunable(f, undefined, { b: '2' })).toBe(false);
    expect(prunable(f, undefined, { a: '', b: '2', c: '3' })).toBe(false);
    expect(prunable(f, undefined, { a: '', b: '2', c: '4' })).toBe(true);
    const u = parsePruneFilters(['until=2026-01-01T00:00:00Z'], 'network');
    expect(prunable(u, '2025-12-31T23:59:59Z', {})).toBe(true);
    expect(prunable(u, '2026-01-01T00:00:01Z', {})).toBe(false);
    expect(prunable(u, undefined, {})).toBe(false);
  });
});
