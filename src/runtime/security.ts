/**
 * Security settings of a container, as Docker derives them: capabilities (`--cap-add`,
 * `--cap-drop`, `--privileged`), no-new-privileges and the seccomp profile (`--security-opt`),
 * `--read-only`, devices (`--device`). They are written into the runtime-spec at create time
 * (seccomp rules resolved against the container's capabilities, as Docker does); plan.ts and the
 * device-controller program read them from there at start. The flags' syntax is parsed at the
 * edge (src/options/security.ts, devices.ts); these take typed values.
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { CAPABILITY_NUMBERS, DEFAULT_CAPABILITIES } from './capabilities.js';
import { type DeviceRule, defaultDeviceRules } from './devices-bpf.js';
import { defaultProfile } from './seccomp/default-profile.js';
import { type DockerSeccompProfile, resolveProfile } from './seccomp/profile.js';
import type { RuntimeSpec, SpecDevice } from './spec.js';

/** A host device node made available in the container (Docker's HostConfig.Devices entry). */
export interface DeviceMapping {
  /** The device node on the host: an absolute path. */
  hostPath: string;
  /** Where the container sees it: an absolute path (Docker's default: the host path). */
  containerPath: string;
  /** The device controller's access: some of r (read), w (write), m (mknod), as 'rwm'. */
  permissions: string;
}

/** The seccomp profile: Docker's default when absent (none when privileged), none ('unconfined'), or this profile. */
export type SeccompChoice = 'unconfined' | DockerSeccompProfile;

export interface SecurityOptions {
  /** All capabilities, all host devices, no seccomp, no masked or read-only paths. */
  privileged?: boolean;
  /** Capability names, with or without CAP_, in any case; 'ALL' for all (Docker's CapAdd/CapDrop). */
  capAdd?: string[];
  capDrop?: string[];
  /** `no-new-privileges`: no privileges gained through execve (setuid, file capabilities). */
  noNewPrivileges?: boolean;
  seccomp?: SeccompChoice;
  /** The container's root file system mounted read-only. */
  readOnly?: boolean;
  devices?: DeviceMapping[];
  /** `--device-cgroup-rule`: more devices the container may use (after Docker's default rules and `devices`'). */
  deviceCgroupRules?: DeviceRule[];
}

/**
 * Every capability this kernel knows (/proc/sys/kernel/cap_last_cap) that hull itself may pass on
 * (its own bounding set: a host can withhold some even from root), as OCI names.
 */
export function allCapabilities(lastCap = readLastCap(), bounding = readOwnBounding()): string[] {
  return Object.entries(CAPABILITY_NUMBERS)
    .filter(([, n]) => n <= lastCap && (bounding & (1n << BigInt(n))) !== 0n)
    .map(([name]) => `CAP_${name}`);
}

function readOwnBounding(): bigint {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : ~0n;
  } catch {
    return ~0n;
  }
}

function readLastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return Math.max(...Object.values(CAPABILITY_NUMBERS));
  }
}

/** 'sys_admin', 'CAP_SYS_ADMIN', 'Sys_Admin' → 'CAP_SYS_ADMIN'; 'all' → 'ALL'. Unknown: UsageError. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const bare = upper.replace(/^CAP_/, '');
  if (CAPABILITY_NUMBERS[bare] === undefined) throw new UsageError(`invalid capability: ${name} (unknown capability: "CAP_${bare}")`);
  return `CAP_${bare}`;
}

/** Docker's rules: --cap-add ALL adds all but the dropped; --cap-drop ALL keeps only the added; else defaults − drop + add. */
export function tweakCapabilities(capAdd: readonly string[], capDrop: readonly string[], privileged: boolean, all = allCapabilities()): string[] {
  if (privileged) return [...all];
  const add = capAdd.map(normalizeCapability);
  const drop = capDrop.map(normalizeCapability);
  let caps: string[];
  if (add.includes('ALL')) {
    caps = all.filter((c) => !drop.includes(c));
  } else if (drop.includes('ALL')) {
    caps = add.filter((c) => c !== 'ALL');
  } else {
    caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  }
  return [...new Set(caps)];
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export interface DeviceNode {
  device: SpecDevice;
  rule: DeviceRule;
  /** Where it is on the host (a user namespace binds it from there). */
  hostPath: string;
}

/** Annotation: container path → host path of `--device` nodes whose paths differ (JSON). */
export const ANNOTATION_DEVICE_SOURCES = 'io.hull.device.sources';

function deviceOf(hostPath: string, containerPath: string, access: string): DeviceNode {
  let st;
  try {
    st = lstatSync(hostPath, { bigint: false });
  } catch (err) {
    throw new UsageError(`error gathering device information while adding custom device "${hostPath}": ${(err as Error).message}`);
  }
  const fmt = st.mode & S_IFMT;
  if (fmt !== S_IFCHR && fmt !== S_IFBLK) throw new UsageError(`${hostPath} is not a device node`);
  const type = fmt === S_IFCHR ? 'c' : 'b';
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  return {
    device: { path: containerPath, type, major, minor, fileMode: st.mode & 0o7777, uid: 0, gid: 0 },
    rule: { allow: true, type, major, minor, access },
    hostPath,
  };
}

/** A `--device` mapping: the host node's numbers and mode, as a spec device and a device-controller rule. */
export function deviceNode(mapping: DeviceMapping): DeviceNode {
  return deviceOf(mapping.hostPath, path.posix.normalize(mapping.containerPath), mapping.permissions);
}

const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The host's device nodes (for --privileged), as runc's HostDevices finds them. */
export function hostDevices(dir = '/dev', depth = 0): DeviceNode[] {
  const out: DeviceNode[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < 3 && !SKIPPED_DEV_DIRS.has(e.name)) out.push(...hostDevices(p, depth + 1));
    } else if ((e.isCharacterDevice() || e.isBlockDevice()) && p !== '/dev/console') {
      try {
        out.push(deviceOf(p, p, 'rwm'));
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

function kernelVersion(): [number, number] {
  const [maj = 0, min = 0] = release()
    .split('.')
    .map((n) => parseInt(n, 10));
  return [maj, min];
}

/** Applies the security options to a spec made by buildSpec (Docker's defaults are already in it). */
export function applySecurity(spec: RuntimeSpec, opts: SecurityOptions): void {
  const privileged = opts.privileged ?? false;
  const caps = tweakCapabilities(opts.capAdd ?? [], opts.capDrop ?? [], privileged);
  const isRoot = spec.process.user.uid === 0;
  spec.process.capabilities = { bounding: caps, effective: isRoot ? caps : [], permitted: isRoot ? caps : [], inheritable: [], ambient: [] };
  spec.process.noNewPrivileges = opts.noNewPrivileges ?? false;
  if (opts.readOnly) spec.root.readonly = true;

  const profile = opts.seccomp ?? (privileged ? 'unconfined' : defaultProfile());
  if (profile !== 'unconfined') {
    spec.linux.seccomp = resolveProfile(profile, {
      capabilities: caps,
      goArch: process.arch === 'x64' ? 'amd64' : process.arch,
      nativeArch: process.arch === 'x64' ? 'SCMP_ARCH_X86_64' : `SCMP_ARCH_${process.arch.toUpperCase()}`,
      kernel: kernelVersion(),
    });
  }

  const resources = (spec.linux.resources ??= {});
  const devices: DeviceNode[] = [];
  if (privileged) {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    for (const m of spec.mounts) {
      if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro').concat('rw');
    }
    devices.push(...hostDevices());
    resources.devices = [{ allow: true, access: 'rwm' }];
  } else {
    resources.devices = defaultDeviceRules();
  }
  for (const d of opts.devices ?? []) {
    const node = deviceNode(d);
    devices.push(node);
    resources.devices.push(node.rule);
  }
  for (const rule of opts.deviceCgroupRules ?? []) resources.devices.push({ ...rule, allow: true });
  if (devices.length > 0) {
    const byPath = new Map(devices.map((d) => [d.device.path, d.device]));
    spec.linux.devices = [...byPath.values()];
    const moved = Object.fromEntries(devices.filter((d) => d.hostPath !== d.device.path).map((d) => [d.device.path, d.hostPath]));
    if (Object.keys(moved).length > 0) spec.annotations = { ...spec.annotations, [ANNOTATION_DEVICE_SOURCES]: JSON.stringify(moved) };
  }
}
