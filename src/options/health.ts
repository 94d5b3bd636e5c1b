/**
 * `--health-cmd`, `--health-interval`, `--health-timeout`, `--health-start-period`,
 * `--health-retries` and `--no-healthcheck` → Docker's HealthConfig, with the checks and messages
 * of Docker's CLI (cli/command/container/opts.go). The daemon's own checks (durations below 1ms)
 * are the library's: validateHealthcheck in src/runtime/health.ts.
 */
import { UsageError } from '../errors.js';
import { parseGoDurationFlag } from '../duration.js';
import type { HealthConfig } from '../image/types.js';

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: string;
  noHealthcheck?: boolean;
}

function duration(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  const ns = parseGoDurationFlag(text);
  if (ns === undefined) throw new UsageError(`invalid argument "${text}" for "${flag}" flag: time: invalid duration "${text}"`);
  return ns;
}

function integer(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  if (!/^[-+]?\d+$/.test(text)) throw new UsageError(`invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** The container's HealthConfig from the flags; undefined when none was given (the image's applies as it is). */
export function parseHealthFlags(flags: HealthFlags): HealthConfig | undefined {
  const interval = duration(flags.healthInterval, '--health-interval');
  const timeout = duration(flags.healthTimeout, '--health-timeout');
  const startPeriod = duration(flags.healthStartPeriod, '--health-start-period');
  const retries = integer(flags.healthRetries, '--health-retries');
  const cmd = flags.healthCmd ?? '';
  // As Docker's: a flag given with its zero value is not a setting.
  const haveSettings = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0;
  if (flags.noHealthcheck) {
    if (haveSettings) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!haveSettings) return undefined;
  if (interval < 0) throw new UsageError('--health-interval cannot be negative');
  if (timeout < 0) throw new UsageError('--health-timeout cannot be negative');
  if (retries < 0) throw new UsageError('--health-retries cannot be negative');
  if (startPeriod < 0) throw new UsageError('--health-start-period cannot be negative');
  return {
    ...(cmd !== '' ? { Test: ['CMD-SHELL', cmd] } : {}),
    ...(interval !== 0 ? { Interval: interval } : {}),
    ...(timeout !== 0 ? { Timeout: timeout } : {}),
    ...(startPeriod !== 0 ? { StartPeriod: startPeriod } : {}),
    ...(retries !== 0 ? { Retries: retries } : {}),
  };
}
