/**
 * Docker's copy-up: an empty volume mounted where the image has content gets a copy of it
 * (files, ownership, modes, times, links, xattrs), the directory's own owner and mode included.
 *
 * The image is seen as a container would see it: a read-only overlay of its layers, mounted
 * for a moment in a private directory. The path is resolved inside that view with openat2
 * RESOLVE_IN_ROOT, so an image whose volume path is a symlink to a host path (absolute or
 * `../..`) copies from inside the image, never from the host; the view is detached (MNT_DETACH)
 * as soon as the directory is open, so a killed hull leaves no mount behind. `cp -a` copies from
 * that fd (/proc/self/fd/3) into a fresh private directory whose entries are then renamed into the
 * empty `_data`: a copy cut short leaves the volume empty, and nothing is ever copied into a
 * directory a container can write to.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, utimesSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { RuntimeError, SystemError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';
import { acquireLock, nativeFlock } from '../store/lock.js';

const MNT_DETACH = 2;
const MS_RDONLY = 1;

/** A read-only view of `lowerTopFirst` (overlay lowerdirs); the fd of `inner` inside it, or undefined when the image has no directory there. */
function openImageDir(lowerTopFirst: readonly string[], inner: string, scratch: string): number | undefined {
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const mnt = path.join(scratch, `view-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(mnt, { mode: 0o700 });
  try {
    let data = `lowerdir=${lowerTopFirst.join(':')}`;
    let cwd: string | undefined;
    if (lowerTopFirst.length === 1) {
      // overlay needs two lower directories without an upper one: a bind does the same here.
      sys.mount(lowerTopFirst[0] as string, mnt, '', 0x1000 /* MS_BIND */, '');
    } else {
      if (data.length >= 4000) {
        // Too long for one page: relative names from the links' common parent (the store's l/).
        cwd = path.dirname(path.dirname(lowerTopFirst[0] as string));
        data = `lowerdir=${lowerTopFirst.map((l) => path.relative(cwd as string, l)).join(':')}`;
      }
      const before = process.cwd();
      if (cwd !== undefined) process.chdir(cwd);
      try {
        sys.mount('overlay', mnt, 'overlay', MS_RDONLY, data);
      } finally {
        if (cwd !== undefined) process.chdir(before);
      }
    }
    try {
      return sys.openInRoot(mnt, inner, constants.O_RDONLY | constants.O_DIRECTORY, 0);
    } catch (err) {
      if (err instanceof SystemError && ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(err.errno)) return undefined;
      throw err;
    } finally {
      sys.umount2(mnt, MNT_DETACH);
    }
  } finally {
    rmdirSync(mnt);
  }
}

/** False when no layer has the path's first component: then the merged view has nothing there (a
 *  quick negative check that saves mounting the view on every start of a container whose image
 *  has nothing at its volume's path). */
function imageMayHave(lowerTopFirst: readonly string[], inner: string): boolean {
  const first = inner.split('/').find((c) => c !== '' && c !== '.');
  if (first === undefined || first === '..') return true;
  return lowerTopFirst.some((layer) => lstatSync(path.join(layer, first), { throwIfNoEntry: false }) !== undefined);
}

function run(cmd: string, args: string[], fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => reject(fromNodeError(e, 'spawn', cmd)));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new RuntimeError(`copy the image's content into the volume: ${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`)),
    );
  });
}

/**
 * Fill the volume's empty `dataDir` from the image's `inner` directory. Does nothing when the
 * volume already has content (someone filled it first) or the image has no directory there.
 */
export async function populateVolume(opts: {
  volumeDir: string;
  dataDir: string;
  lowerTopFirst: readonly string[];
  inner: string;
  scratch: string;
}): Promise<boolean> {
  const lock = await acquireLock(path.join(opts.volumeDir, 'populate.lock'), 'exclusive', nativeFlock);
  try {
    if (readdirSync(opts.dataDir).length > 0 || !imageMayHave(opts.lowerTopFirst, opts.inner)) return false;
    const fd = openImageDir(opts.lowerTopFirst, opts.inner, opts.scratch);
    if (fd === undefined) return false;
    const fresh = path.join(opts.volumeDir, `.populate-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(fresh, { mode: 0o755 });
      await run('cp', ['-a', '--', '/proc/self/fd/3/.', `${fresh}/`], fd);
      // Moved in entry by entry (rename never follows the last component, so nothing a container
      // made meanwhile can redirect it), never by renaming over `_data`: that would detach the
      // volume from a running container that has it mounted.
      if (readdirSync(opts.dataDir).length > 0) return false;
      for (const name of readdirSync(fresh)) {
        try {
          renameSync(path.join(fresh, name), path.join(opts.dataDir, name));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw fromNodeError(err, 'rename', path.join(opts.dataDir, name));
          }
        }
      }
      const st = lstatSync(fresh);
      chownSync(opts.dataDir, st.uid, st.gid);
      chmodSync(opts.dataDir, st.mode & 0o7777);
      utimesSync(opts.dataDir, st.atime, st.mtime);
    } finally {
      closeSync(fd);
      rmSync(fresh, { recursive: true, force: true });
    }
    return true;
  } finally {
    lock.release();
  }
}
