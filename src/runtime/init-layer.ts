/**
 * The init layer (Docker has one too): a read-only lower layer above every image, holding the
 * mount points the runtime binds onto (/etc/hostname, /etc/hosts, /etc/resolv.conf) and the
 * directories it mounts on (/proc, /sys, /dev). With them in a lower layer, starting a container
 * creates nothing in its writable layer. One per store, made once, atomically.
 */
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fromNodeError } from '../errors.js';
import type { StorePaths } from '../store/paths.js';

const DIRS = ['dev', 'proc', 'sys', 'etc'];
const FILES = ['etc/hostname', 'etc/hosts', 'etc/resolv.conf'];
/** The short link in `l/` (so the overlay mount can use relative `l/…` paths like every layer). */
export const INIT_LAYER_LINK = 'init';

/** Make the init layer if it is not there; returns the absolute path of its link in `l/`. */
export function ensureInitLayer(paths: StorePaths): string {
  const link = path.join(paths.links, INIT_LAYER_LINK);
  if (existsSync(link)) return link;
  const dir = path.join(paths.root, 'init-layer');
  try {
    if (!existsSync(dir)) {
      mkdirSync(paths.tmp, { recursive: true, mode: 0o700 });
      const work = path.join(paths.tmp, `init-${randomBytes(6).toString('hex')}`);
      for (const d of DIRS) mkdirSync(path.join(work, d), { recursive: true, mode: 0o755 });
      for (const f of FILES) writeFileSync(path.join(work, f), '', { mode: 0o644 });
      try {
        renameSync(work, dir);
      } catch (err) {
        rmSync(work, { recursive: true, force: true });
        // another hull made it first
        if (!['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    mkdirSync(paths.links, { recursive: true, mode: 0o700 });
    symlinkSync('../init-layer', link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'create init layer', dir);
  }
  return link;
}
