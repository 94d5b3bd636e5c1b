/** Go's duration syntax, which Docker uses wherever it takes a duration (`--since 10m`, `HEALTHCHECK --interval=30s`). */
const DURATION_UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's duration format (`1h2m3s`, `30s`, `1.5ms`; µs or us) in nanoseconds; undefined when `text` is not one. */
export function parseGoDuration(text: string): number | undefined {
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)) {
    if (m.index !== consumed) return undefined;
    total += Number(m[1]) * DURATION_UNIT_NS[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === text.length && text !== '' ? total : undefined;
}

/**
 * Go's time.ParseDuration, which Docker's duration flags use (`--health-interval -1s`): a sign
 * and a bare `0` are allowed there; undefined when `text` is not a duration.
 */
export function parseGoDurationFlag(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '0') return 0;
  const ns = parseGoDuration(body);
  return ns === undefined ? undefined : sign * ns;
}

/** Go's Duration.String: `200ms`, `1.5s`, `1m30s`, `1h0m0s`, `0s` (Docker's messages print durations so). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let left = Math.round(Math.abs(ns));
  const decimal = (value: number, size: number) => {
    const whole = Math.floor(value / size);
    const rest = value - whole * size;
    if (rest === 0) return String(whole);
    return `${whole}.${String(rest)
      .padStart(String(size).length - 1, '0')
      .replace(/0+$/, '')}`;
  };
  if (left < 1e9) {
    const [unit, size]: [string, number] = left < 1e3 ? ['ns', 1] : left < 1e6 ? ['\u00b5s', 1e3] : ['ms', 1e6];
    return `${sign}${decimal(left, size)}${unit}`;
  }
  const hours = Math.floor(left / 3600e9);
  left -= hours * 3600e9;
  const minutes = Math.floor(left / 60e9);
  left -= minutes * 60e9;
  return `${sign}${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${decimal(left, 1e9)}s`;
}
