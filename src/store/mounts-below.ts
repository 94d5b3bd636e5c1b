/**
 * Mounts a killed process left below a directory of ours (a `hull build` killed with -9 leaves
 * its overlay mounts under `<root>/tmp/build-PID-…`): detached, deepest first, before the
 * directory is removed, so removing it never reaches into a mounted file system.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MNT_DETACH, sys } from '../native/index.js';

const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points at or below `dir` (from /proc/self/mountinfo), deepest first. */
export function mountsBelow(dir: string): string[] {
  const root = path.resolve(dir);
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined)
    .map(unescape)
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** Detaches every mount at or below `dir`; returns how many. */
export function unmountBelow(dir: string): number {
  const mounts = mountsBelow(dir);
  for (const m of mounts) {
    try {
      sys.umount2(m, MNT_DETACH);
    } catch {
      /* gone meanwhile */
    }
  }
  return mounts.length;
}
