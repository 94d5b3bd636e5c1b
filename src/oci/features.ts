/**
 * What this runtime supports, in the runtime-spec's features.md shape (`hull-runc features`, which
 * containerd reads): built from the tables the code itself uses, so it cannot claim more than it does.
 */
import { CAPABILITY_NUMBERS } from '../runtime/capabilities.js';
import { MOUNT_OPTION_NAMES } from '../runtime/plan.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../runtime/seccomp/profile.js';
import { OCI_VERSION } from '../runtime/spec.js';

export interface OciFeatures {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
    seccomp: { enabled: boolean; actions: string[]; operators: string[]; archs: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
  };
  annotations: Record<string, string>;
}

export function ociFeatures(version: string): OciFeatures {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...MOUNT_OPTION_NAMES].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: Object.keys(CAPABILITY_NUMBERS),
      // cgroup v2 only (the cgroupfs layout; --systemd-cgroup paths are mapped onto it, without D-Bus).
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTIONS].sort(),
        operators: [...SECCOMP_OPERATORS].sort(),
        archs: ['SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.hull.version': version },
  };
}
