/**
 * One lock per container, shared by every hull process: flock(2) on `<container dir>/lock`.
 * LOCK_NB with a short async retry, so a waiting hull never blocks its event loop (or a thread).
 * A lock file that was unlinked while we waited means the container was removed meanwhile.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { ConflictError, ContainerNotFoundError, fromNodeError } from '../errors.js';
import { LOCK_EX, LOCK_NB, sys } from '../native/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withLock<T>(file: string, what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError(what);
    throw fromNodeError(err, 'open', file);
  }
  try {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        sys.flock(fd, LOCK_EX | LOCK_NB);
        break;
      } catch (err) {
        const code = (err as { errno?: string }).errno;
        if (code !== 'EWOULDBLOCK' && code !== 'EAGAIN') throw err;
        if (Date.now() > deadline) throw new ConflictError(`container ${what} is busy: another hull command holds its lock (${file})`);
        await sleep(Math.min(2 + attempt * 2, 25) + Math.random() * 5);
      }
    }
    if (fstatSync(fd).nlink === 0) throw new ContainerNotFoundError(what);
    return await fn();
  } finally {
    closeSync(fd);
  }
}
