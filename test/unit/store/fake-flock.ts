// flock(2) semantics in one process, for unit tests without the native addon: locks belong to
// open files (keyed by device:inode), shared ones coexist, an exclusive one excludes all others;
// a busy non-blocking request throws EWOULDBLOCK like the addon's SystemError.
import { fstatSync } from 'node:fs';
import type { FlockFn } from '../../../src/store/lock.js';

export interface FakeFlock extends FlockFn {
  /** How many times a lock was found busy. */
  busy: number;
}

export function fakeFlock(): FakeFlock {
  const held = new Map<string, { exclusive?: number; shared: Set<number> }>();
  const fn = ((fd: number, op: number) => {
    const st = fstatSync(fd);
    const key = `${st.dev}:${st.ino}`;
    const state = held.get(key) ?? { shared: new Set<number>() };
    held.set(key, state);
    if (op & 8) {
      if (state.exclusive === fd) delete state.exclusive;
      state.shared.delete(fd);
      return;
    }
    const wantExclusive = (op & 2) !== 0;
    const othersShared = [...state.shared].some((f) => f !== fd);
    const othersExclusive = state.exclusive !== undefined && state.exclusive !== fd;
    if (othersExclusive || (wantExclusive && othersShared)) {
      fn.busy++;
      throw Object.assign(new Error('flock: EWOULDBLOCK'), { code: 'EWOULDBLOCK' });
    }
    if (wantExclusive) {
      state.shared.delete(fd);
      state.exclusive = fd;
    } else {
      if (state.exclusive === fd) delete state.exclusive;
      state.shared.add(fd);
    }
  }) as FakeFlock;
  fn.busy = 0;
  return fn;
}
