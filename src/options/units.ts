/** Docker's unit parsing for resource flags (go-units RAMInBytes, ParseCPUs). */
import { UsageError } from '../errors.js';

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `32m`, `1.5g`, `100 MiB`, `1024` → bytes (binary multiples, as `docker run --memory`). */
export function parseBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value.trim());
  if (!m) throw new UsageError(`invalid argument "${value}" for "${flag}" flag: invalid size: '${value}'`);
  return Math.floor(Number(m[1]) * BINARY[(m[2] ?? '').toLowerCase()]!);
}

/** `--memory-swap`: bytes, or -1 for unlimited. */
export function parseBytesOrUnlimited(value: string, flag: string): number {
  return value.trim() === '-1' ? -1 : parseBytes(value, flag);
}

/** `--cpus 1.5` → nano CPUs (Docker's NanoCPUs), at most 9 decimals. */
export function parseNanoCpus(value: string): number {
  const m = /^(\d*)(?:\.(\d{0,9}))?$/.exec(value.trim());
  if (!m || (m[1] === '' && !m[2])) throw new UsageError(`invalid argument "${value}" for "--cpus" flag: failed to parse ${value} as a rational number`);
  return Number(m[1] || '0') * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
}

export function parseInteger(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim()))
    throw new UsageError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value.trim());
}

/** A cpuset list: `0-3,5`. */
export function parseCpuList(value: string, flag: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value.trim())) throw new UsageError(`invalid value ${value} for ${flag}: expected a list like 0-3,5`);
  return value.trim();
}
