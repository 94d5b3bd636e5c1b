// The seccomp compiler: programs are run in a small classic-BPF interpreter over seccomp_data.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF,
  SECCOMP_RET,
  type SockFilter,
  X32_SYSCALL_BIT,
  compileSeccomp,
  encodeFilter,
} from '../../../src/runtime/seccomp/bpf.js';
import { CLONE_NAMESPACE_FLAGS, defaultProfile } from '../../../src/runtime/seccomp/default-profile.js';
import { type LinuxSeccomp, parseDockerProfile, resolveProfile } from '../../../src/runtime/seccomp/profile.js';
import { SYSCALLS_X32, SYSCALLS_X86, SYSCALLS_X86_64 } from '../../../src/runtime/seccomp/syscall-table.js';
import { DEFAULT_CAPABILITIES } from '../../../src/runtime/capabilities.js';

/** Runs a classic BPF seccomp program (the subset the compiler emits) on one system call. */
function run(program: readonly SockFilter[], arch: number, nr: number, args: bigint[] = []): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let A = 0;
  for (let pc = 0, steps = 0; steps < 100000; steps++) {
    const ins = program[pc];
    if (!ins) throw new Error(`fell off the program at ${pc}`);
    switch (ins.code) {
      case BPF.LD_W_ABS:
        A = data.readUInt32LE(ins.k);
        pc++;
        break;
      case BPF.ALU_AND_K:
        A = (A & ins.k) >>> 0;
        pc++;
        break;
      case BPF.JMP_JA:
        pc += 1 + ins.k;
        break;
      case BPF.JMP_JEQ_K:
        pc += 1 + (A === ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.JMP_JGT_K:
        pc += 1 + (A > ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.JMP_JGE_K:
        pc += 1 + (A >= ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.RET_K:
        return ins.k >>> 0;
      default:
        throw new Error(`unknown opcode ${ins.code}`);
    }
  }
  throw new Error('no verdict');
}

const EPERM = (SECCOMP_RET.ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET.ERRNO | 38) >>> 0;
const ALLOW = SECCOMP_RET.ALLOW;

function dockerDefault(caps: readonly string[] = DEFAULT_CAPABILITIES): LinuxSeccomp {
  return resolveProfile(defaultProfile(), { capabilities: caps, goArch: 'amd64', nativeArch: 'SCMP_ARCH_X86_64', kernel: [6, 18] });
}

const x64 =
  (name: string, args: bigint[] = []) =>
  (p: SockFilter[]) =>
    run(p, AUDIT_ARCH_X86_64, SYSCALLS_X86_64[name]!, args);

describe("seccomp: Docker's default profile compiled to BPF", () => {
  const program = compileSeccomp(dockerDefault());

  it("fits the kernel's limit and encodes 8 bytes an instruction", () => {
    expect(program.length).toBeLessThan(4096);
    expect(encodeFilter(program).length).toBe(program.length * 8);
  });

  it('allows ordinary calls and denies the dangerous ones with EPERM on x86_64', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'capset', 'setresuid', 'close_range', 'prctl', 'mknod', 'chroot']) {
      expect(x64(name)(program), name).toBe(ALLOW);
    }
    for (const name of [
      'mount',
      'umount2',
      'unshare',
      'setns',
      'init_module',
      'finit_module',
      'delete_module',
      'reboot',
      'settimeofday',
      'clock_settime',
      'sethostname',
      'kexec_load',
      'open_by_handle_at',
      'bpf',
      'perf_event_open',
      'keyctl',
      'add_key',
      'iopl',
      'ioperm',
      'swapon',
      'acct',
      'pivot_root',
      'process_vm_readv',
    ]) {
      expect(x64(name)(program), name).toBe(EPERM);
    }
  });

  it('allows clone only without namespace flags, and makes clone3 ENOSYS, without CAP_SYS_ADMIN', () => {
    const SIGCHLD = 17n;
    expect(x64('clone', [SIGCHLD])(program)).toBe(ALLOW);
    expect(x64('clone', [0x10000000n | SIGCHLD])(program)).toBe(EPERM); // CLONE_NEWUSER
    expect(x64('clone', [0x20000n])(program)).toBe(EPERM); // CLONE_NEWNS
    expect(x64('clone3')(program)).toBe(ENOSYS);
  });

  it('allows personality only for the harmless personas', () => {
    for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(x64('personality', [v])(program), String(v)).toBe(ALLOW);
    expect(x64('personality', [0x0040000n])(program)).toBe(EPERM); // ADDR_NO_RANDOMIZE
    expect(x64('personality', [0x1_0000_0000n])(program)).toBe(EPERM); // the upper half counts
  });

  it('denies AF_VSOCK sockets only', () => {
    expect(x64('socket', [2n])(program)).toBe(ALLOW);
    expect(x64('socket', [40n])(program)).toBe(EPERM);
  });

  it('applies the same rules to the i386 ABI with its own numbers', () => {
    expect(run(program, AUDIT_ARCH_I386, SYSCALLS_X86.mount!)).toBe(EPERM);
    expect(run(program, AUDIT_ARCH_I386, SYSCALLS_X86.read!)).toBe(ALLOW);
    expect(run(program, AUDIT_ARCH_I386, SYSCALLS_X86.socketcall!)).toBe(ALLOW);
    // i386's 21 is mount; x86_64's 21 is access: the ABIs must not be confused.
    expect(SYSCALLS_X86.mount).toBe(21);
    expect(SYSCALLS_X86_64.access).toBe(21);
    expect(run(program, AUDIT_ARCH_X86_64, 21)).toBe(ALLOW);
  });

  it('handles the x32 ABI (X32_SYSCALL_BIT) with its own rules', () => {
    expect(run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | SYSCALLS_X32.read!)).toBe(ALLOW);
    expect(run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | SYSCALLS_X32.mount!)).toBe(EPERM);
    // 13 is x86_64's rt_sigaction (allowed) but no x32 call (x32's is 512): not allowed by its low part.
    expect(SYSCALLS_X32.rt_sigaction).toBe(512);
    expect(run(program, AUDIT_ARCH_X86_64, 13)).toBe(ALLOW);
    expect(run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 13)).toBe(EPERM);
    expect(run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 512)).toBe(ALLOW);
  });

  it('answers calls newer than the tables with ENOSYS (libc then falls back), on every ABI', () => {
    const newest64 = Math.max(...Object.values(SYSCALLS_X86_64));
    expect(run(program, AUDIT_ARCH_X86_64, newest64 + 1)).toBe(ENOSYS);
    expect(run(program, AUDIT_ARCH_X86_64, 0x3fffffff)).toBe(ENOSYS);
    expect(run(program, AUDIT_ARCH_I386, Math.max(...Object.values(SYSCALLS_X86)) + 1)).toBe(ENOSYS);
    expect(run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1000)).toBe(ENOSYS);
    // Known but not allowed stays EPERM.
    expect(x64('kexec_load')(program)).toBe(EPERM);
    // An allow-by-default profile has nothing to add.
    expect(run(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }), AUDIT_ARCH_X86_64, newest64 + 1)).toBe(ALLOW);
  });

  it('kills a process that uses an architecture the profile does not name', () => {
    const AUDIT_ARCH_AARCH64 = 0xc00000b7;
    expect(run(program, AUDIT_ARCH_AARCH64, 63)).toBe(SECCOMP_RET.KILL_PROCESS);
    const only64 = compileSeccomp({ ...dockerDefault(), architectures: ['SCMP_ARCH_X86_64'] });
    expect(run(only64, AUDIT_ARCH_I386, SYSCALLS_X86.read!)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(run(only64, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | SYSCALLS_X32.read!)).toBe(SECCOMP_RET.KILL_PROCESS);
  });

  it('unlocks calls by capability: CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME, CAP_SYS_PTRACE', () => {
    const admin = compileSeccomp(dockerDefault([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']));
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'sethostname']) expect(x64(name)(admin), name).toBe(ALLOW);
    expect(x64('clone', [0x10000000n])(admin)).toBe(ALLOW);
    expect(x64('clone3')(admin)).toBe(ALLOW);
    expect(x64('init_module')(admin)).toBe(EPERM);
    const module = compileSeccomp(dockerDefault([...DEFAULT_CAPABILITIES, 'CAP_SYS_MODULE']));
    expect(x64('init_module')(module)).toBe(ALLOW);
    expect(x64('mount')(module)).toBe(EPERM);
    expect(x64('clock_settime')(compileSeccomp(dockerDefault(['CAP_SYS_TIME'])))).toBe(ALLOW);
    expect(x64('process_vm_readv')(compileSeccomp(dockerDefault(['CAP_SYS_PTRACE'])))).toBe(ALLOW);
  });
});

describe("seccomp: the compiler's comparisons", () => {
  const profile = (op: string, value: number, valueTwo?: number): LinuxSeccomp => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value, ...(valueTwo === undefined ? {} : { valueTwo }), op: op as 'SCMP_CMP_EQ' }] },
    ],
  });
  const verdict = (p: LinuxSeccomp, arg: bigint) => run(compileSeccomp(p), AUDIT_ARCH_X86_64, SYSCALLS_X86_64.read!, [0n, 0n, arg]) === ALLOW;
  const big = 2 ** 33 + 5;

  it.each([
    [
      'SCMP_CMP_EQ',
      [
        [5n, true],
        [6n, false],
        [BigInt(2 ** 32) + 5n, false],
      ],
    ],
    [
      'SCMP_CMP_NE',
      [
        [5n, false],
        [6n, true],
        [BigInt(2 ** 32) + 5n, true],
      ],
    ],
    [
      'SCMP_CMP_LT',
      [
        [4n, true],
        [5n, false],
        [BigInt(2 ** 32), false],
      ],
    ],
    [
      'SCMP_CMP_LE',
      [
        [5n, true],
        [6n, false],
      ],
    ],
    [
      'SCMP_CMP_GT',
      [
        [6n, true],
        [5n, false],
        [BigInt(2 ** 32), true],
      ],
    ],
    [
      'SCMP_CMP_GE',
      [
        [5n, true],
        [4n, false],
      ],
    ],
  ] as const)('%s against 5, as 64-bit values', (op, cases) => {
    for (const [arg, ok] of cases) expect(verdict(profile(op, 5), arg), `${op} ${arg}`).toBe(ok);
  });

  it('compares the upper 32 bits too', () => {
    expect(verdict(profile('SCMP_CMP_EQ', big), BigInt(big))).toBe(true);
    expect(verdict(profile('SCMP_CMP_EQ', big), 5n)).toBe(false);
    expect(verdict(profile('SCMP_CMP_GT', big), BigInt(big) + 1n)).toBe(true);
    expect(verdict(profile('SCMP_CMP_GT', big), BigInt(2 ** 32) + 100n)).toBe(false);
  });

  it('MASKED_EQ: (arg & value) == valueTwo', () => {
    const p = profile('SCMP_CMP_MASKED_EQ', CLONE_NAMESPACE_FLAGS, 0);
    expect(verdict(p, 0x11n)).toBe(true);
    expect(verdict(p, 0x40000000n)).toBe(false);
  });

  it("uses the default action's errno and per-rule errnos, and other actions", () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 13,
      syscalls: [
        { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    };
    const prog = compileSeccomp(p);
    expect(x64('read')(prog)).toBe((SECCOMP_RET.ERRNO | 13) >>> 0);
    expect(x64('getpid')(prog)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(x64('mount')(prog)).toBe(ENOSYS);
    const allowAll = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
    expect(x64('mount')(allowAll)).toBe(ALLOW);
    expect(x64('mkdir')(allowAll)).toBe(EPERM);
  });
});

describe('seccomp: Docker profile files', () => {
  it("reads Docker's format: archMap, includes/excludes by caps and arches, minKernel", () => {
    const p = parseDockerProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ALLOW' },
          { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
          { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
          { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.1' } },
          { name: 'write', action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_KILL'] } },
        ],
      }),
    );
    const r = resolveProfile(p, { capabilities: ['CAP_KILL'], goArch: 'amd64', nativeArch: 'SCMP_ARCH_X86_64', kernel: [6, 18] });
    expect(r.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(r.syscalls!.flatMap((s) => s.names)).toEqual(['read']);
  });

  it('rejects what it cannot run', () => {
    expect(() => parseDockerProfile('{')).toThrow(/not JSON/);
    expect(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_NOTIFY"}')).toThrow(/unsupported action/);
    expect(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}')).toThrow(/needs names/);
    expect(() =>
      parseDockerProfile(
        '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}',
      ),
    ).toThrow(/argument/);
  });
});

const HEADERS = '/usr/include/x86_64-linux-gnu/asm';
describe('seccomp: the syscall tables', () => {
  it.skipIf(!existsSync(`${HEADERS}/unistd_64.h`))('are what scripts/gen-syscall-table.mjs makes from the kernel headers here (linux-libc-dev)', () => {
    const r = spawnSync(process.execPath, ['scripts/gen-syscall-table.mjs', '--check', HEADERS], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('know the numbers every ABI must have', () => {
    expect([SYSCALLS_X86_64.read, SYSCALLS_X86_64.mount, SYSCALLS_X86_64.clone3]).toEqual([0, 165, 435]);
    expect([SYSCALLS_X86.read, SYSCALLS_X86.socketcall]).toEqual([3, 102]);
    expect([SYSCALLS_X32.execve, SYSCALLS_X32.read]).toEqual([520, 0]);
  });
});

describe('seccomp: the cache of compiled filters', () => {
  it('compiles once per profile, then reads the file; a damaged file is compiled again', async () => {
    const { mkdtempSync, readdirSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { compiledFilter } = await import('../../../src/runtime/seccomp/step.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'hull-seccomp-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const profile = dockerDefault();
    const hex = await compiledFilter(profile, dir);
    expect(hex).toBe(encodeFilter(compileSeccomp(profile)).toString('hex'));
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^[0-9a-f]{64}\.bpf\.hex$/);
    writeFileSync(path.join(dir, file!), 'not hex');
    expect(await compiledFilter(profile, dir)).toBe(hex);
    expect(await compiledFilter(profile)).toBe(hex);
    expect(readFileSync(path.join(dir, file!), 'latin1')).toBe(hex);
    // Another profile, another entry.
    await compiledFilter({ defaultAction: 'SCMP_ACT_ALLOW' }, dir);
    expect(readdirSync(dir)).toHaveLength(2);
  });
});
