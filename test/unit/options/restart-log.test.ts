// --restart and --log-opt (src/options/restart.ts, log.ts): Docker's syntax → RestartPolicy, LogConfig.
import { describe, expect, it } from 'vitest';
import { parseLogConfig, parseLogOptions } from '../../../src/options/log.js';
import { parseRestartPolicy } from '../../../src/options/restart.js';
import { refused } from './refused.js';

describe('--restart', () => {
  it('no (also absent or empty), on-failure[:N], always, unless-stopped', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy('')).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy('no')).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure')).toEqual({ name: 'on-failure', maximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(parseRestartPolicy('on-failure:0')).toEqual({ name: 'on-failure', maximumRetryCount: 0 });
    expect(parseRestartPolicy('always')).toEqual({ name: 'always', maximumRetryCount: 0 });
    expect(parseRestartPolicy('unless-stopped')).toEqual({ name: 'unless-stopped', maximumRetryCount: 0 });
  });

  it('refuses other policies, a count on another policy, and a count that is not a number', () => {
    expect(refused(() => parseRestartPolicy('sometimes'))).toBe(
      "invalid restart policy 'sometimes': use no, on-failure[:max-retries], always or unless-stopped",
    );
    expect(refused(() => parseRestartPolicy('always:2'))).toBe("invalid restart policy 'always:2': only on-failure takes a maximum retry count");
    expect(refused(() => parseRestartPolicy('on-failure:x'))).toBe("invalid restart policy 'on-failure:x': the maximum retry count must be a number >= 0");
    expect(refused(() => parseRestartPolicy('on-failure:-1'))).toMatch(/must be a number >= 0/);
    expect(refused(() => parseRestartPolicy('on-failure:1:2'))).toMatch(/^invalid restart policy 'on-failure:1:2': use no/);
  });
});

describe('--log-opt', () => {
  it('max-size in bytes (k, m, g of 1024, fractions), max-file; only what was given', () => {
    expect(parseLogOptions([])).toEqual({ driver: 'json-file' });
    expect(parseLogOptions(['max-size=10k', 'max-file=3'])).toEqual({ driver: 'json-file', maxSize: 10240, maxFile: 3 });
    expect(parseLogOptions(['max-size=1.5m'])).toEqual({ driver: 'json-file', maxSize: 1572864 });
    expect(parseLogOptions(['max-size=1'])).toEqual({ driver: 'json-file', maxSize: 1 });
    expect(parseLogOptions(['max-size=2GB'])).toEqual({ driver: 'json-file', maxSize: 2 * 1024 ** 3 });
    expect(parseLogOptions(['max-file=1'])).toEqual({ driver: 'json-file', maxFile: 1 });
  });

  it('refuses bad sizes and counts, unknown keys, and max-file > 1 without max-size', () => {
    expect(refused(() => parseLogOptions(['max-size=lots']))).toBe('invalid --log-opt max-size=lots: use a size like 10k, 10m or 1g');
    expect(refused(() => parseLogOptions(['max-size=0']))).toBe('invalid --log-opt max-size=0: it must be more than 0');
    expect(refused(() => parseLogOptions(['max-file=0']))).toBe('invalid --log-opt max-file=0: a number >= 1 is needed');
    expect(refused(() => parseLogOptions(['max-file']))).toBe('invalid --log-opt max-file=: a number >= 1 is needed');
    expect(refused(() => parseLogOptions(['max-file=3']))).toBe('--log-opt max-file needs max-size too');
    expect(refused(() => parseLogOptions(['labels=a']))).toBe("unknown log opt 'labels' for the json-file log driver (hull knows max-size, max-file)");
  });

  it("the API's LogConfig.Config map takes the same rules", () => {
    expect(parseLogConfig(Object.entries({ 'max-size': '2k', 'max-file': '3' }))).toEqual({ driver: 'json-file', maxSize: 2048, maxFile: 3 });
    expect(refused(() => parseLogConfig([['compress', 'true']]))).toMatch(/unknown log opt 'compress'/);
  });
});
