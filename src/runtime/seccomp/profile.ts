/**
 * Seccomp profiles: Docker's JSON format (what `--security-opt seccomp=FILE` reads, and the form
 * hull's own default profile is written in), and its resolution for one container — the rules
 * whose `includes`/`excludes` (capabilities, architectures, kernel version) apply — into the OCI
 * runtime-spec's `linux.seccomp`, which the BPF compiler (bpf.ts) turns into a filter at start.
 */
import { UsageError } from '../../errors.js';

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

export type SeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

/** OCI runtime-spec linux.seccomp (config-linux.md#seccomp). */
export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: SeccompAction; errnoRet?: number; args?: SeccompArg[] }[];
}

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** Docker's seccomp profile format (moby profiles/seccomp). */
export interface DockerSeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: {
    names?: string[];
    name?: string;
    action: SeccompAction;
    errnoRet?: number;
    args?: SeccompArg[] | null;
    includes?: Filter;
    excludes?: Filter;
    comment?: string;
  }[];
}

/** The actions and comparison operators the compiler supports (`hull-runc features` lists them). */
export const SECCOMP_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
];
export const SECCOMP_OPERATORS: readonly SeccompOp[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];
const ACTIONS = new Set<string>(SECCOMP_ACTIONS);
const OPS = new Set<string>(SECCOMP_OPERATORS);

function checkAction(action: unknown, where: string): SeccompAction {
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    throw new UsageError(`seccomp profile: ${where}: unsupported action ${JSON.stringify(action)}`);
  }
  return action as SeccompAction;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks a Docker-format profile (the text of `--security-opt seccomp=FILE`). */
export function parseDockerProfile(text: string, source = 'profile'): DockerSeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`seccomp profile ${source}: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new UsageError(`seccomp profile ${source}: not a JSON object`);
  checkAction(raw.defaultAction, 'defaultAction');
  if (raw.architectures !== undefined && raw.archMap !== undefined) {
    throw new UsageError(`seccomp profile ${source}: use either architectures or archMap, not both`);
  }
  const calls = raw.syscalls ?? [];
  if (!Array.isArray(calls)) throw new UsageError(`seccomp profile ${source}: syscalls must be a list`);
  calls.forEach((c: unknown, i) => {
    if (!isObject(c)) throw new UsageError(`seccomp profile ${source}: syscalls[${i}] is not an object`);
    checkAction(c.action, `syscalls[${i}]`);
    const names = c.names ?? (c.name !== undefined ? [c.name] : undefined);
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
      throw new UsageError(`seccomp profile ${source}: syscalls[${i}] needs names`);
    }
    for (const a of (c.args ?? []) as unknown[]) {
      if (!isObject(a) || typeof a.index !== 'number' || a.index < 0 || a.index > 5 || typeof a.value !== 'number' || !OPS.has(String(a.op))) {
        throw new UsageError(`seccomp profile ${source}: syscalls[${i}] has an invalid argument rule ${JSON.stringify(a)}`);
      }
    }
  });
  return raw as unknown as DockerSeccompProfile;
}

/** The container a profile is resolved for. */
export interface SeccompTarget {
  /** Capabilities of the container (bounding set), OCI names: CAP_SYS_ADMIN, … */
  capabilities: readonly string[];
  /** Go's architecture name, as profiles use it: amd64. */
  goArch: string;
  /** libseccomp's native architecture: SCMP_ARCH_X86_64. */
  nativeArch: string;
  /** The running kernel's version, [major, minor]. */
  kernel: [number, number];
}

function kernelAtLeast(have: [number, number], want: string): boolean {
  const [maj = 0, min = 0] = want.split('.').map(Number);
  return have[0] > maj || (have[0] === maj && have[1] >= min);
}

/** Docker's profile for one container: what applies to its capabilities, architecture and kernel. */
export function resolveProfile(profile: DockerSeccompProfile, target: SeccompTarget): LinuxSeccomp {
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures) {
    out.architectures = [...profile.architectures];
  } else if (profile.archMap) {
    const mine = profile.archMap.find((a) => a.architecture === target.nativeArch);
    if (mine) out.architectures = [mine.architecture, ...(mine.subArchitectures ?? [])];
  }
  const caps = new Set(target.capabilities);
  for (const call of profile.syscalls ?? []) {
    const inc = call.includes ?? {};
    const exc = call.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(target.goArch)) continue;
    if (exc.arches?.includes(target.goArch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) continue;
    if (exc.caps?.some((c) => caps.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) continue;
    const names = call.names ?? (call.name !== undefined ? [call.name] : []);
    const rule: NonNullable<LinuxSeccomp['syscalls']>[number] = { names: [...names], action: call.action };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args && call.args.length > 0) rule.args = call.args.map((a) => ({ ...a }));
    out.syscalls!.push(rule);
  }
  return out;
}
