/**
 * Crash-safe file writes: data goes to a private temporary file (in the store's `tmp/`, on the
 * same file system), is fsynced, then renamed over the destination, and the directory is fsynced.
 * A reader sees the old content or the new, never a torn file; nothing needs a global lock.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fromNodeError } from '../errors.js';

/** A name no other process picks: `<prefix>-<pid>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p with `mode` for the directories it creates (not subject to the umask for the last). */
export async function ensureDirectory(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
  } catch (err) {
    throw fromNodeError(err, 'mkdir', dir);
  }
}

/** Writes `data` to `dest` atomically, through a temporary file in `tmpDir`. */
export async function writeFileAtomic(tmpDir: string, dest: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const temp = path.join(tmpDir, uniqueName(path.basename(dest).slice(0, 32)));
  try {
    const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, dest);
    await fsyncDirectory(path.dirname(dest));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw fromNodeError(err, 'write', dest);
  }
}
