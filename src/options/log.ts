/**
 * `--log-opt max-size=10m --log-opt max-file=3` (Docker's HostConfig.LogConfig.Config of the
 * json-file driver, hull's only one) → a LogConfig. Sizes in k, m, g of 1024, as Docker's.
 */
import { UsageError } from '../errors.js';
import type { LogConfig } from '../runtime/create-options.js';

/** `--log-driver`: json-file (the default), local (kept as json-file: `logs` reads it the same), none; others as Docker refuses an unknown driver. */
export function parseLogDriver(driver: string | undefined): NonNullable<LogConfig['driver']> {
  if (driver === undefined || driver === '' || driver === 'json-file') return 'json-file';
  if (driver === 'local' || driver === 'none') return driver;
  throw new UsageError(`failed to create container: logger: no log driver named '${driver}' is registered (hull has json-file, local and none)`);
}

/** `KEY=VALUE` entries, as `--log-opt` gives them. */
export function parseLogOptions(opts: readonly string[]): LogConfig {
  return parseLogConfig(
    opts.map((opt) => {
      const eq = opt.indexOf('=');
      return eq < 0 ? [opt, ''] : [opt.slice(0, eq), opt.slice(eq + 1)];
    }),
  );
}

/** The driver's options as key/value pairs (the API's LogConfig.Config map: `Object.entries`). */
export function parseLogConfig(entries: readonly (readonly [string, string])[]): LogConfig {
  const out: LogConfig = { driver: 'json-file' };
  for (const [key, value] of entries) {
    if (key === 'max-size') {
      const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value);
      if (!m) throw new UsageError(`invalid --log-opt max-size=${value}: use a size like 10k, 10m or 1g`);
      const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
      out.maxSize = Math.floor(Number(m[1]) * unit);
      if (out.maxSize <= 0) throw new UsageError(`invalid --log-opt max-size=${value}: it must be more than 0`);
    } else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`invalid --log-opt max-file=${value}: a number >= 1 is needed`);
      out.maxFile = Number(value);
    } else {
      throw new UsageError(`unknown log opt '${key}' for the json-file log driver (hull knows max-size, max-file)`);
    }
  }
  if ((out.maxFile ?? 1) > 1 && out.maxSize === undefined) throw new UsageError('--log-opt max-file needs max-size too');
  return out;
}
