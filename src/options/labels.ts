/** `--label KEY=VALUE` entries (volume and network create) → Docker's Labels map; a bare key gets ''. */
import { UsageError } from '../errors.js';

export function parseLabels(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (key === '') throw new UsageError(`invalid label '${e}': the key is empty`);
    out[key] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}
