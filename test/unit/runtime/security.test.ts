// Capability flags, --security-opt, --device parsing, and the device-controller BPF program
// (run in a small eBPF interpreter over bpf_cgroup_dev_ctx).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES, capabilityMask } from '../../../src/runtime/capabilities.js';
import { type BpfInsn, DEVCG, type DeviceRule, EBPF, defaultDeviceRules, deviceFilterProgram, encodeBpfProgram } from '../../../src/runtime/devices-bpf.js';
import { allCapabilities, applySecurity, deviceNode, normalizeCapability, tweakCapabilities } from '../../../src/runtime/security.js';
import { buildSpec } from '../../../src/runtime/specconv.js';
import { buildPlan } from '../../../src/runtime/plan.js';

const ALL = allCapabilities(40, (1n << 41n) - 1n);

describe('capabilities', () => {
  it('normalizes names with or without CAP_, in any case', () => {
    expect(normalizeCapability('sys_admin')).toBe('CAP_SYS_ADMIN');
    expect(normalizeCapability('Cap_Net_Admin')).toBe('CAP_NET_ADMIN');
    expect(normalizeCapability('all')).toBe('ALL');
    expect(() => normalizeCapability('CAP_FLY')).toThrow(/invalid capability/);
  });

  it("Docker's default set is CapEff 00000000a80425fb", () => {
    expect(capabilityMask(tweakCapabilities([], [], false, ALL)).toString(16)).toBe('a80425fb');
  });

  it('adds and drops; ALL on either side', () => {
    const caps = tweakCapabilities(['sys_admin'], ['NET_RAW', 'cap_mknod'], false, ALL);
    expect(caps).toContain('CAP_SYS_ADMIN');
    expect(caps).not.toContain('CAP_NET_RAW');
    expect(caps).not.toContain('CAP_MKNOD');
    expect(tweakCapabilities([], ['ALL'], false, ALL)).toEqual([]);
    expect(tweakCapabilities(['chown'], ['all'], false, ALL)).toEqual(['CAP_CHOWN']);
    const most = tweakCapabilities(['ALL'], ['SYS_ADMIN'], false, ALL);
    expect(most).toHaveLength(ALL.length - 1);
    expect(tweakCapabilities([], ['ALL'], true, ALL)).toEqual(ALL);
  });

  it('--privileged gets only what hull itself holds (a host may withhold some from root)', () => {
    const bounding = ((1n << 41n) - 1n) & ~(1n << 24n); // no CAP_SYS_RESOURCE
    expect(allCapabilities(40, bounding)).not.toContain('CAP_SYS_RESOURCE');
    expect(allCapabilities(40, bounding)).toHaveLength(40);
  });
});

describe('device mappings', () => {
  it("a host node's numbers and mode, at the container path, as a spec device and a controller rule", () => {
    expect(deviceNode({ hostPath: '/dev/null', containerPath: '/dev/null', permissions: 'rwm' }).device).toMatchObject({
      path: '/dev/null',
      type: 'c',
      major: 1,
      minor: 3,
    });
    const z = deviceNode({ hostPath: '/dev/zero', containerPath: '/dev/sub/../nothing', permissions: 'r' });
    expect(z.device).toMatchObject({ path: '/dev/nothing', major: 1, minor: 5 });
    expect(z.rule).toEqual({ allow: true, type: 'c', major: 1, minor: 5, access: 'r' });
    expect(z.hostPath).toBe('/dev/zero');
    expect(() => deviceNode({ hostPath: '/etc/passwd', containerPath: '/x', permissions: 'rwm' })).toThrow(/not a device/);
    expect(() => deviceNode({ hostPath: '/no/such/dev', containerPath: '/x', permissions: 'rwm' })).toThrow(/error gathering device information/);
  });
});

/** Runs the device program (the subset the generator emits) on one access. */
function runDev(prog: readonly BpfInsn[], type: 'b' | 'c', access: string, major: number, minor: number): number {
  const t = type === 'b' ? DEVCG.DEV_BLOCK : DEVCG.DEV_CHAR;
  let acc = 0;
  for (const ch of access) acc |= ch === 'r' ? DEVCG.ACC_READ : ch === 'w' ? DEVCG.ACC_WRITE : DEVCG.ACC_MKNOD;
  const ctx = [(acc << 16) | t, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length;) {
    const i = prog[pc]!;
    switch (i.code) {
      case EBPF.LDX_MEM_W:
        r[i.dst] = ctx[i.off / 4]! >>> 0;
        break;
      case EBPF.ALU32_AND_K:
        r[i.dst] = (r[i.dst]! & i.imm) >>> 0;
        break;
      case EBPF.ALU32_RSH_K:
        r[i.dst] = r[i.dst]! >>> i.imm;
        break;
      case EBPF.ALU64_MOV_K:
        r[i.dst] = i.imm;
        break;
      case EBPF.ALU64_MOV_X:
        r[i.dst] = r[i.src]!;
        break;
      case EBPF.JMP_JNE_K:
        if (r[i.dst] !== i.imm >>> 0) pc += i.off;
        break;
      case EBPF.JMP_JNE_X:
        if (r[i.dst] !== r[i.src]) pc += i.off;
        break;
      case EBPF.JMP_EXIT:
        return r[0]!;
      default:
        throw new Error(`opcode ${i.code}`);
    }
    pc++;
  }
  throw new Error('fell off the program');
}

describe('device controller program', () => {
  const prog = deviceFilterProgram(defaultDeviceRules());

  it('allows the default devices and mknod of anything, nothing else', () => {
    expect(runDev(prog, 'c', 'rw', 1, 3)).toBe(1); // /dev/null
    expect(runDev(prog, 'c', 'rw', 136, 7)).toBe(1); // a pty
    expect(runDev(prog, 'b', 'm', 8, 0)).toBe(1); // mknod a disk: allowed, as Docker
    expect(runDev(prog, 'b', 'r', 8, 0)).toBe(0); // reading it: not
    expect(runDev(prog, 'b', 'rw', 254, 0)).toBe(0);
    expect(runDev(prog, 'c', 'r', 1, 1)).toBe(0); // /dev/mem
    expect(runDev(prog, 'c', 'r', 1, 11)).toBe(0); // /dev/kmsg
  });

  it('the last matching rule wins, and partial access is checked', () => {
    const rules: DeviceRule[] = [...defaultDeviceRules(), { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }];
    const p = deviceFilterProgram(rules);
    expect(runDev(p, 'b', 'r', 7, 0)).toBe(1);
    expect(runDev(p, 'b', 'rw', 7, 0)).toBe(0);
    expect(runDev(p, 'b', 'r', 7, 1)).toBe(0);
    const denyAfter = deviceFilterProgram([...rules, { allow: false, type: 'b', major: 7, minor: 0 }]);
    expect(runDev(denyAfter, 'b', 'r', 7, 0)).toBe(0);
  });

  it('allow-all (privileged) is one unconditional rule; nothing unreachable follows it', () => {
    const p = deviceFilterProgram([{ allow: true, access: 'rwm' }]);
    expect(runDev(p, 'b', 'rw', 8, 0)).toBe(1);
    expect(p[p.length - 1]!.code).toBe(EBPF.JMP_EXIT);
    expect(p.filter((i) => i.code === EBPF.JMP_EXIT)).toHaveLength(1);
    expect(encodeBpfProgram(p).length).toBe(p.length * 8);
  });
});

describe('applySecurity on a spec, and the plan it gives', () => {
  const base = () =>
    buildSpec({
      image: { config: { Cmd: ['sh'] } },
      user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
      hostname: 'h',
      rootfsPath: '/run/x/rootfs',
    });
  const layers = { lower: ['/l/a'], upper: '/u', work: '/w' };
  const plan = (spec: ReturnType<typeof base>) => buildPlan(spec, layers, { createCwd: false, isFile: () => false, seccompFilter: '00'.repeat(8) });

  it("default: Docker's caps, seccomp before setUser, the default device rules", () => {
    const spec = base();
    applySecurity(spec, {});
    expect(spec.process.capabilities?.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(spec.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(spec.linux.resources?.devices?.[0]).toEqual({ allow: false, access: 'rwm' });
    const ops = plan(spec).map((s) => s.op);
    expect(ops.indexOf('seccomp')).toBe(ops.indexOf('setUser') - 1);
  });

  it('no-new-privileges: seccomp last before execve', () => {
    const spec = base();
    applySecurity(spec, { noNewPrivileges: true });
    const ops = plan(spec).map((s) => s.op);
    expect(ops.slice(-4)).toEqual(['capabilities', 'startGate', 'seccomp', 'exec']);
    expect(ops.indexOf('closeFds')).toBeLessThan(ops.indexOf('seccomp'));
    expect(ops).toContain('noNewPrivs');
  });

  it('a spec with a profile needs its compiled filter', () => {
    const spec = base();
    applySecurity(spec, {});
    expect(() => buildPlan(spec, layers, { createCwd: false, isFile: () => false })).toThrow(/no compiled filter/);
  });

  it('privileged: no seccomp, no masks, rw /sys, every device allowed', () => {
    const spec = base();
    applySecurity(spec, { privileged: true });
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.mounts.find((m) => m.destination === '/sys')?.options).not.toContain('ro');
    expect(spec.linux.resources?.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(plan(spec).some((s) => s.op === 'seccomp')).toBe(false);
  });

  it('seccomp=unconfined and --device', () => {
    const spec = base();
    applySecurity(spec, { seccomp: 'unconfined', devices: [{ hostPath: '/dev/zero', containerPath: '/dev/sub/z', permissions: 'r' }] });
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.devices).toEqual([{ path: '/dev/sub/z', type: 'c', major: 1, minor: 5, fileMode: expect.any(Number), uid: 0, gid: 0 }]);
    expect(spec.linux.resources?.devices?.at(-1)).toEqual({ allow: true, type: 'c', major: 1, minor: 5, access: 'r' });
    expect(JSON.parse(spec.annotations?.['io.hull.device.sources'] ?? '{}')).toEqual({ '/dev/sub/z': '/dev/zero' });
    const steps = plan(spec);
    expect(steps).toContainEqual({ op: 'mkdirs', path: '/dev/sub', mode: 0o755, uid: 0, gid: 0 });
    expect(steps).toContainEqual(expect.objectContaining({ op: 'mknod', path: '/dev/sub/z', major: 1, minor: 5 }));
  });
});
