/**
 * A container without a mount namespace of its own makes its mounts in the runtime's: below a bind
 * of its root onto itself (plan.ts buildPlan), which `delete` detaches with everything below it, so
 * nothing of the container stays mounted on the host. The mount that was at the root before (a
 * snapshot containerd mounted there, or none) is recorded at create, so that only a mount over it
 * is ever detached.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MNT_DETACH, sys } from '../native/index.js';

const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The id of the topmost mount at `dir` in this process's mount namespace (none: null). */
export function topMountAt(dir: string): number | null {
  const target = path.resolve(dir);
  const at: { id: number; parent: number }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [id, parent, , , mountPoint] = line.split(' ');
    if (mountPoint !== undefined && unescape(mountPoint) === target) at.push({ id: Number(id), parent: Number(parent) });
  }
  // Stacked mounts at one point: each one's parent is the one below it; the top is nobody's parent.
  const top = at.find((m) => !at.some((other) => other.parent === m.id));
  return top?.id ?? null;
}

/** The mount point that holds `dir` in this process's mount namespace: `dir` itself or its nearest ancestor that is one. */
export function mountPointOf(dir: string): string {
  const target = path.resolve(dir);
  let best = '/';
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint === undefined) continue;
    const mp = unescape(mountPoint);
    if ((target === mp || target.startsWith(mp === '/' ? '/' : `${mp}/`)) && mp.length > best.length) best = mp;
  }
  return best;
}

/** Detaches the container's bind of `rootfs` (and its mounts) when there is one over the mount recorded at create (`below`). */
export function detachRootfsBind(rootfs: string, below: number | null): void {
  const top = topMountAt(rootfs);
  if (top === null || top === below) return; // the bind was never made (a create that failed early), or is gone
  sys.umount2(rootfs, MNT_DETACH);
}
