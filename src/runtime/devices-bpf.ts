/**
 * The device controller of cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE,
 * generated here from the spec's `linux.resources.devices` rules and attached to the container's
 * cgroup (native/bpf.cc) before the container is released, as runc and crun do. The kernel runs
 * it for every open/mknod of a device node by the cgroup's processes: 1 allows, 0 denies.
 *
 * Semantics (runc's): the rules are read in order and the last rule that matches a request wins;
 * a request matches when type and numbers match (`a` and -1 are wildcards) and every access it
 * asks for (r, w, m) is among the rule's. No rule matching: denied. The program checks the rules
 * from the last to the first and returns at the first match.
 */
import { UsageError } from '../errors.js';

export interface DeviceRule {
  allow: boolean;
  /** 'a' (all), 'c' or 'b'; default 'a'. */
  type?: string;
  /** -1 or absent: any. */
  major?: number;
  minor?: number;
  /** Some of 'rwm'; default 'rwm'. */
  access?: string;
}

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }: access_type = access << 16 | type.
export const DEVCG = { DEV_BLOCK: 1, DEV_CHAR: 2, ACC_MKNOD: 1, ACC_READ: 2, ACC_WRITE: 4 } as const;

// eBPF opcodes (linux/bpf.h).
export const EBPF = {
  LDX_MEM_W: 0x61,
  ALU32_AND_K: 0x54,
  ALU32_RSH_K: 0x74,
  ALU64_MOV_K: 0xb7,
  ALU64_MOV_X: 0xbf,
  JMP_JNE_K: 0x55,
  JMP_JNE_X: 0x5d,
  JMP_EXIT: 0x95,
} as const;

export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') {
    if (ch === 'r') bits |= DEVCG.ACC_READ;
    else if (ch === 'w') bits |= DEVCG.ACC_WRITE;
    else if (ch === 'm') bits |= DEVCG.ACC_MKNOD;
    else throw new UsageError(`invalid device access '${access}': use some of r, w, m`);
  }
  return bits;
}

const ALL_ACCESS = DEVCG.ACC_READ | DEVCG.ACC_WRITE | DEVCG.ACC_MKNOD;

/** The program's instructions for `rules`. */
export function deviceFilterProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  const insns: BpfInsn[] = [];
  const op = (code: number, dst: number, src: number, off: number, imm: number) => insns.push({ code, dst, src, off, imm });
  // r2 = type, r3 = access, r4 = major, r5 = minor (r1 is the context).
  op(EBPF.LDX_MEM_W, 2, 1, 0, 0);
  op(EBPF.ALU32_AND_K, 2, 0, 0, 0xffff);
  op(EBPF.LDX_MEM_W, 3, 1, 0, 0);
  op(EBPF.ALU32_RSH_K, 3, 0, 0, 16);
  op(EBPF.LDX_MEM_W, 4, 1, 4, 0);
  op(EBPF.LDX_MEM_W, 5, 1, 8, 0);
  let unconditional = false;
  for (const rule of [...rules].reverse()) {
    const type = rule.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new UsageError(`invalid device type '${type}': use a, b or c`);
    const access = accessBits(rule.access);
    // Each check is "if it differs, skip to the next rule": its offset is filled in below.
    const skips: number[] = [];
    const check = (code: number, dst: number, src: number, imm: number) => {
      skips.push(insns.length);
      op(code, dst, src, 0, imm);
    };
    if (type !== 'a') check(EBPF.JMP_JNE_K, 2, 0, type === 'b' ? DEVCG.DEV_BLOCK : DEVCG.DEV_CHAR);
    if (access !== ALL_ACCESS) {
      op(EBPF.ALU64_MOV_X, 1, 3, 0, 0);
      op(EBPF.ALU32_AND_K, 1, 0, 0, access);
      check(EBPF.JMP_JNE_X, 1, 3, 0); // asks for something the rule does not give
    }
    if (rule.major !== undefined && rule.major >= 0) check(EBPF.JMP_JNE_K, 4, 0, rule.major);
    if (rule.minor !== undefined && rule.minor >= 0) check(EBPF.JMP_JNE_K, 5, 0, rule.minor);
    op(EBPF.ALU64_MOV_K, 0, 0, 0, rule.allow ? 1 : 0);
    op(EBPF.JMP_EXIT, 0, 0, 0, 0);
    for (const at of skips) insns[at]!.off = insns.length - at - 1;
    if (skips.length === 0) {
      unconditional = true; // everything after it is unreachable, which the verifier refuses
      break;
    }
  }
  if (!unconditional) {
    op(EBPF.ALU64_MOV_K, 0, 0, 0, 0);
    op(EBPF.JMP_EXIT, 0, 0, 0, 0);
  }
  return insns;
}

/** struct bpf_insn[] as bytes (little-endian). */
export function encodeBpfProgram(insns: readonly BpfInsn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    b.writeUInt8(ins.code, i * 8);
    b.writeUInt8((ins.src << 4) | ins.dst, i * 8 + 1);
    b.writeInt16LE(ins.off, i * 8 + 2);
    b.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return b;
}

/** Docker's default device rules: nothing, except mknod of any node and the standard devices. */
export function defaultDeviceRules(): DeviceRule[] {
  const rwm = (type: string, major: number, minor: number): DeviceRule => ({ allow: true, type, major, minor, access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    rwm('c', 1, 3),
    rwm('c', 1, 5),
    rwm('c', 1, 7),
    rwm('c', 1, 8),
    rwm('c', 1, 9), // null zero full random urandom
    rwm('c', 5, 0),
    rwm('c', 5, 1),
    rwm('c', 5, 2), // tty console ptmx
    rwm('c', 136, -1), // /dev/pts/*
    rwm('c', 10, 200), // /dev/net/tun
  ];
}
