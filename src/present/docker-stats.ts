/**
 * A container's cgroup v2 usage as Docker's stats JSON (`GET /containers/{id}/stats`), which
 * `docker stats` reads: CPU % is its own arithmetic over `cpu_stats` and `precpu_stats`
 * (the container's ns against the host's from /proc/stat, times the online CPUs), memory is
 * `usage` less `stats.inactive_file`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CgroupSample } from '../runtime/stats.js';

/** The host's CPU time in ns (/proc/stat's first line, in USER_HZ ticks of 10 ms), as Docker's system_cpu_usage. */
export function hostCpuNanos(stat: string = readFileSync('/proc/stat', 'utf8')): number {
  const fields = (/^cpu\s+(.*)$/m.exec(stat)?.[1] ?? '').trim().split(/\s+/).slice(0, 7).map(Number);
  return fields.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * 10_000_000;
}

export interface StatsPoint {
  sample: CgroupSample;
  hostCpuNanos: number;
  /** When it was read. */
  time: Date;
}

function cpuStats(p: StatsPoint | undefined, cpus: number): Record<string, unknown> {
  if (!p) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: cpus, throttling_data: {} };
  return {
    cpu_usage: { total_usage: p.sample.cpuUsageUsec * 1000, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: p.hostCpuNanos,
    online_cpus: cpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** Docker's stats body from two points of the container's cgroup (`before` absent: the first of a stream). */
export function dockerStats(
  container: { id: string; name: string },
  now: StatsPoint,
  before?: StatsPoint,
  cpus = os.availableParallelism(),
): Record<string, unknown> {
  const s = now.sample;
  return {
    read: now.time.toISOString(),
    preread: before ? before.time.toISOString() : '0001-01-01T00:00:00Z',
    pids_stats: { current: s.pids },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 0, minor: 0, op: 'read', value: s.blockRead },
        { major: 0, minor: 0, op: 'write', value: s.blockWrite },
      ],
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(now, cpus),
    precpu_stats: cpuStats(before, cpus),
    memory_stats: { usage: s.memoryCurrent, stats: { inactive_file: s.memoryCurrent - s.memoryUsage }, limit: s.memoryLimit },
    name: `/${container.name}`,
    id: container.id,
  };
}
