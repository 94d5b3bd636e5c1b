/** `--annotation KEY=VALUE` entries → the spec's annotations (Docker's HostConfig.Annotations): the key may not be empty, a bare key gets ''. */
import { UsageError } from '../errors.js';

export function parseAnnotations(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (key === '') throw new UsageError(`invalid argument "${e}" for "--annotation" flag: the key is empty`);
    out[key] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}
