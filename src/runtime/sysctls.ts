/**
 * linux.sysctl: which keys a container may set, and where each is written. runc's rules (its
 * config validator): net.* only in a network namespace of the container's own (or one joined by
 * path), the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) only in an IPC namespace
 * that is not the host's; a key no namespace covers is refused. The plan writes each under
 * /proc/sys, in the container's namespaces, before /proc/sys is made read-only.
 */
import { UsageError } from '../errors.js';
import type { RuntimeSpec } from './spec.js';

/** The IPC namespace's keys (besides fs.mqueue.*): Docker's and runc's list. */
export const IPC_SYSCTLS: readonly string[] = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

/** The /proc/sys file of a key (`net.ipv4.ip_forward` → /proc/sys/net/ipv4/ip_forward); a key that could leave /proc/sys is refused. */
export function sysctlPath(key: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) throw new UsageError(`invalid sysctl key '${key}'`);
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/** Refuses a sysctl the container's namespaces do not make its own (runc's messages). */
export function checkSysctls(spec: RuntimeSpec): void {
  const has = (type: 'network' | 'ipc' | 'uts') => spec.linux.namespaces.some((n) => n.type === type);
  for (const key of Object.keys(spec.linux.sysctl ?? {})) {
    sysctlPath(key);
    if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) {
      if (!has('ipc')) throw new UsageError(`sysctl "${key}" is not allowed in the hosts ipc namespace`);
    } else if (key.startsWith('net.')) {
      if (!has('network')) throw new UsageError(`sysctl "${key}" not allowed in host network namespace`);
    } else if (key === 'kernel.domainname' || key === 'kernel.hostname') {
      if (!has('uts')) throw new UsageError(`sysctl "${key}" is not allowed in the hosts uts namespace`);
    } else {
      throw new UsageError(`sysctl "${key}" is not in a separate kernel namespace`);
    }
  }
}
