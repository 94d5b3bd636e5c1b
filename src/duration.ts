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
