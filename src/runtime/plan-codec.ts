/**
 * The plan in the monitor's binary form (native/plan-codec.h has the format and the reader).
 * The same steps plan.ts builds for `hull run`, flattened field for field the way spawn.cc's
 * ParseStep flattens them, plus what the monitor needs around them (paths, policy). TypeScript
 * decides all of it; the monitor only executes.
 */
import { RuntimeError } from '../errors.js';
import type { NamespaceSet, PlanStep } from '../native/types.js';

export const PLAN_VERSION = 2;

/** CLONE_NEW* (linux/sched.h). */
export const CLONE_NEW = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  pid: 0x20000000,
  net: 0x40000000,
  user: 0x10000000,
} as const;

/** The executor's step numbers: the order of `enum class StepOp` in native/plan.h. */
const OPS: readonly PlanStep['op'][] = [
  'mount', 'mknod', 'symlink', 'pivotRoot', 'remount', 'mask', 'sethostname', 'loopbackUp', 'console',
  'mkdirs', 'chdir', 'setrlimit', 'noNewPrivs', 'setUser', 'capabilities', 'closeFds', 'exec', 'seccomp', 'idMaps', 'setns',
  'nullStdio',
];

export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure's limit; 0 = no limit. */
  maximumRetryCount: number;
}

export interface MonitorPlan {
  namespaces: NamespaceSet;
  rootfs: string;
  /** The container's cgroup directory (CLONE_INTO_CGROUP), '' for none. */
  cgroup: string;
  logPath: string;
  /** Where the monitor writes the container's status (running/restarting/exited) as JSON. */
  statusPath: string;
  /** The cgroup's memory.events when it exists, for OOM kills; '' for none. */
  memoryEvents: string;
  terminal: boolean;
  /** Signal the container gets when its monitor dies. */
  parentDeathSignal: number;
  /** rmdir the container's cgroup after its end (cgroup.kill first). */
  removeCgroup: boolean;
  restart: RestartPolicy;
  /** A file whose existence tells the monitor not to restart again (`hull stop`). */
  stopMarker: string;
  /** Run in place of the monitor after the end (e.g. `hull rm` for --rm); [] for none. */
  exitCommand: string[];
  /** `--log-opt max-size` in bytes (0: unlimited) and `max-file` (>= 1). */
  logMaxSize: number;
  logMaxFiles: number;
  steps: PlanStep[];
}

interface FlatStep {
  s: [string, string, string, string];
  n: [bigint, bigint, bigint, bigint, bigint];
  argv: string[];
  envp: string[];
  groups: number[];
}

const big = (v: number | bigint | boolean): bigint => (typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v));

/** A step as the executor's (s0…s3, n0…n4, argv, envp, groups): see native/plan.h. */
export function flattenStep(step: PlanStep): FlatStep {
  const f: FlatStep = { s: ['', '', '', ''], n: [0n, 0n, 0n, 0n, 0n], argv: [], envp: [], groups: [] };
  switch (step.op) {
    case 'mount':
      f.s = [step.source, step.target, step.fstype, step.data];
      f.n = [big(step.flags), BigInt(step.create === 'dir' ? 1 : step.create === 'file' ? 2 : 0), big(step.inRoot), big(step.optional), 0n];
      break;
    case 'mknod':
      f.s[0] = step.path;
      f.n = [big(step.mode), big(step.major), big(step.minor), 0n, 0n];
      break;
    case 'symlink':
      f.s[0] = step.target;
      f.s[1] = step.linkPath;
      break;
    case 'pivotRoot':
      f.s[0] = step.rootfs;
      break;
    case 'remount':
      f.s[0] = step.target;
      f.n[0] = big(step.flags);
      f.n[1] = big(step.ignoreMissing);
      break;
    case 'mask':
      f.s[0] = step.path;
      break;
    case 'sethostname':
      f.s[0] = step.hostname;
      break;
    case 'console':
      f.n[0] = big(step.rows);
      f.n[1] = big(step.cols);
      f.n[2] = big(step.noDevConsole ?? false);
      break;
    case 'mkdirs':
      f.s[0] = step.path;
      f.n = [big(step.mode), big(step.uid), big(step.gid), 0n, 0n];
      break;
    case 'chdir':
      f.s[0] = step.path;
      f.n[0] = big(step.inRoot ?? false);
      break;
    case 'setrlimit':
      f.n = [big(step.resource), step.soft, step.hard, 0n, 0n];
      break;
    case 'setUser':
      f.n[0] = big(step.uid);
      f.n[1] = big(step.gid);
      f.groups = step.groups;
      break;
    case 'capabilities':
      f.n = [step.bounding, step.effective, step.permitted, step.inheritable, step.ambient];
      break;
    case 'idMaps':
      f.s[0] = step.uidMap;
      f.s[1] = step.gidMap;
      break;
    case 'nullStdio':
      f.n[0] = big(step.fds);
      break;
    case 'seccomp':
      f.s[0] = step.filter;
      f.n[0] = big(step.filter.length / 16);
      break;
    case 'exec':
      f.s[0] = step.file;
      f.s[1] = step.path;
      f.argv = step.argv;
      f.envp = step.env;
      break;
    case 'setns':
      f.s[0] = step.path;
      f.n[0] = big(step.nstype);
      break;
    case 'loopbackUp':
    case 'noNewPrivs':
    case 'closeFds':
      break;
  }
  return f;
}

class Writer {
  private readonly parts: Buffer[] = [];
  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
  }
  u64(v: bigint): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.parts.push(b);
  }
  str(s: string): void {
    if (s.includes('\0')) throw new RuntimeError(`a plan string holds a NUL byte: ${JSON.stringify(s)}`);
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.parts.push(b);
  }
  strs(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.str(s);
  }
  raw(b: Buffer): void {
    this.parts.push(b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function cloneFlags(ns: NamespaceSet): bigint {
  let flags = 0;
  for (const key of Object.keys(CLONE_NEW) as (keyof typeof CLONE_NEW)[]) if (ns[key]) flags |= CLONE_NEW[key];
  return BigInt(flags >>> 0);
}

/** The monitor's input (little-endian: the reader is on this machine, and x86/arm64 are LE). */
export function encodePlan(plan: MonitorPlan): Buffer {
  const w = new Writer();
  w.raw(Buffer.from('HULLPLN1', 'latin1'));
  w.u32(PLAN_VERSION);
  w.u64(cloneFlags(plan.namespaces));
  w.str(plan.rootfs);
  w.str(plan.cgroup);
  w.str(plan.logPath);
  w.str(plan.statusPath);
  w.str(plan.memoryEvents);
  w.u32(plan.terminal ? 1 : 0);
  w.u32(plan.parentDeathSignal);
  w.u32(plan.removeCgroup ? 1 : 0);
  w.u32(RESTART_POLICIES.indexOf(plan.restart.name));
  w.u32(plan.restart.maximumRetryCount);
  w.str(plan.stopMarker);
  w.u64(BigInt(plan.logMaxSize));
  w.u32(plan.logMaxFiles);
  w.strs(plan.exitCommand);
  w.u32(plan.steps.length);
  for (const step of plan.steps) {
    const op = OPS.indexOf(step.op);
    if (op < 0) throw new RuntimeError(`unknown plan step: ${step.op}`);
    const f = flattenStep(step);
    w.u32(op);
    for (const s of f.s) w.str(s);
    for (const n of f.n) w.u64(n);
    w.strs(f.argv);
    w.strs(f.envp);
    w.u32(f.groups.length);
    for (const g of f.groups) w.u32(g);
  }
  return w.done();
}
