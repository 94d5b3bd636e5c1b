/** Docker's ulimits (HostConfig.Ulimits) ⇄ the runtime-spec's process.rlimits. */
import type { SpecRlimit } from './spec.js';

/** A resource limit as Docker's HostConfig.Ulimits entry has it (`Name` without RLIMIT_). */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** Docker's ulimit names → the runtime-spec's rlimit types. */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

/** The spec's rlimits of the ulimits. */
export function rlimitsOf(ulimits: readonly Ulimit[]): SpecRlimit[] {
  return ulimits.map((u) => ({ type: ULIMIT_TYPES[u.name]!, soft: u.soft, hard: u.hard }));
}

/** HostConfig.Ulimits of a spec's rlimits (Docker's names); null when there are none, as Docker shows it. */
export function ulimitsOf(rlimits: readonly SpecRlimit[] | undefined): { Name: string; Soft: number; Hard: number }[] | null {
  if (!rlimits?.length) return null;
  const names = new Map(Object.entries(ULIMIT_TYPES).map(([name, type]) => [type, name]));
  return rlimits.map((r) => ({ Name: names.get(r.type) ?? r.type.replace(/^RLIMIT_/, '').toLowerCase(), Soft: r.soft, Hard: r.hard }));
}
