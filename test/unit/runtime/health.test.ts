// Health checks' rules (src/runtime/health.ts), as Docker 20.10's daemon/health.go has them, and
// the health flags (src/options/health.ts) with Docker's CLI checks and messages.
import { describe, expect, it } from 'vitest';
import {
  type HealthResult,
  type HealthState,
  applyProbeResult,
  healthStatusOf,
  healthText,
  mergeHealthcheck,
  probeOf,
  probeOutput,
  scheduleOf,
  startingHealth,
  validateHealthcheck,
} from '../../../src/runtime/health.js';
import { parseHealthFlags } from '../../../src/options/health.js';
import { formatGoDuration, parseGoDurationFlag } from '../../../src/duration.js';
import { UsageError } from '../../../src/errors.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number, exitCode: number): HealthResult => ({
  Start: new Date(T0 + ms).toISOString(),
  End: new Date(T0 + ms + 5).toISOString(),
  ExitCode: exitCode,
  Output: '',
});

/** Feeds results (at the given ms after the start, with exit codes) through the rules from `starting`. */
function run(config: Parameters<typeof scheduleOf>[0], results: [number, number][]): HealthState[] {
  const schedule = scheduleOf(config);
  let state = startingHealth(undefined, 'tok');
  return results.map(([ms, code]) => (state = applyProbeResult(state, at(ms, code), schedule, T0)));
}

describe('health status rules', () => {
  it('starting → healthy on the first success; retries consecutive failures → unhealthy; a success → healthy again', () => {
    const states = run({ Retries: 2 }, [
      [100, 0],
      [200, 1],
      [300, 1],
      [400, 1],
      [500, 0],
    ]);
    expect(states.map((s) => [s.Status, s.FailingStreak])).toEqual([
      ['healthy', 0],
      ['healthy', 1],
      ['unhealthy', 2],
      ['unhealthy', 3],
      ['healthy', 0],
    ]);
  });

  it('fails from starting straight to unhealthy after the default 3 retries when there is no start period', () => {
    const states = run({}, [
      [0, 1],
      [1, 2],
      [2, -1],
    ]);
    expect(states.map((s) => s.Status)).toEqual(['starting', 'starting', 'unhealthy']);
    expect(states[2]!.FailingStreak).toBe(3);
  });

  it('does not count failures within the start period, but a success there makes it healthy', () => {
    const config = { StartPeriod: 1e9, Retries: 1 };
    expect(run(config, [[500, 1]]).map((s) => [s.Status, s.FailingStreak])).toEqual([['starting', 0]]);
    expect(run(config, [[999, 1]])[0]!.Status).toBe('starting');
    expect(run(config, [[1000, 1]])[0]!.Status).toBe('unhealthy');
    expect(run(config, [[500, 0]])[0]!.Status).toBe('healthy');
    // Once healthy, the start period no longer shields a failure.
    expect(
      run(config, [
        [100, 0],
        [200, 1],
      ]).map((s) => s.Status),
    ).toEqual(['healthy', 'unhealthy']);
  });

  it('keeps the last five results', () => {
    const states = run(
      {},
      Array.from({ length: 7 }, (_, i) => [i * 10, 0] as [number, number]),
    );
    expect(states.map((s) => s.Log.length)).toEqual([1, 2, 3, 4, 5, 5, 5]);
    expect(states[6]!.Log[0]!.Start).toBe(new Date(T0 + 20).toISOString());
  });

  it('a (re)start goes back to starting with no streak, keeping the results', () => {
    const unhealthy = run({ Retries: 1 }, [[0, 1]])[0]!;
    expect(startingHealth(unhealthy, 'new')).toEqual({ Status: 'starting', FailingStreak: 0, Log: unhealthy.Log, checker: 'new' });
  });

  it('defaults: interval 30s, timeout 30s, retries 3, no start period; 0 or negative retries mean 3', () => {
    expect(scheduleOf({})).toEqual({ intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3, timeoutNs: 30e9 });
    expect(scheduleOf({ Interval: 2e8, Timeout: 1e9, StartPeriod: 5e9, Retries: 0 })).toEqual({
      intervalMs: 200,
      timeoutMs: 1000,
      startPeriodMs: 5000,
      retries: 3,
      timeoutNs: 1e9,
    });
  });

  it('truncates output at 4096 bytes with "..."', () => {
    expect(probeOutput(Buffer.from('ok\n'), false)).toBe('ok\n');
    expect(probeOutput(Buffer.alloc(4096, 'a'), false)).toBe('a'.repeat(4096));
    expect(probeOutput(Buffer.alloc(4096, 'a'), true)).toBe(`${'a'.repeat(4096)}...`);
    expect(probeOutput(Buffer.alloc(5000, 'b'), false)).toBe(`${'b'.repeat(4096)}...`);
  });

  it('healthStatusOf: the state written, none without one; ps text as Docker', () => {
    expect(healthStatusOf({ state: {} })).toBe('none');
    expect(healthStatusOf({ state: { health: { Status: 'unhealthy' } } })).toBe('unhealthy');
    expect(healthText({ Status: 'starting' })).toBe('health: starting');
    expect(healthText({ Status: 'healthy' })).toBe('healthy');
  });
});

describe('health configs', () => {
  it('probes: CMD exec form, CMD-SHELL through /bin/sh -c, NONE / empty / unknown none', () => {
    expect(probeOf({ Test: ['CMD', '/bin/check', '-v'] })).toEqual({ args: ['/bin/check', '-v'] });
    expect(probeOf({ Test: ['CMD-SHELL', 'curl -f localhost || exit 1'] })).toEqual({ args: ['/bin/sh', '-c', 'curl -f localhost || exit 1'] });
    expect(probeOf({ Test: ['CMD-SHELL', 'x'] }, ['/bin/bash', '-ec'])).toEqual({ args: ['/bin/bash', '-ec', 'x'] });
    expect(probeOf({ Test: ['CMD', 'x'] }, ['/bin/bash', '-ec'])).toEqual({ args: ['x'] });
    for (const test of [['NONE'], [], ['WHAT', 'x']]) expect(probeOf({ Test: test })).toBeUndefined();
    expect(probeOf(undefined)).toBeUndefined();
  });

  it("merges the container's over the image's field by field (Docker's merge)", () => {
    const image = { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, Retries: 4 };
    expect(mergeHealthcheck(undefined, image)).toEqual(image);
    expect(mergeHealthcheck({ Retries: 7 }, undefined)).toEqual({ Retries: 7 });
    expect(mergeHealthcheck({ Retries: 7 }, image)).toEqual({ ...image, Retries: 7 });
    expect(mergeHealthcheck({ Test: ['CMD-SHELL', 'x'], Interval: 1e9 }, image)).toEqual({ ...image, Test: ['CMD-SHELL', 'x'], Interval: 1e9 });
    expect(mergeHealthcheck({ Test: ['NONE'] }, image)).toEqual({ ...image, Test: ['NONE'] });
    expect(mergeHealthcheck({ Test: ['NONE'] }, { Test: ['CMD', 'true'] })).toEqual({ Test: ['NONE'] });
  });

  it("refuses durations set below 1ms and negative retries with the daemon's messages", () => {
    expect(() => validateHealthcheck({ Interval: 0, Timeout: 1e6, StartPeriod: 1e6, Retries: 0 })).not.toThrow();
    expect(() => validateHealthcheck({ Interval: 999_999 })).toThrow(new UsageError('Interval in Healthcheck cannot be less than 1ms'));
    expect(() => validateHealthcheck({ Timeout: 1 })).toThrow('Timeout in Healthcheck cannot be less than 1ms');
    expect(() => validateHealthcheck({ StartPeriod: 10 })).toThrow('StartPeriod in Healthcheck cannot be less than 1ms');
    expect(() => validateHealthcheck({ Retries: -1 })).toThrow('Retries in Healthcheck cannot be negative');
  });
});

describe('health flags', () => {
  it('none given: undefined (the image decides); zero values are not settings', () => {
    expect(parseHealthFlags({})).toBeUndefined();
    expect(parseHealthFlags({ healthInterval: '0s', healthRetries: '0', healthCmd: '' })).toBeUndefined();
  });

  it('gives only what was set', () => {
    expect(parseHealthFlags({ healthCmd: 'true', healthInterval: '200ms', healthTimeout: '1m', healthStartPeriod: '1.5s', healthRetries: '5' })).toEqual({
      Test: ['CMD-SHELL', 'true'],
      Interval: 200e6,
      Timeout: 60e9,
      StartPeriod: 1.5e9,
      Retries: 5,
    });
    expect(parseHealthFlags({ healthRetries: '2' })).toEqual({ Retries: 2 });
  });

  it('--no-healthcheck: NONE, and a conflict with any other health setting', () => {
    expect(parseHealthFlags({ noHealthcheck: true })).toEqual({ Test: ['NONE'] });
    expect(parseHealthFlags({ noHealthcheck: true, healthRetries: '0' })).toEqual({ Test: ['NONE'] });
    expect(() => parseHealthFlags({ noHealthcheck: true, healthInterval: '1s' })).toThrow('--no-healthcheck conflicts with --health-* options');
  });

  it("refuses negatives and what does not parse, with Docker's messages", () => {
    expect(() => parseHealthFlags({ healthInterval: '-1s' })).toThrow('--health-interval cannot be negative');
    expect(() => parseHealthFlags({ healthTimeout: '-1ms' })).toThrow('--health-timeout cannot be negative');
    expect(() => parseHealthFlags({ healthRetries: '-3' })).toThrow('--health-retries cannot be negative');
    expect(() => parseHealthFlags({ healthStartPeriod: '-1h' })).toThrow('--health-start-period cannot be negative');
    expect(() => parseHealthFlags({ healthInterval: '10' })).toThrow('invalid argument "10" for "--health-interval" flag: time: invalid duration "10"');
    expect(() => parseHealthFlags({ healthRetries: '1.5' })).toThrow(
      'invalid argument "1.5" for "--health-retries" flag: strconv.ParseInt: parsing "1.5": invalid syntax',
    );
  });
});

describe('Go durations for flags and messages', () => {
  it('parses a sign and a bare 0 as time.ParseDuration does', () => {
    expect(parseGoDurationFlag('0')).toBe(0);
    expect(parseGoDurationFlag('-1s')).toBe(-1e9);
    expect(parseGoDurationFlag('+2ms')).toBe(2e6);
    expect(parseGoDurationFlag('1')).toBeUndefined();
    expect(parseGoDurationFlag('')).toBeUndefined();
  });

  it("prints as Go's Duration.String", () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [7, '7ns'],
      [1500, '1.5\u00b5s'],
      [200e6, '200ms'],
      [1.5e6, '1.5ms'],
      [1e9, '1s'],
      [30e9, '30s'],
      [1.25e9, '1.25s'],
      [90e9, '1m30s'],
      [3600e9, '1h0m0s'],
      [3723.5e9, '1h2m3.5s'],
      [-2e9, '-2s'],
    ];
    for (const [ns, text] of cases) expect([ns, formatGoDuration(ns)]).toEqual([ns, text]);
  });
});
