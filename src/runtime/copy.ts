/**
 * `hull cp`: files between the host and a running container's root (/proc/PID/root). Every path
 * inside the container is resolved by openat2 with RESOLVE_IN_ROOT, so a symlink or ".." in the
 * container (even an absolute one, or one swapped in during the copy) cannot lead to the host:
 * each entry is opened by its own in-root resolution, final components with O_NOFOLLOW, and
 * directories and links are made through the already-resolved parent's fd.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, readSync, readdirSync, readlinkSync, statSync, symlinkSync, writeSync, openSync } from 'node:fs';
import path from 'node:path';
import { UsageError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';

const O_PATH = 0o10000000;
const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_DIRECTORY } = constants;

function copyFd(from: number, to: number): void {
  const buf = Buffer.allocUnsafe(256 * 1024);
  for (;;) {
    const n = readSync(from, buf, 0, buf.length, null);
    if (n <= 0) return;
    let off = 0;
    while (off < n) off += writeSync(to, buf, off, n - off);
  }
}

function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** A name for one new entry: no separators, not "." or "..". */
function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new UsageError(`invalid name in copy: ${JSON.stringify(name)}`);
  return name;
}

const inParent = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${checkName(name)}`;

/** Container → host. `src` is a path inside the container; `dest` a host path. */
export function copyFromContainer(root: string, src: string, dest: string): void {
  const srcFd = sys.openInRoot(root, src, O_PATH | O_NOFOLLOW, 0);
  const st = withFd(srcFd, (fd) => fstatSync(fd));
  let target = dest;
  const destStat = statSync(dest, { throwIfNoEntry: false });
  if (destStat?.isDirectory()) target = path.join(dest, path.posix.basename(path.posix.resolve('/', src)) || 'root');
  else if (st.isDirectory() && destStat) throw new UsageError(`cannot copy a directory to a file: ${dest}`);
  copyOut(root, path.posix.resolve('/', src), target, st.isDirectory(), st.isSymbolicLink());
}

function copyOut(root: string, inner: string, host: string, isDir: boolean, isLink: boolean): void {
  try {
    if (isLink) {
      symlinkSync(withFd(sys.openInRoot(root, inner, O_PATH | O_NOFOLLOW, 0), (fd) => sys.readlinkFd(fd)), host);
    } else if (isDir) {
      mkdirSync(host, { recursive: false, mode: 0o755 });
      const names = withFd(sys.openInRoot(root, inner, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0), (fd) => readdirSync(`/proc/self/fd/${fd}`));
      for (const name of names) {
        const child = path.posix.join(inner, checkName(name));
        const st = withFd(sys.openInRoot(root, child, O_PATH | O_NOFOLLOW, 0), (fd) => fstatSync(fd));
        if (st.isDirectory() || st.isFile() || st.isSymbolicLink()) copyOut(root, child, path.join(host, name), st.isDirectory(), st.isSymbolicLink());
      }
    } else {
      withFd(sys.openInRoot(root, inner, O_RDONLY | O_NOFOLLOW, 0), (from) => {
        const mode = fstatSync(from).mode & 0o777;
        withFd(openSync(host, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode), (to) => copyFd(from, to));
      });
    }
  } catch (err) {
    throw fromNodeError(err, 'copy', host);
  }
}

/** Host → container. `src` is a host path; `dest` a path inside the container. */
export function copyToContainer(src: string, root: string, dest: string): void {
  const st = lstatSync(src);
  let inner = path.posix.resolve('/', dest);
  let destIsDir = false;
  try {
    destIsDir = withFd(sys.openInRoot(root, inner, O_PATH, 0), (fd) => fstatSync(fd).isDirectory());
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'ENOENT') throw err;
  }
  if (destIsDir) inner = path.posix.join(inner, checkName(path.basename(path.resolve(src))));
  copyIn(src, root, inner, st);
}

function copyIn(src: string, root: string, inner: string, st: import('node:fs').Stats): void {
  const parent = path.posix.dirname(inner);
  const name = path.posix.basename(inner);
  withFd(sys.openInRoot(root, parent, O_PATH | O_DIRECTORY, 0), (dirFd) => {
    try {
      if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(src), inParent(dirFd, name));
      } else if (st.isDirectory()) {
        try {
          mkdirSync(inParent(dirFd, name), { mode: st.mode & 0o7777 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      } else if (st.isFile()) {
        withFd(openSync(src, O_RDONLY), (from) =>
          withFd(sys.openInRoot(root, inner, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, st.mode & 0o777), (to) => copyFd(from, to)));
      }
    } catch (err) {
      throw fromNodeError(err, 'copy', `${root}${inner}`);
    }
  });
  if (st.isDirectory()) {
    for (const entry of readdirSync(src)) copyIn(path.join(src, entry), root, path.posix.join(inner, entry), lstatSync(path.join(src, entry)));
  }
}
