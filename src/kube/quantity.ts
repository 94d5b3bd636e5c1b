/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): `128Mi`, `1G`, `500m`,
 * `0.5`, `1e3`. Binary suffixes are powers of 1024, decimal ones of 1000, `m` is a thousandth.
 */
import { UsageError } from '../errors.js';

const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value as a number (`500m` → 0.5, `1Ki` → 1024); `where` names the field in the error. */
export function parseQuantity(value: string | number, where: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UsageError(`${where}: invalid quantity ${value}`);
    return value;
  }
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][-+]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/.exec(value.trim());
  if (!m) throw new UsageError(`${where}: invalid quantity "${value}"`);
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIXES[m[3] ?? ''] ?? 1);
}

/** A memory quantity in whole bytes (rounded up, as Kubernetes does for fractional bytes). */
export function parseMemoryQuantity(value: string | number, where: string): number {
  const bytes = Math.ceil(parseQuantity(value, where));
  if (bytes <= 0) throw new UsageError(`${where}: a memory limit must be above 0, not "${value}"`);
  return bytes;
}

/** A CPU quantity as cgroup cpu.max quota and period, microseconds (Podman's conversion: period 100 ms, quota cpus × period). */
export function parseCpuQuantity(value: string | number, where: string): { quota: number; period: number } {
  const cpus = parseQuantity(value, where);
  const period = 100_000;
  const quota = Math.round(cpus * period);
  // The kernel refuses a quota under 1 ms; Kubernetes rounds the same way (MinQuotaPeriod).
  if (quota <= 0) throw new UsageError(`${where}: a cpu limit must be above 0, not "${value}"`);
  return { quota: Math.max(quota, 1000), period };
}
