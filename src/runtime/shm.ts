/**
 * The /dev/shm of a container whose IPC namespace others may join (`--ipc shareable`): a tmpfs
 * mounted on the host side, in the container's run directory, and bound at /dev/shm into it and
 * into every container that joins it (`--ipc container:NAME`) — a mount of another container's
 * mount namespace cannot be bound from /proc/PID/root. It is made when the container starts and
 * released with its other resources when it has ended (removal.ts).
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { sys } from '../native/index.js';

const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MNT_DETACH = 0x2;

/** Where the container's shared /dev/shm is mounted on the host. */
export function sharedShmPath(runDir: string): string {
  return path.join(runDir, 'shm');
}

/** Whether the tmpfs is mounted on `dir`: its device differs from its parent's (false when `dir` is not there). */
function isMountPoint(dir: string): boolean {
  const st = statSync(dir, { throwIfNoEntry: false });
  return st !== undefined && st.dev !== statSync(path.dirname(dir)).dev;
}

/** Mount the container's shared /dev/shm (its --shm-size, else Docker's default size; mode 1777) unless it is already there. */
export function mountSharedShm(runDir: string, size?: number): string {
  const dir = sharedShmPath(runDir);
  mkdirSync(dir, { recursive: true });
  if (!isMountPoint(dir))
    sys.mount('shm', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${size !== undefined && size > 0 ? size : '65536k'}`);
  return dir;
}

/** Whether the container's shared /dev/shm is mounted (a resource an ended container may still hold). */
export function holdsSharedShm(runDir: string): boolean {
  return isMountPoint(sharedShmPath(runDir));
}

/** Unmount and remove the container's shared /dev/shm (idempotent). */
export function releaseSharedShm(runDir: string): void {
  const dir = sharedShmPath(runDir);
  if (statSync(dir, { throwIfNoEntry: false }) === undefined) return; // never made (or released)
  if (isMountPoint(dir)) sys.umount2(dir, MNT_DETACH);
  try {
    rmdirSync(dir);
  } catch {
    // not there
  }
}
