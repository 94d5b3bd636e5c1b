/**
 * One lock per container, shared by every hull process: flock(2) on `<container dir>/lock`, taken
 * with the store's lock primitive (LOCK_NB and a short async retry, so a waiting hull never blocks
 * its event loop). A lock file unlinked while we waited means the container was removed meanwhile.
 */
import { fstatSync } from 'node:fs';
import { ConflictError, ContainerNotFoundError } from '../errors.js';
import { acquireLock, nativeFlock } from '../store/lock.js';

export async function withLock<T>(file: string, what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const lock = await acquireLock(file, 'exclusive', nativeFlock, {
    timeoutMs,
    onTimeout: () => new ConflictError(`container ${what} is busy: another hull command holds its lock (${file})`),
    onMissing: () => new ContainerNotFoundError(what),
  });
  try {
    if (fstatSync(lock.fd).nlink === 0) throw new ContainerNotFoundError(what);
    return await fn();
  } finally {
    lock.release();
  }
}
