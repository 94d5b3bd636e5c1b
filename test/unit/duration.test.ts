// Go durations, as Docker's --since/--until and the Dockerfile's HEALTHCHECK flags take them.
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/duration.js';

describe('parseGoDuration', () => {
  it('reads every unit, fractions and sequences, in nanoseconds', () => {
    expect(parseGoDuration('1h30m')).toBe(5400e9);
    expect(parseGoDuration('1.5s')).toBe(1.5e9);
    expect(parseGoDuration('500ms')).toBe(500e6);
    expect(parseGoDuration('10us')).toBe(10e3);
    expect(parseGoDuration('10\u00b5s')).toBe(10e3);
    expect(parseGoDuration('7ns')).toBe(7);
    expect(parseGoDuration('2m3s')).toBe(123e9);
  });

  it('refuses what is not one: empty, no unit, an unknown unit, gaps, signs', () => {
    for (const bad of ['', '10', '5d', '1h 30m', 'x1s', '1sx', '-1s', '1.s']) expect([bad, parseGoDuration(bad)]).toEqual([bad, undefined]);
  });
});
