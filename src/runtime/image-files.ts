/**
 * Reading a file of an image before any container exists: looked up through the unpacked layers
 * (overlay format) from the top, as the merged view would show it. Used for /etc/passwd and
 * /etc/group. Only regular files are read; a symlink is not followed (it could point at the host).
 */
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SystemError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';

const MAX_BYTES = 4 * 1024 * 1024;
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

function isOpaque(dir: string): boolean {
  try {
    const v = sys.lgetxattr(dir, 'trusted.overlay.opaque');
    return v !== null && v.toString() === 'y';
  } catch (err) {
    if (err instanceof SystemError && ABSENT.has(err.errno)) return false;
    throw err;
  }
}

/** `layerDirs` lowest first; `file` absolute inside the image. Undefined when absent or not a regular file. */
export function readImageFile(layerDirs: readonly string[], file: string): string | undefined {
  const rel = path.posix.normalize(file).replace(/^\/+/, '');
  const parents = rel.split('/').slice(0, -1);
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    const layer = layerDirs[i] as string;
    const full = path.join(layer, rel);
    let st;
    try {
      st = lstatSync(full);
    } catch (err) {
      if (!ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) throw fromNodeError(err, 'lstat', full);
    }
    if (st) {
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whiteout: deleted above
      if (!st.isFile() || st.size > MAX_BYTES) return undefined;
      return readFileSync(full, 'utf8');
    }
    // An opaque parent directory in this layer hides everything below it.
    for (let d = parents.length; d > 0; d--) {
      if (isOpaque(path.join(layer, ...parents.slice(0, d)))) return undefined;
    }
  }
  return undefined;
}
