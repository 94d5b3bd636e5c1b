/**
 * `-e` and `--env-file` entries as Docker reads them → KEY=VALUE entries (Docker's Env): `K=V` as
 * is; a bare `K` takes the value from the given environment (the CLI's own), or is dropped when
 * unset. Env files: one entry a line, `#` comments.
 */
import { UsageError } from '../errors.js';

export function parseEnvEntries(entries: readonly string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.replace(/^\s+/, '');
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === '') throw new UsageError(`invalid environment variable: ${raw}`);
    if (/\s/.test(key)) throw new UsageError(`invalid environment variable: ${raw} (the name has white space)`);
    if (eq >= 0) {
      out.push(entry);
    } else if (hostEnv[key] !== undefined) {
      out.push(`${key}=${hostEnv[key]}`);
    }
  }
  return out;
}

export function parseEnvFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/^\s+/, ''))
    .filter((line) => line !== '' && !line.startsWith('#'));
}
