/**
 * Health checks' rules, as Docker's daemon/health.go (20.10) has them: the container's
 * HealthConfig (the image's HEALTHCHECK with the run flags over it, field by field), the checks
 * the daemon makes on it, and how each probe's result moves the status:
 *
 *   starting ── success ──────────────────────────────► healthy
 *   starting ── failure within the start period ──────► starting (the streak is not counted)
 *   any ─────── failure: FailingStreak + 1 ≥ retries ─► unhealthy
 *   any ─────── success (FailingStreak = 0) ──────────► healthy
 *   (re)start ─────────────────────────────────────────► starting, FailingStreak 0, the log kept
 *
 * Where the state lives: `health.json` in the container's directory, beside the monitor's
 * monitor.json, replaced whole by a rename (writeJsonAtomic) so a reader in any process (`ps`,
 * `inspect`, the API) sees the old or the new state, never half of one, without a lock. Its one
 * writer at a time is the checker of the container's current start (src/runtime/health-checker.ts),
 * named by a token in the file: the start that writes `starting` makes a new token under the
 * container's lock, and a checker writes only under that lock while the token is its own, so a
 * checker of an earlier start can never write over a later one. It is kept when the container
 * stops (Docker's inspect shows the last health of a stopped container) and goes with it.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readText } from '../files.js';
import type { HealthConfig } from '../image/types.js';

export type { HealthConfig } from '../image/types.js';

export const HEALTH_FILE = 'health.json';

/** Docker's defaults (daemon/health.go). */
export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_START_PERIOD_NS = 0;
export const DEFAULT_RETRIES = 3;
/** Results kept (Docker's maxLogEntries) and the bytes of output kept of each (maxOutputLen). */
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;
/** Docker's containertypes.MinimumDuration: a duration set below it is refused. */
const MINIMUM_DURATION_NS = 1e6;

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe's result (Docker's HealthcheckResult; times RFC 3339). */
export interface HealthResult {
  Start: string;
  End: string;
  /** 0 healthy; anything else a failure (-1: the probe could not run, or ran past its timeout). */
  ExitCode: number;
  Output: string;
}

/** The container's health (Docker's State.Health) and the token of the checker that may write it. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
  checker?: string;
}

/** What a probe runs: the Test's command, through the shell for CMD-SHELL. */
export interface Probe {
  args: string[];
}

/**
 * The probe of a HealthConfig; undefined when there is none (no Test, NONE, or a type Docker does
 * not know). CMD-SHELL runs under the container's shell (the image's SHELL), else /bin/sh -c.
 */
export function probeOf(config: HealthConfig | undefined, shell?: readonly string[]): Probe | undefined {
  const test = config?.Test;
  if (!test || test.length === 0) return undefined;
  if (test[0] === 'CMD') return { args: test.slice(1) };
  if (test[0] === 'CMD-SHELL') return { args: [...(shell && shell.length > 0 ? shell : ['/bin/sh', '-c']), ...test.slice(1)] };
  return undefined; // NONE, or unknown (Docker warns in its log and runs none)
}

/** The image's HealthConfig with the container's over it, one field at a time (Docker's daemon/commit.go merge). */
export function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (image === undefined) return user;
  if (user === undefined) return image;
  const pick = <K extends keyof HealthConfig>(key: K, unset: boolean): Pick<HealthConfig, K> => {
    const value = unset ? image[key] : user[key];
    return (value === undefined ? {} : { [key]: value }) as Pick<HealthConfig, K>;
  };
  return {
    ...user,
    ...pick('Test', !user.Test || user.Test.length === 0),
    ...pick('Interval', !user.Interval),
    ...pick('Timeout', !user.Timeout),
    ...pick('StartPeriod', !user.StartPeriod),
    ...pick('Retries', !user.Retries),
  };
}

/** The daemon's checks of a container's HealthConfig (daemon/container.go), with its messages. */
export function validateHealthcheck(config: HealthConfig | undefined): void {
  if (config === undefined) return;
  const tooShort = (v: number | undefined) => v !== undefined && v !== 0 && v < MINIMUM_DURATION_NS;
  if (tooShort(config.Interval)) throw new UsageError('Interval in Healthcheck cannot be less than 1ms');
  if (tooShort(config.Timeout)) throw new UsageError('Timeout in Healthcheck cannot be less than 1ms');
  if ((config.Retries ?? 0) < 0) throw new UsageError('Retries in Healthcheck cannot be negative');
  if (tooShort(config.StartPeriod)) throw new UsageError('StartPeriod in Healthcheck cannot be less than 1ms');
}

/** The schedule of a HealthConfig, its zeros replaced by Docker's defaults (durations in ms). */
export interface HealthSchedule {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
  /** The timeout as Docker prints it (`30s`), for the timed-out result's text. */
  timeoutNs: number;
}

export function scheduleOf(config: HealthConfig): HealthSchedule {
  const or = (v: number | undefined, d: number) => (v ? v : d);
  const timeoutNs = or(config.Timeout, DEFAULT_TIMEOUT_NS);
  return {
    intervalMs: or(config.Interval, DEFAULT_INTERVAL_NS) / 1e6,
    timeoutMs: timeoutNs / 1e6,
    startPeriodMs: or(config.StartPeriod, DEFAULT_START_PERIOD_NS) / 1e6,
    retries: config.Retries && config.Retries > 0 ? config.Retries : DEFAULT_RETRIES,
    timeoutNs,
  };
}

/** The state at a (re)start: starting, no streak, the results of earlier runs kept (Docker's initHealthMonitor). */
export function startingHealth(previous: HealthState | undefined, checker: string): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: previous?.Log ?? [], checker };
}

/**
 * The state after one probe (Docker's handleProbeResult): the result appended (the last five
 * kept), and the status moved by the rules drawn at the top. `startedAt`: when the container
 * (last) started, in ms, which the start period counts from.
 */
export function applyProbeResult(state: HealthState, result: HealthResult, schedule: HealthSchedule, startedAt: number): HealthState {
  const next: HealthState = { ...state, Log: [...state.Log, result].slice(-MAX_LOG_ENTRIES) };
  if (result.ExitCode === 0) return { ...next, Status: 'healthy', FailingStreak: 0 };
  const inStartPeriod = state.Status === 'starting' && Date.parse(result.Start) - startedAt < schedule.startPeriodMs;
  if (inStartPeriod) return next;
  const streak = state.FailingStreak + 1;
  return { ...next, FailingStreak: streak, Status: streak >= schedule.retries ? 'unhealthy' : state.Status };
}

/** A probe's output as Docker keeps it: its first 4096 bytes, `...` after them when there was more. */
export function probeOutput(bytes: Buffer, truncated: boolean): string {
  const kept = bytes.subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
  return truncated || bytes.length > MAX_OUTPUT_BYTES ? `${kept}...` : kept;
}

export function healthFile(containerDir: string): string {
  return path.join(containerDir, HEALTH_FILE);
}

/** The health state written for a container (no lock: it is replaced whole); undefined when it has none. */
export function readHealth(containerDir: string): HealthState | undefined {
  const text = readText(healthFile(containerDir));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as HealthState;
  } catch {
    return undefined;
  }
}

/**
 * A container's health as `ps --filter health=` matches it (Docker's snapshot Health): the
 * status of its health state, `none` when it has none (no health check, or never started with one).
 */
export function healthStatusOf(record: { state: { health?: Pick<HealthState, 'Status'> } }): HealthStatus | 'none' {
  return record.state.health?.Status ?? 'none';
}

/** Docker's State.Health for inspect (without hull's checker token). */
export function inspectHealth(state: HealthState): { Status: HealthStatus; FailingStreak: number; Log: HealthResult[] } {
  return { Status: state.Status, FailingStreak: state.FailingStreak, Log: state.Log };
}

/** The text ps adds to `Up …` (Docker's Health.String): `health: starting`, `healthy`, `unhealthy`. */
export function healthText(state: Pick<HealthState, 'Status'>): string {
  return state.Status === 'starting' ? 'health: starting' : state.Status;
}
