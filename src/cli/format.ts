/** The CLI's list output: aligned tables and --format (the figures in them: src/present/human.ts). */
import { ListFormat, isDefaultTable } from '../format/formatter.js';

/**
 * A list's --format, parsed before anything is listed (as Docker does); undefined for the default
 * table ('table' or no --format), which the command prints itself. `headers` are the column names.
 */
export function listFormat(format: string | undefined, headers: Readonly<Record<string, string>>): ListFormat | undefined {
  return isDefaultTable(format) ? undefined : ListFormat.parse(format!, headers);
}

/** `k=v,…` in key order, as Docker's list rows show labels. */
export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
