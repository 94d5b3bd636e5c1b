/**
 * `--label KEY=VALUE` entries (run, create, volume and network create) and `--label-file` files →
 * Docker's Labels map; a bare key gets ''. Label files as Docker reads them: one entry a line,
 * blank lines and `#` comments skipped (its env-file reader).
 */
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

/** The entries of a label file's text. */
export function parseLabelFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/^\s+/, ''))
    .filter((line) => line !== '' && !line.startsWith('#'));
}
