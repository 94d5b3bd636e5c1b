/** cpu: cpu.weight (from v1 shares, runc's conversion) and cpu.max (quota and period). */
import type { Controller } from './controller.js';

export const DEFAULT_CPU_PERIOD = 100_000;

/** runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] → [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/**
 * cgroup v1's default shares. containerd and CRI put it in every spec to mean "no preference": it is
 * the default weight (100, as the runtimes' newer conversion maps it), asks nothing of the host, and
 * runs where the cpu controller is not in cgroup v2 (a hybrid host) as it does under runc there.
 */
export const DEFAULT_CPU_SHARES = 1024;

const sharesRequested = (shares: number | undefined): boolean => shares !== undefined && shares !== DEFAULT_CPU_SHARES;

export const cpu: Controller = {
  name: 'cpu',
  requestedBy(r) {
    const c = r.cpu ?? {};
    // --cpus makes both at the default period; --cpu-period and --cpu-quota one or both.
    const max =
      c.quota !== undefined && c.period === DEFAULT_CPU_PERIOD
        ? ['--cpus']
        : c.quota !== undefined && c.period !== undefined
          ? ['--cpu-period/--cpu-quota']
          : c.period !== undefined
            ? ['--cpu-period']
            : c.quota !== undefined
              ? ['--cpu-quota']
              : [];
    return [...(sharesRequested(c.shares) ? ['--cpu-shares'] : []), ...max];
  },
  files(r) {
    const c = r.cpu ?? {};
    const out: [string, string][] = [];
    if (sharesRequested(c.shares)) out.push(['cpu.weight', String(c.shares! > 0 ? sharesToWeight(c.shares!) : 100)]);
    if (c.quota !== undefined || c.period !== undefined) {
      const quota = c.quota !== undefined && c.quota > 0 ? String(c.quota) : 'max';
      out.push(['cpu.max', `${quota} ${c.period ?? DEFAULT_CPU_PERIOD}`]);
    }
    return out;
  },
};
