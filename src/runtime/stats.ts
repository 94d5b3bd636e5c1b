/**
 * `hull stats` and `hull top`: what a container's cgroup files say (cpu.stat, memory.current,
 * memory.max, memory.stat, pids.current, io.stat) and which processes are in it (cgroup.procs).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface CgroupSample {
  /** cpu.stat usage_usec */
  cpuUsageUsec: number;
  /** memory.current minus inactive_file (Docker's "usage" on cgroup v2), bytes */
  memoryUsage: number;
  /** memory.current, bytes */
  memoryCurrent: number;
  /** memory.max, or the host's memory when unlimited */
  memoryLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
  /** when it was read (ms, monotonic) */
  at: number;
}

function read(dir: string, file: string): string {
  try {
    return readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return '';
  }
}

function field(text: string, key: string): number {
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

export function sampleCgroup(dir: string, hostMemory: number): CgroupSample {
  const memoryCurrent = Number(read(dir, 'memory.current').trim() || 0);
  const max = read(dir, 'memory.max').trim();
  let blockRead = 0;
  let blockWrite = 0;
  for (const line of read(dir, 'io.stat').split('\n')) {
    blockRead += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
    blockWrite += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return {
    cpuUsageUsec: field(read(dir, 'cpu.stat'), 'usage_usec'),
    memoryUsage: Math.max(0, memoryCurrent - field(read(dir, 'memory.stat'), 'inactive_file')),
    memoryCurrent,
    memoryLimit: max === '' || max === 'max' ? hostMemory : Number(max),
    // without the pids controller (no --pids-limit), the processes in cgroup.procs
    pids: Number(read(dir, 'pids.current').trim() || read(dir, 'cgroup.procs').split('\n').filter(Boolean).length),
    blockRead,
    blockWrite,
    at: performance.now(),
  };
}

/** CPU % between two samples, as Docker shows it (100% = one CPU busy). */
export function cpuPercent(before: CgroupSample, after: CgroupSample): number {
  const wallUsec = (after.at - before.at) * 1000;
  return wallUsec > 0 ? ((after.cpuUsageUsec - before.cpuUsageUsec) / wallUsec) * 100 : 0;
}

/** The pids in the cgroup and, below it, its children's (cgroup.procs). */
export function cgroupPids(dir: string): number[] {
  const out = read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
  for (const entry of (() => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  })()) {
    if (entry.isDirectory()) out.push(...cgroupPids(path.join(dir, entry.name)));
  }
  return out;
}

/** Docker's human sizes: binary units for memory ("1.5MiB"), decimal for I/O ("1.2MB"). */
export function humanSize(bytes: number, binary: boolean): string {
  const base = binary ? 1024 : 1000;
  const units = binary ? ['B', 'KiB', 'MiB', 'GiB', 'TiB'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = bytes;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${i === 0 ? v : Number(v.toPrecision(4))}${units[i]}`;
}
