/**
 * `rm -rf` that also works on trees an archive made unwritable (a directory with mode 0555 or
 * 0000 cannot be emptied by a non-root user until it is made writable again).
 */

import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

async function makeWritable(p: string): Promise<void> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  await chmod(p, 0o700).catch(() => undefined);
  const names = await readdir(p).catch(() => [] as string[]);
  for (const name of names) await makeWritable(path.join(p, name));
}

/** Removes `p` and everything below it; a missing `p` is fine. */
export async function removeTree(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await makeWritable(p);
    await rm(p, { recursive: true, force: true });
  }
}
