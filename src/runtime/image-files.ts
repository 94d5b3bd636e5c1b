/**
 * Reading a file of an image before any container exists: looked up through the unpacked layers
 * (overlay format) from the top, as the merged view would show it. Used for /etc/passwd and
 * /etc/group. Only regular files are read; a symlink is not followed (it could point at the host).
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sys } from '../native/index.js';

const MAX_BYTES = 4 * 1024 * 1024;

async function isOpaque(dir: string): Promise<boolean> {
  try {
    const v = sys.lgetxattr(dir, 'trusted.overlay.opaque');
    return v !== null && v.toString() === 'y';
  } catch {
    return false; // no such directory, or no xattr support: not opaque
  }
}

/** `layerDirs` lowest first; `file` absolute inside the image. Undefined when absent or not a regular file. */
export async function readImageFile(layerDirs: readonly string[], file: string): Promise<string | undefined> {
  const rel = path.posix.normalize(file).replace(/^\/+/, '');
  const parents = rel.split('/').slice(0, -1);
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    const layer = layerDirs[i] as string;
    const full = path.join(layer, rel);
    const st = await lstat(full).catch(() => undefined);
    if (st) {
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whiteout: deleted above
      if (!st.isFile() || st.size > MAX_BYTES) return undefined;
      return readFile(full, 'utf8');
    }
    // An opaque parent directory in this layer hides everything below it.
    for (let d = parents.length; d > 0; d--) {
      if (await isOpaque(path.join(layer, ...parents.slice(0, d)))) return undefined;
    }
  }
  return undefined;
}
