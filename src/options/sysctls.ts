/**
 * `--sysctl KEY=VALUE` → Docker's Sysctls map, only the namespaced keys Docker takes (its CLI's
 * ValidateSysctl): kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced, and
 * fs.mqueue.* and net.*. Whether the container's namespaces allow each (its own IPC namespace for
 * the kernel.* ones, its own network namespace for net.*) is the library's check (runtime/sysctls.ts).
 */
import { UsageError } from '../errors.js';
import { IPC_SYSCTLS } from '../runtime/sysctls.js';

/** Whether Docker takes the key at all (its allow-list). */
export function isNamespacedSysctl(key: string): boolean {
  return IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.') || key.startsWith('net.');
}

export function parseSysctls(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq < 0 || !isNamespacedSysctl(e.slice(0, eq))) throw new UsageError(`invalid argument "${e}" for "--sysctl" flag: sysctl '${e}' is not whitelisted`);
    out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}
