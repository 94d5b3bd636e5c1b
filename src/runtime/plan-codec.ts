/**
 * The plan's one wire format (native/plan-codec.h has the format and the one decoder, for the
 * addon and hull-monitor alike): the steps plan.ts builds, flattened field for field as the table in
 * native/plan-table.h says, with what launching needs around them (clone flags, root, terminal);
 * hull-monitor's input adds its own settings (paths, restart policy). TypeScript decides all of it;
 * the native side only executes.
 */
import { RuntimeError } from '../errors.js';
import { PLAN_OPS, PLAN_VERSION } from '../native/plan-table.js';
import type { NamespaceSet, PlanStep } from '../native/types.js';

export { PLAN_VERSION };

/** CLONE_NEW* (linux/sched.h). */
export const CLONE_NEW = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  pid: 0x20000000,
  net: 0x40000000,
  user: 0x10000000,
  time: 0x00000080,
} as const;

export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure's limit; 0 = no limit. */
  maximumRetryCount: number;
}

/** What launching a container's first process needs: its steps and what surrounds them. */
export interface LaunchPlan {
  /** The namespaces clone3 makes new. */
  namespaces: NamespaceSet;
  /** Host path of the container's root mount (for in-root resolution and messages). */
  rootfs: string;
  /** The plan has a console step: the launcher makes the console socket. */
  terminal: boolean;
  /** Signal the container gets when its parent dies (0: none). */
  parentDeathSignal: number;
  /** Namespace files joined before the clone (a pid or time namespace joined by path: plan.ts joinedBeforeClone). */
  joinPaths?: string[];
  steps: PlanStep[];
}

/** hull-monitor's input: a launch plan and the monitor's own settings. */
export interface MonitorPlan {
  launch: LaunchPlan;
  /** The container's cgroup directory (CLONE_INTO_CGROUP), '' for none. */
  cgroup: string;
  logPath: string;
  /** Where the monitor writes the container's status (running/restarting/exited) as JSON. */
  statusPath: string;
  /** The cgroup's memory.events when it exists, for OOM kills; '' for none. */
  memoryEvents: string;
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
  /** The monitor's control socket (native/monitor-control.h); hull makes it and hands it over as fd 4. */
  controlPath: string;
  /** `-i`: the container's stdin is a pipe the monitor holds (attached clients write into it). */
  openStdin: boolean;
  /** `start -a`: the first start waits at its gate for an attached client, so no output is missed. */
  attachFirst: boolean;
  /** The events log the monitor appends each `start` and `die` (with oom and volume mount/unmount) to ('' for none), and the file with those lines but for the time and exit code, read at each (a rename rewrites it: src/events/emit.ts writeMonitorEvents). */
  eventsPath: string;
  eventLinesPath: string;
}

interface FlatStep {
  s: [string, string, string, string];
  n: [Num, Num, Num, Num, Num];
  argv: string[];
  envp: string[];
  groups: number[];
}

/** A numeric field: a number where it fits (most do), a bigint for 64-bit masks and limits. */
type Num = number | bigint;
const big = (v: Num | boolean): Num => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** A step as the executor's (s0…s3, n0…n4, argv, envp, groups): see native/plan-table.h. */
export function flattenStep(step: PlanStep): FlatStep {
  const f: FlatStep = { s: ['', '', '', ''], n: [0, 0, 0, 0, 0], argv: [], envp: [], groups: [] };
  switch (step.op) {
    case 'mount':
      f.s = [step.source, step.target, step.fstype, step.data];
      f.n = [big(step.flags), step.create === 'dir' ? 1 : step.create === 'file' ? 2 : 0, big(step.inRoot), big(step.optional), 0];
      break;
    case 'mknod':
      f.s[0] = step.path;
      f.n = [big(step.mode), big(step.major), big(step.minor), big(step.uid ?? 0), big(step.gid ?? 0)];
      break;
    case 'symlink':
      f.s[0] = step.target;
      f.s[1] = step.linkPath;
      break;
    case 'pivotRoot':
    case 'chroot':
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
    case 'setdomainname':
      f.s[0] = step.domainname;
      break;
    case 'writeProc':
      f.s[0] = step.path;
      f.s[1] = step.value;
      break;
    case 'console':
      f.n[0] = big(step.rows);
      f.n[1] = big(step.cols);
      f.n[2] = big(step.noDevConsole ?? false);
      break;
    case 'mkdirs':
      f.s[0] = step.path;
      f.n = [big(step.mode), big(step.uid), big(step.gid), 0, 0];
      break;
    case 'chdir':
      f.s[0] = step.path;
      f.n[0] = big(step.inRoot ?? false);
      break;
    case 'setrlimit':
      f.n = [big(step.resource), step.soft, step.hard, 0, 0];
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
    case 'openStartFifo':
      f.s[0] = step.path;
      break;
    case 'closeFds':
      f.n[0] = big(step.keep ?? 0);
      break;
    case 'loopbackUp':
    case 'noNewPrivs':
    case 'hooksPoint':
    case 'startGate':
      break;
  }
  return f;
}

/**
 * Writes the plan into one buffer, grown by doubling. It runs once per container start, so it
 * runs cold, in V8's interpreter: it calls builtins (DataView, TextEncoder) rather than Buffer's
 * JS methods, which cost about a microsecond a call there (a plan has about a thousand fields).
 */
const utf8 = new TextEncoder();

class Writer {
  private bytes = new Uint8Array(32 * 1024);
  private view = new DataView(this.bytes.buffer);
  private at = 0;
  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
  }
  u64(v: bigint | number): void {
    this.room(8);
    if (typeof v === 'number' && v >= 0 && v <= 0xffff_ffff && Number.isInteger(v)) {
      this.view.setUint32(this.at, v, true);
      this.view.setUint32(this.at + 4, 0, true);
    } else {
      this.view.setBigUint64(this.at, BigInt.asUintN(64, BigInt(v)), true);
    }
    this.at += 8;
  }
  /** u32 length, the bytes, a NUL (the decoder points into the buffer). */
  str(s: string): void {
    if (s.includes('\0')) throw new RuntimeError(`a plan string holds a NUL byte: ${JSON.stringify(s)}`);
    this.room(4 + s.length * 3 + 1); // UTF-8 takes at most 3 bytes a UTF-16 unit
    const { written } = utf8.encodeInto(s, this.bytes.subarray(this.at + 4));
    this.view.setUint32(this.at, written, true);
    this.at += 4 + written;
    this.bytes[this.at++] = 0;
  }
  strs(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.str(s);
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
  done(): Buffer {
    return Buffer.from(this.bytes.buffer, 0, this.at);
  }
}

export function cloneFlags(ns: NamespaceSet): bigint {
  let flags = 0;
  for (const key of Object.keys(CLONE_NEW) as (keyof typeof CLONE_NEW)[]) if (ns[key]) flags |= CLONE_NEW[key];
  return BigInt(flags >>> 0);
}

const MAGIC = Buffer.from('HULLPLAN', 'latin1');
const OP_INDEX = new Map<string, number>(PLAN_OPS.map((op, i) => [op, i]));

function writeLaunchPlan(w: Writer, plan: LaunchPlan): void {
  w.raw(MAGIC);
  w.u32(PLAN_VERSION);
  w.u64(cloneFlags(plan.namespaces));
  w.str(plan.rootfs);
  w.u32(plan.terminal ? 1 : 0);
  w.u32(plan.parentDeathSignal);
  w.strs(plan.joinPaths ?? []);
  w.u32(plan.steps.length);
  for (const step of plan.steps) {
    const op = OP_INDEX.get(step.op);
    if (op === undefined) throw new RuntimeError(`unknown plan step: ${step.op}`);
    const f = flattenStep(step);
    w.u32(op);
    for (const s of f.s) w.str(s);
    for (const n of f.n) w.u64(n);
    w.strs(f.argv);
    w.strs(f.envp);
    w.u32(f.groups.length);
    for (const g of f.groups) w.u32(g);
  }
}

/** The addon's input: the launch plan alone (numbers little-endian: x86 and arm64 are). */
export function encodeLaunchPlan(plan: LaunchPlan): Buffer {
  const w = new Writer();
  writeLaunchPlan(w, plan);
  return w.done();
}

/** hull-monitor's input: the launch plan, then the monitor's settings. */
export function encodeMonitorInput(plan: MonitorPlan): Buffer {
  const w = new Writer();
  writeLaunchPlan(w, plan.launch);
  w.str(plan.cgroup);
  w.str(plan.logPath);
  w.str(plan.statusPath);
  w.str(plan.memoryEvents);
  w.u32(plan.removeCgroup ? 1 : 0);
  w.u32(RESTART_POLICIES.indexOf(plan.restart.name));
  w.u32(plan.restart.maximumRetryCount);
  w.str(plan.stopMarker);
  w.u64(plan.logMaxSize);
  w.u32(plan.logMaxFiles);
  w.strs(plan.exitCommand);
  w.str(plan.controlPath);
  w.u32(plan.openStdin ? 1 : 0);
  w.u32(plan.attachFirst ? 1 : 0);
  w.str(plan.eventsPath);
  w.str(plan.eventLinesPath);
  return w.done();
}
