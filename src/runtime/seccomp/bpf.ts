/**
 * The seccomp compiler: an OCI `linux.seccomp` becomes a classic BPF program for
 * seccomp(SECCOMP_SET_MODE_FILTER), which the container's first process loads (native/child.cc).
 *
 * Why here in TypeScript and not Debian's libseccomp: the policy stays where hull's policy lives,
 * it is unit-tested by running the program in an interpreter (test/unit/runtime/seccomp.test.ts);
 * the plan stays a flat list of bytes for both the addon and the static hull-monitor (no library
 * to link into either, no allocation between clone and execve); and the syscall tables come from
 * the kernel headers by scripts/gen-syscall-table.mjs. The program's shape follows libseccomp's:
 *
 *   load arch ─ x86_64 ─ nr ≥ 0x40000000 ? ─ yes ─► x32 section  (x32 ABI: X32_SYSCALL_BIT set)
 *             │                            └ no ──► x86_64 section
 *             ├ i386 ──► i386 section
 *             └ other ─► kill the process
 *   section: per call with argument rules a block (every rule's conditions, 64-bit compares as two
 *            32-bit halves; a failed rule falls to the next), then ranges of allowed numbers, then
 *            the other unconditional actions, ENOSYS for numbers above the ABI's table (calls
 *            newer than it), then the default action.
 */
import { UsageError } from '../../errors.js';
import type { LinuxSeccomp, SeccompAction, SeccompArg } from './profile.js';
import { SYSCALLS_X32, SYSCALLS_X86, SYSCALLS_X86_64 } from './syscall-table.js';

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JGE_K: 0x35,
  ALU_AND_K: 0x54,
  RET_K: 0x06,
} as const;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;
const BPF_MAXINSNS = 4096;
const ENOSYS = 38;

// struct seccomp_data: nr (0), arch (4), instruction_pointer (8), args[6] (16 + 8 * i).
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 20 + 8 * i;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Target = number | string; // relative skip, or a label
interface Item {
  code: number;
  k: number;
  jt: Target;
  jf: Target;
}

class Assembler {
  private readonly items: (Item | { label: string })[] = [];
  private n = 0;
  emit(code: number, k: number, jt: Target = 0, jf: Target = 0): void {
    this.items.push({ code, k: k >>> 0, jt, jf });
  }
  label(name: string): void {
    this.items.push({ label: name });
  }
  fresh(prefix: string): string {
    return `${prefix}.${this.n++}`;
  }
  ret(k: number): void {
    this.emit(BPF.RET_K, k);
  }
  /** An unconditional jump to a label, any distance. */
  jump(label: string): void {
    this.emit(BPF.JMP_JA, 0, label, 0);
  }
  assemble(): SockFilter[] {
    const at = new Map<string, number>();
    let pc = 0;
    for (const it of this.items) {
      if ('label' in it) at.set(it.label, pc);
      else pc++;
    }
    const out: SockFilter[] = [];
    for (const it of this.items) {
      if ('label' in it) continue;
      const pcHere = out.length;
      const rel = (t: Target): number => {
        if (typeof t === 'number') return t;
        const to = at.get(t);
        if (to === undefined) throw new Error(`seccomp: unknown label ${t}`);
        const d = to - pcHere - 1;
        if (d < 0) throw new Error('seccomp: backward jump');
        return d;
      };
      if (it.code === BPF.JMP_JA) {
        out.push({ code: it.code, jt: 0, jf: 0, k: typeof it.jt === 'string' ? rel(it.jt) : it.k });
        continue;
      }
      const jt = rel(it.jt);
      const jf = rel(it.jf);
      if (jt > 255 || jf > 255) throw new UsageError('seccomp profile: a rule is too long for a BPF jump (over 255 instructions)');
      out.push({ code: it.code, jt, jf, k: it.k });
    }
    return out;
  }
}

export function actionValue(action: SeccompAction, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | ((errnoRet ?? 1) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
  }
}

const hi32 = (v: number) => Math.floor(v / 0x100000000) >>> 0;
const lo32 = (v: number) => v >>> 0;

/** One argument condition; jumps to `fail` when it does not hold, falls through when it does. */
function condition(a: Assembler, arg: SeccompArg, fail: string): void {
  const pass = a.fresh('pass');
  const v = arg.value;
  const ld = (off: number) => a.emit(BPF.LD_W_ABS, off);
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
      ld(argHi(arg.index));
      a.emit(BPF.JMP_JEQ_K, hi32(v), 0, fail);
      ld(argLo(arg.index));
      a.emit(BPF.JMP_JEQ_K, lo32(v), pass, fail);
      break;
    case 'SCMP_CMP_NE':
      ld(argHi(arg.index));
      a.emit(BPF.JMP_JEQ_K, hi32(v), 0, pass);
      ld(argLo(arg.index));
      a.emit(BPF.JMP_JEQ_K, lo32(v), fail, pass);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      const want = arg.valueTwo ?? 0;
      ld(argHi(arg.index));
      a.emit(BPF.ALU_AND_K, hi32(v));
      a.emit(BPF.JMP_JEQ_K, hi32(want), 0, fail);
      ld(argLo(arg.index));
      a.emit(BPF.ALU_AND_K, lo32(v));
      a.emit(BPF.JMP_JEQ_K, lo32(want), pass, fail);
      break;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      ld(argHi(arg.index));
      a.emit(BPF.JMP_JGT_K, hi32(v), pass, 0);
      a.emit(BPF.JMP_JEQ_K, hi32(v), 0, fail);
      ld(argLo(arg.index));
      a.emit(arg.op === 'SCMP_CMP_GT' ? BPF.JMP_JGT_K : BPF.JMP_JGE_K, lo32(v), pass, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      ld(argHi(arg.index));
      a.emit(BPF.JMP_JGT_K, hi32(v), fail, 0);
      a.emit(BPF.JMP_JEQ_K, hi32(v), 0, pass);
      ld(argLo(arg.index));
      a.emit(arg.op === 'SCMP_CMP_LT' ? BPF.JMP_JGE_K : BPF.JMP_JGT_K, lo32(v), fail, pass);
      break;
  }
  a.label(pass);
}

interface Rule {
  action: number;
  args: SeccompArg[];
}

/** One ABI's section; A holds the syscall number on entry. Every path returns. */
function section(a: Assembler, table: Readonly<Record<string, number>>, offset: number, seccomp: LinuxSeccomp, defaultAction: number): void {
  const byNr = new Map<number, Rule[]>();
  for (const call of seccomp.syscalls ?? []) {
    const action = actionValue(call.action, call.errnoRet);
    for (const name of call.names) {
      const nr = table[name];
      if (nr === undefined) continue; // not a call of this ABI (libseccomp skips these too)
      const rules = byNr.get(nr + offset) ?? [];
      rules.push({ action, args: call.args ?? [] });
      byNr.set(nr + offset, rules);
    }
  }
  const allowed: number[] = [];
  const others: [number, number][] = [];
  for (const [nr, rules] of [...byNr].sort((x, y) => x[0] - y[0])) {
    const conditional = rules.filter((r) => r.args.length > 0);
    const plain = rules.find((r) => r.args.length === 0);
    if (conditional.length === 0 && plain) {
      if (plain.action === SECCOMP_RET.ALLOW) allowed.push(nr);
      else others.push([nr, plain.action]);
      continue;
    }
    // This call's block: each rule in order; the first whose conditions all hold decides.
    const next = a.fresh('call');
    a.emit(BPF.JMP_JEQ_K, nr, 0, next);
    for (const rule of conditional) {
      const fail = a.fresh('rule');
      for (const arg of rule.args) condition(a, arg, fail);
      a.ret(rule.action);
      a.label(fail);
    }
    a.ret(plain ? plain.action : defaultAction);
    a.label(next);
    a.emit(BPF.LD_W_ABS, OFF_NR); // the conditions loaded arguments into A: the number again
  }
  // Ranges of allowed numbers: [lo, hi] → allow.
  for (let i = 0; i < allowed.length;) {
    let j = i;
    while (j + 1 < allowed.length && allowed[j + 1] === allowed[j]! + 1) j++;
    const lo = allowed[i]!;
    const hi = allowed[j]!;
    if (lo === hi) {
      a.emit(BPF.JMP_JEQ_K, lo, 0, 1);
    } else {
      a.emit(BPF.JMP_JGE_K, lo, 0, 2);
      a.emit(BPF.JMP_JGT_K, hi, 1, 0);
    }
    a.ret(SECCOMP_RET.ALLOW);
    i = j + 1;
  }
  for (const [nr, action] of others) {
    a.emit(BPF.JMP_JEQ_K, nr, 0, 1);
    a.ret(action);
  }
  // Calls newer than this ABI's table (and so than the profile): ENOSYS, as runc does, so that
  // libc falls back to an older call instead of failing with the default EPERM.
  const newest = Math.max(...Object.values(table)) + offset;
  if (defaultAction !== SECCOMP_RET.ALLOW) {
    a.emit(BPF.JMP_JGT_K, newest, 0, 1);
    a.ret((SECCOMP_RET.ERRNO | ENOSYS) >>> 0);
  }
  a.ret(defaultAction);
}

/** linux.seccomp → the filter program (x86_64 hosts: native, x32 and i386 ABIs). */
export function compileSeccomp(seccomp: LinuxSeccomp, nativeArch = 'SCMP_ARCH_X86_64'): SockFilter[] {
  if (nativeArch !== 'SCMP_ARCH_X86_64') throw new UsageError(`seccomp: hull compiles filters for x86_64 hosts only (this is ${nativeArch})`);
  const arches = new Set(seccomp.architectures?.length ? seccomp.architectures : [nativeArch]);
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet);
  const a = new Assembler();
  const badArch = SECCOMP_RET.KILL_PROCESS;
  a.emit(BPF.LD_W_ABS, OFF_ARCH);
  if (arches.has('SCMP_ARCH_X86_64') || arches.has('SCMP_ARCH_X32')) {
    a.emit(BPF.JMP_JEQ_K, AUDIT_ARCH_X86_64, 0, 1);
    a.jump('x86_64');
  }
  if (arches.has('SCMP_ARCH_X86')) {
    a.emit(BPF.JMP_JEQ_K, AUDIT_ARCH_I386, 0, 1);
    a.jump('i386');
  }
  a.ret(badArch);
  if (arches.has('SCMP_ARCH_X86_64') || arches.has('SCMP_ARCH_X32')) {
    a.label('x86_64');
    a.emit(BPF.LD_W_ABS, OFF_NR);
    a.emit(BPF.JMP_JGE_K, X32_SYSCALL_BIT, 0, 1);
    a.jump('x32');
    if (arches.has('SCMP_ARCH_X86_64')) section(a, SYSCALLS_X86_64, 0, seccomp, defaultAction);
    else a.ret(badArch);
    a.label('x32');
    if (arches.has('SCMP_ARCH_X32')) section(a, SYSCALLS_X32, X32_SYSCALL_BIT, seccomp, defaultAction);
    else a.ret(badArch);
  }
  if (arches.has('SCMP_ARCH_X86')) {
    a.label('i386');
    a.emit(BPF.LD_W_ABS, OFF_NR);
    section(a, SYSCALLS_X86, 0, seccomp, defaultAction);
  }
  const program = a.assemble();
  if (program.length > BPF_MAXINSNS) throw new UsageError(`seccomp profile: the filter has ${program.length} instructions, over the kernel's ${BPF_MAXINSNS}`);
  return program;
}

/** struct sock_filter[] as bytes (little-endian, x86_64). */
export function encodeFilter(program: readonly SockFilter[]): Buffer {
  const b = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    b.writeUInt16LE(ins.code, i * 8);
    b.writeUInt8(ins.jt, i * 8 + 2);
    b.writeUInt8(ins.jf, i * 8 + 3);
    b.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return b;
}
