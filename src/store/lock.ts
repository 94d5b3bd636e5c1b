/**
 * The store lock: `flock(2)` on `<root>/store.lock`, so it is released by the kernel whatever
 * kills a holder (kill -9 included) and nothing stale is ever left to break.
 *
 *   shared     load, tag, container creation (resolve → record written), check
 *   exclusive  rmi, prune, check --repair (anything that deletes)
 *
 * flock blocks the calling thread, so it is only ever asked with LOCK_NB; a busy lock is retried
 * on a short async back-off (1 ms doubling to 50 ms) and the event loop stays free.
 * The same primitive guards one layer's unpack (`locks/layer-<hex>`): whoever holds it unpacks,
 * the others wait and then find the layer stored.
 */

import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';

export type FlockFn = (fd: number, operation: number) => void;

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export type LockMode = 'shared' | 'exclusive';

export interface LockHandle {
  /** The lock file's fd while held. */
  readonly fd: number;
  /** Releases the lock (closing its fd); safe to call more than once. */
  release(): void;
}

/** The native flock(2) (the addon is loaded on the first call, not on import). */
export const nativeFlock: FlockFn = (fd, operation) => sys.flock(fd, operation);

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'EWOULDBLOCK' || code === 'EAGAIN';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function openLockFile(file: string): number {
  try {
    return openSync(file, 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'open', file);
  }
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return openSync(file, 'a', 0o600);
  } catch (err) {
    throw fromNodeError(err, 'open', file);
  }
}

/** Takes `mode` on `file` (created if missing, unless `onMissing`), waiting as `opts` says. */
export interface LockOptions {
  /** Called once if the lock was busy at first (to tell a user what hull is waiting for). */
  onWait?: () => void;
  /** Give up after this long with the error `onTimeout` makes (default: wait as long as it takes). */
  timeoutMs?: number;
  onTimeout?: () => Error;
  /** The lock file must exist already: neither it nor its directory is created, and its absence
   *  is reported by `onMissing` (by default both are made). A lock that lives inside what it
   *  guards (a container's directory) is never created again while that is being removed. */
  onMissing?: () => Error;
}

export async function acquireLock(file: string, mode: LockMode, flock: FlockFn, opts: LockOptions = {}): Promise<LockHandle> {
  const fd = opts.onMissing ? openExisting(file, opts.onMissing) : openLockFile(file);
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  const op = (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB;
  let delay = 1;
  let waited = false;
  for (;;) {
    try {
      flock(fd, op);
      break;
    } catch (err) {
      if (!isBusy(err)) {
        closeSync(fd);
        throw fromNodeError(err, 'flock', file);
      }
    }
    if (!waited) {
      waited = true;
      opts.onWait?.();
    }
    if (Date.now() > deadline) {
      closeSync(fd);
      throw opts.onTimeout?.() ?? new Error(`timed out waiting for ${file}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  return handle(fd, flock);
}

function openExisting(file: string, onMissing: () => Error): number {
  try {
    return openSync(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw onMissing();
    throw fromNodeError(err, 'open', file);
  }
}

/** `fn` run holding the exclusive lock of `file` (released however `fn` ends). */
export async function withExclusiveLock<T>(file: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = await acquireLock(file, 'exclusive', nativeFlock);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Takes the lock only if it is free now; undefined when it is busy. */
export function tryLock(file: string, mode: LockMode, flock: FlockFn): LockHandle | undefined {
  const fd = openLockFile(file);
  try {
    flock(fd, (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB);
  } catch (err) {
    closeSync(fd);
    if (isBusy(err)) return undefined;
    throw fromNodeError(err, 'flock', file);
  }
  return handle(fd, flock);
}

function handle(fd: number, flock: FlockFn): LockHandle {
  let open = true;
  return {
    fd,
    release() {
      if (!open) return;
      open = false;
      try {
        flock(fd, LOCK_UN);
      } catch {
        /* closing releases it anyway */
      }
      closeSync(fd);
    },
  };
}
