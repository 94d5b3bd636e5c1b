/**
 * Removing containers, and releasing what an ended container still holds, so that a kill -9 at
 * any point of `rm`, `run -d`, `start` or of a monitor leaves nothing the next command cannot
 * finish (every function here runs under the container's lock):
 *
 *   rm        tombstone (status `removing`, with the pids to kill) → the processes killed, the
 *             monitor gone → cgroup → network (netns, address lease, published ports) → anonymous
 *             volumes → run files and writable layer → the record → the name → the lock file
 *   ended     a container that ended without its hull or monitor cleaning up (killed) still holds
 *             its cgroup and network: released by whichever command meets it next; an ended
 *             `--rm` container is removed, as Docker's daemon would
 */
import { closeSync, existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sys } from '../native/index.js';
import type { Networking } from '../network/manager.js';
import type { ContainerVolumes } from '../volume/containers.js';
import { ContainerCgroup, cgroupHost } from './cgroups.js';
import { crashPoint } from './crash-point.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { openProcess } from './liveness.js';
import { readMonitorStatus } from './monitor-status.js';
import { trace } from '../trace.js';
import { containerEvent } from '../events/emit.js';
import { holdsSharedShm, releaseSharedShm } from './shm.js';

export interface RemovalParts {
  readonly containers: ContainerStore;
  readonly network: Networking;
  readonly volumes: ContainerVolumes;
}

const SIGKILL = 9;

/** The container's cgroup, when the host has a cgroup2 hierarchy and the cgroup exists. */
function existingCgroup(record: ContainerRecord): ContainerCgroup | undefined {
  const root = cgroupHost().root;
  return root === undefined ? undefined : ContainerCgroup.existing(root, record.id, record.cgroupParent);
}

/** Whether an ended container still holds host resources (its cgroup, its network). */
export function holdsResources(parts: RemovalParts, record: ContainerRecord): boolean {
  return (
    parts.network.holds(record.id) ||
    existingCgroup(record) !== undefined ||
    (record.ipcShareable === true && holdsSharedShm(parts.containers.runDir(record.id)))
  );
}

/** The cgroup parent goes once its last container's cgroup is gone (hull made it; it leaves no trace). */
function removeEmptyCgroupParent(record: ContainerRecord): void {
  const root = cgroupHost().root;
  if (root === undefined) return;
  const dir = path.join(root, record.cgroupParent);
  if (!dir.startsWith(root + path.sep)) return;
  try {
    rmdirSync(dir);
  } catch {
    // still holds other containers' cgroups, or is already gone
  }
}

/** Release what an ended container holds: its cgroup (killing anything left in it) and its network. */
export async function releaseResources(parts: RemovalParts, record: ContainerRecord): Promise<void> {
  await existingCgroup(record)?.remove();
  removeEmptyCgroupParent(record);
  crashPoint('release: cgroup removed');
  await parts.network.tearDown(record.id);
  releaseSharedShm(parts.containers.runDir(record.id));
}

/** Kill a process named by pid + start time (never another that reuses the pid) and wait for its end. */
async function killAndWait(pid: number | undefined, startTime: number | undefined, limitMs: number): Promise<void> {
  // A monitor's exit command (`rm` of a --rm container) runs in the monitor's own process.
  if (pid === process.pid) return;
  const fd = await openProcess(pid, startTime);
  if (fd === undefined) return;
  try {
    try {
      sys.pidfdSignal(fd, SIGKILL);
    } catch (err) {
      if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
    }
    await sys.pidfdWait(fd, limitMs);
  } finally {
    closeSync(fd);
  }
}

/**
 * The tombstone written, the rest of the removal (see the head of this file). Redone from the
 * start by whoever meets the tombstone next: every step is idempotent.
 */
export async function finishRemoval(parts: RemovalParts, record: ContainerRecord): Promise<void> {
  const { containers } = parts;
  const state = record.state;
  // No restart from here on; then the processes the tombstone or the monitor's status name.
  if (existsSync(containers.dir(record.id))) {
    mkdirSync(containers.runDir(record.id), { recursive: true });
    writeFileSync(containers.stopMarkerPath(record.id), '');
  }
  const monitor = readMonitorStatus(containers.monitorStatusPath(record.id));
  await killAndWait(state.pid, state.pidStartTime, 10_000);
  if (monitor?.pid !== undefined) await killAndWait(monitor.pid, monitor.pidStartTime, 10_000);
  // The cgroup: cgroup.kill takes whatever is left of the container (a restart's new process too).
  await existingCgroup(record)?.remove();
  removeEmptyCgroupParent(record);
  crashPoint('rm: processes killed, cgroup removed');
  // The monitor goes once its container has (its exit command then finds no container).
  await killAndWait(monitor?.monitorPid ?? state.monitorPid, monitor?.monitorPid !== undefined ? monitor.monitorStartTime : state.monitorStartTime, 15_000);
  trace('rm: processes gone');
  await parts.network.tearDown(record.id);
  releaseSharedShm(containers.runDir(record.id));
  crashPoint('rm: network released');
  if (state.removeVolumes) await parts.volumes.removeAnonymous(record.mounts);
  crashPoint('rm: volumes removed');
  await containers.remove(record);
  containerEvent(containers.runRoot, record, 'destroy');
}
