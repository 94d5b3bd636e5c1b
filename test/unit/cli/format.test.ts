import { describe, expect, it } from 'vitest';
import { table } from '../../../src/cli/format.js';
import { humanSize, shortId, timeAgo } from '../../../src/present/human.js';

describe("CLI formatting (Docker's shapes)", () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('says how long ago, as Docker does', () => {
    expect(timeAgo('2026-11-22T11:59:30Z', now)).toBe('30 seconds ago');
    expect(timeAgo('2026-11-22T11:59:00Z', now)).toBe('About a minute ago');
    expect(timeAgo('2026-11-22T09:00:00Z', now)).toBe('3 hours ago');
    expect(timeAgo('2026-11-12T12:00:00Z', now)).toBe('10 days ago');
    expect(timeAgo('2026-07-22T12:00:00Z', now)).toBe('4 months ago');
    expect(timeAgo('1970-01-01T00:00:00Z', now)).toBe('57 years ago');
    expect(timeAgo(undefined, now)).toBe('N/A');
  });
  it('prints sizes in decimal units', () => {
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(2_130_000)).toBe('2.13MB');
    expect(humanSize(1_000_000_000)).toBe('1GB');
  });
  it('aligns tables with three spaces after the widest cell', () => {
    expect(table(['A', 'BB'], [['xxxx', 'y']])).toBe('A      BB\nxxxx   y\n');
  });
  it('shortens ids to 12 hex characters', () => expect(shortId('sha256:' + 'ab'.repeat(32))).toBe('abababababab'));
});
