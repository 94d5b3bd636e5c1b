import { describe, expect, it } from 'vitest';
import { parsePruneFilters, prunable } from '../../../src/present/prune-filters.js';

describe('prune --filter (until, label, label!)', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');

  it('parses until as a timestamp, an RFC 3339 time or a duration before now', () => {
    expect(parsePruneFilters(['until=1700000000'], ['until']).untilMs).toBe(1_700_000_000_000);
    expect(parsePruneFilters(['until=2026-01-01T00:00:00Z'], ['until']).untilMs).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parsePruneFilters(['until=1h'], ['until'], now).untilMs).toBe(now - 3_600_000);
    expect(() => parsePruneFilters(['until=soon'], ['until'])).toThrow('failed to parse value as time or duration: "soon"');
  });

  it("refuses Docker's way: unknown names, no '='", () => {
    expect(() => parsePruneFilters(['dangling=true'], ['until', 'label'])).toThrow("invalid filter 'dangling'");
    expect(() => parsePruneFilters(['label'], ['label'])).toThrow('bad format of filter (expected name=value)');
  });

  it('label= must all match; label!= excludes when all match; until keeps what is newer', () => {
    const f = parsePruneFilters(['label=a', 'label=b=2', 'label!=c=3'], ['label', 'label!']);
    expect(prunable(f, undefined, { a: 'x', b: '2' })).toBe(true);
    expect(prunable(f, undefined, { a: 'x', b: '1' })).toBe(false);
    expect(prunable(f, undefined, { b: '2' })).toBe(false);
    expect(prunable(f, undefined, { a: '', b: '2', c: '3' })).toBe(false);
    expect(prunable(f, undefined, { a: '', b: '2', c: '4' })).toBe(true);
    const u = parsePruneFilters(['until=2026-01-01T00:00:00Z'], ['until']);
    expect(prunable(u, '2025-12-31T23:59:59Z', {})).toBe(true);
    expect(prunable(u, '2026-01-01T00:00:01Z', {})).toBe(false);
    expect(prunable(u, undefined, {})).toBe(false);
  });
});
