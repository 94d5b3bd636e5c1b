/**
 * The OCI runtime-spec config.json (the subset hull reads and writes): the internal description
 * of a container. `hull run` turns image config + flags into one of these (specconv.ts), and the
 * plan builder (plan.ts) turns one of these into the steps the native executor performs.
 */

import type { DeviceRule } from './devices-bpf.js';
import type { LinuxSeccomp } from './seccomp/profile.js';

export interface SpecUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface SpecCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface SpecRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface SpecProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: SpecUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: SpecCapabilities;
  rlimits?: SpecRlimit[];
  noNewPrivileges?: boolean;
  /** /proc/PID/oom_score_adj, -1000..1000 (written by the runtime before the process starts). */
  oomScoreAdj?: number;
}

export interface SpecMount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

/** linux.resources (OCI runtime-spec config-linux.md#control-groups), the parts hull applies on cgroup v2. */
export interface SpecDeviceRate {
  major: number;
  minor: number;
  rate: number;
}

export interface SpecResources {
  memory?: {
    /** bytes; memory.max */
    limit?: number;
    /** bytes; memory.low */
    reservation?: number;
    /** memory + swap in bytes (-1: unlimited); memory.swap.max = swap - limit */
    swap?: number;
    disableOOMKiller?: boolean;
    /** 0..100; cgroup v1 only (discarded with a warning on v2, as Docker does). */
    swappiness?: number;
  };
  cpu?: {
    /** cgroup v1 shares (2..262144); cpu.weight by runc's conversion */
    shares?: number;
    /** cpu.max "quota period", microseconds */
    quota?: number;
    period?: number;
    /** cpuset.cpus / cpuset.mems */
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: number };
  /** The device controller's rules (applied as a BPF program on cgroup v2). */
  devices?: DeviceRule[];
  blockIO?: {
    /** 10..1000; io.bfq.weight, else io.weight by runc's conversion */
    weight?: number;
    throttleReadBpsDevice?: SpecDeviceRate[];
    throttleWriteBpsDevice?: SpecDeviceRate[];
    /** IO per second; io.max riops / wiops. */
    throttleReadIOPSDevice?: SpecDeviceRate[];
    throttleWriteIOPSDevice?: SpecDeviceRate[];
  };
}

/** linux.devices: a device node made in the container's /dev. */
export interface SpecDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** linux.uidMappings / gidMappings. */
export interface SpecIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface SpecLinux {
  namespaces: { type: NamespaceType; path?: string }[];
  seccomp?: LinuxSeccomp;
  devices?: SpecDevice[];
  uidMappings?: SpecIdMapping[];
  gidMappings?: SpecIdMapping[];
  cgroupsPath?: string;
  resources?: SpecResources;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  /** Kernel parameters written under /proc/sys in the container's namespaces (`net.ipv4.ip_forward`: "1"). */
  sysctl?: Record<string, string>;
}

/** One OCI hook: a host program run at a point of the lifecycle with the state JSON on stdin. */
export interface SpecHook {
  path: string;
  /** argv, argv[0] included (default: [path]). */
  args?: string[];
  env?: string[];
  /** Seconds; the hook is killed and counts as failed after it. */
  timeout?: number;
}

/** OCI hooks (config.md#posix-platform-hooks), by the point they run at. */
export interface SpecHooks {
  /** Deprecated by the runtime-spec, still run: as createRuntime. */
  prestart?: SpecHook[];
  createRuntime?: SpecHook[];
  createContainer?: SpecHook[];
  startContainer?: SpecHook[];
  poststart?: SpecHook[];
  poststop?: SpecHook[];
}

export interface RuntimeSpec {
  ociVersion: string;
  process: SpecProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  /** The NIS domain name of the container's UTS namespace (setdomainname). */
  domainname?: string;
  mounts: SpecMount[];
  linux: SpecLinux;
  annotations?: Record<string, string>;
  hooks?: SpecHooks;
}

export const OCI_VERSION = '1.2.0';

/** Docker's masked paths (moby oci/defaults.go). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The mounts every container gets (Docker's defaults, cgroup read-only). */
export function defaultMounts(): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
}
