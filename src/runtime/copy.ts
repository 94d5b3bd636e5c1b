/**
 * `hull cp`: files between the host and a container's root (container-root.ts), by Docker's
 * rules (docker/cli cp.go, moby/go-archive copy.go):
 *
 *   - a container path is taken from the container's "/"; its components are symlinks followed
 *     inside the container (a link to /etc is the container's /etc), and its final component too
 *     when it is the destination, or ends in '/' or '/.'. A source's final link is copied as a
 *     link, unless -L: then what it points to is copied, under the link's name;
 *   - a destination that is a directory receives SRC under SRC's name (SRC/. : SRC's contents);
 *     an existing file is replaced; a missing one is made, in a parent that must exist;
 *   - Docker's messages: "Could not find the file P in container C", "no such directory",
 *     "cannot copy directory", "extraction point is not a directory", …; never an errno name.
 *
 * hull resolves container paths itself (ContainerFs.resolve, Docker's FollowSymlinkInScope) to
 * decide what the copy means, and opens every container path with openat2 RESOLVE_IN_ROOT, so
 * nothing — an absolute link, "..", an entry swapped during the copy — leads to the host. Entries
 * are written through the fd of their parent directory, final components never followed.
 */
import {
  type Stats,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statfsSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { ContainerPathNotFoundError, HullError, RuntimeError, SystemError, UsageError } from '../errors.js';
import { sys } from '../native/index.js';

const O_PATH = 0o10000000;
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
/** The kernel's MAXSYMLINKS: links followed in one path before it is ELOOP. */
const MAX_LINKS = 40;

export interface CopyOptions {
  /** The container as the caller named it (Docker's messages say "in container NAME"). */
  container: string;
  /** `-L`: copy what the source's final symlink points to, not the link. */
  followLink?: boolean;
  /** Host ids every entry written is given (the Engine API's copyUIDGID: the container's user); else they are root's. */
  owner?: { uid: number; gid: number };
  /** Called with the container directory a copy into it writes in (links followed) before anything is written: throws to refuse it (a read-only rootfs or volume). */
  checkWritable?: (dir: string) => void;
}

/** errno names in words, as Docker's messages say them (libuv's table, the same strerror text). */
let errnoText: Map<string, string> | undefined;
function inWords(code: string): string {
  errnoText ??= new Map([...getSystemErrorMap().values()].map(([name, text]) => [name, text]));
  return errnoText.get(code) ?? code;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `WHAT: reason in words`; hull's own errors (other than raw system ones) pass through. */
function failed(err: unknown, what: string): HullError {
  if (err instanceof HullError && !(err instanceof SystemError)) return err;
  const code = codeOf(err);
  return new RuntimeError(`${what}: ${code ? inWords(code) : String(err)}`, { ...(code ? { code } : {}), cause: err });
}

function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

async function withFdAsync<T>(fd: number, fn: (fd: number) => Promise<T>): Promise<T> {
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A copy is many small synchronous calls; it gives the event loop a turn whenever it has held it
 * for a few ms, so a long one (the Engine API's archive of a whole tree) never stalls the server.
 */
const SLICE_MS = 4;
let sliceStart = performance.now();
async function breathe(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await new Promise((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}

async function copyFd(from: number, to: number): Promise<void> {
  const buf = Buffer.allocUnsafe(256 * 1024);
  for (;;) {
    const n = readSync(from, buf, 0, buf.length, null);
    if (n <= 0) return;
    let off = 0;
    while (off < n) off += writeSync(to, buf, off, n - off);
    await breathe();
  }
}

/** A name for one new entry: no separators, not "." or "..". */
function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new UsageError(`invalid name in copy: ${JSON.stringify(name)}`);
  return name;
}

/** A path that says "a directory" (Docker's assertsDirectory): ends in '/' or '/.'. */
const assertsDirectory = (p: string) => p.endsWith('/') || p === '.' || p.endsWith('/.');
/** A path that says "its contents" (Docker's specifiesCurrentDir): ends in '/.'. */
const meansContents = (p: string): boolean => p === '.' || p.endsWith('/.');
/** A container path as Docker cleans it: from "/", ".." taken lexically, no trailing '/'. */
const cleanInContainer = (p: string) => path.posix.join('/', p).replace(/(.)\/+$/, '$1');

/** A container's files through /proc/PID/root: every open resolved inside it. */
class ContainerFs {
  constructor(
    private readonly root: string,
    readonly container: string,
  ) {}

  label(p: string): string {
    return `${p} in container ${this.container}`;
  }

  open(p: string, flags: number, mode = 0): number {
    return sys.openInRoot(this.root, p, flags, mode);
  }

  /** lstat inside the container; undefined when `p` is missing (or a parent is no directory). */
  lstat(p: string): Stats | undefined {
    let fd: number;
    try {
      fd = this.open(p, O_PATH | O_NOFOLLOW);
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
      throw failed(err, `lstat ${this.label(p)}`);
    }
    return withFd(fd, (f) => fstatSync(f));
  }

  readlink(p: string): string {
    try {
      return withFd(this.open(p, O_PATH | O_NOFOLLOW), (fd) => sys.readlinkFd(fd));
    } catch (err) {
      throw failed(err, `readlink ${this.label(p)}`);
    }
  }

  /**
   * `p` (clean, absolute) with its symlinks followed inside the container, the final one too when
   * `final` (Docker's FollowSymlinkInScope): as far as it exists, the rest kept as written.
   */
  resolve(p: string, final: boolean): string {
    const parts = (s: string) => s.split('/').filter((c) => c !== '' && c !== '.');
    const todo = parts(p);
    let done = '/';
    let links = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '..') {
        done = path.posix.dirname(done);
        continue;
      }
      const next = path.posix.join(done, part);
      if (todo.length === 0 && !final) return next;
      const st = this.lstat(next);
      if (!st || (todo.length > 0 && !st.isDirectory() && !st.isSymbolicLink())) return path.posix.join(next, ...todo);
      if (!st.isSymbolicLink()) {
        done = next;
        continue;
      }
      if (++links > MAX_LINKS) throw new RuntimeError(`${this.label(p)}: too many levels of symbolic links`, { code: 'ELOOP' });
      const target = this.readlink(next);
      todo.unshift(...parts(target));
      if (target.startsWith('/')) done = '/';
    }
    return done;
  }
}

/** What a copy reads: the host's files, or a container's. */
interface Source {
  lstat(p: string): Stats;
  readlink(p: string): string;
  list(p: string): string[];
  /** An fd of the regular file `p`, its final component not followed. */
  openFile(p: string): number;
  /** Whether the directory `p` is the kernel's (proc, sysfs, cgroup, …): copied empty, as the image has it. */
  isKernelFs(p: string): boolean;
  label(p: string): string;
}

/** proc, sysfs, cgroup2, cgroup, debugfs, tracefs, securityfs, bpf (statfs f_type): files made up by the kernel, not the container's. */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x63677270, 0x27e0eb, 0x64626720, 0x74726163, 0x73636673, 0xcafe4a11]);

function reading<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw failed(err, `read ${label}`);
  }
}

/** O_NONBLOCK: a file swapped for a fifo after the lstat cannot hang the copy (it is refused below). */
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

const hostSource: Source = {
  lstat: (p) => reading(p, () => lstatSync(p)),
  readlink: (p) => reading(p, () => readlinkSync(p)),
  list: (p) => reading(p, () => readdirSync(p)),
  openFile: (p) => reading(p, () => openSync(p, READ_FLAGS)),
  isKernelFs: () => false, // what the caller names on the host is copied whole
  label: (p) => p,
};

function containerSource(fs: ContainerFs): Source {
  return {
    lstat: (p) => reading(fs.label(p), () => withFd(fs.open(p, O_PATH | O_NOFOLLOW), (fd) => fstatSync(fd))),
    readlink: (p) => fs.readlink(p),
    list: (p) => reading(fs.label(p), () => withFd(fs.open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), (fd) => readdirSync(`/proc/self/fd/${fd}`))),
    openFile: (p) => reading(fs.label(p), () => fs.open(p, READ_FLAGS, 0)),
    // The container's /proc, /sys and cgroup mounts are the runtime's: Docker copies the image's empty mount points.
    isKernelFs: (p) =>
      reading(fs.label(p), () => withFd(fs.open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW), (fd) => KERNEL_FS.has(statfsSync(`/proc/self/fd/${fd}`).type))),
    label: (p) => fs.label(p),
  };
}

/** Where the copy lands: a directory (an open fd) and how its paths are named in messages. */
interface Target {
  source: Source;
  label: (p: string) => string;
  owner?: { uid: number; gid: number } | undefined;
}

/**
 * Writes `src` as the entry `name` of the directory `dirFd` (`at` names it in messages), by the
 * rules Docker's untar keeps for cp: a directory merges into a directory; a file replaces a file
 * (written in place, so a bind-mounted file such as /etc/hosts can be a destination); anything
 * else in the way of a file or link is removed; a directory and a non-directory never replace
 * each other. Devices, fifos and sockets are not copied.
 */
async function put(t: Target, src: string, st: Stats, dirFd: number, name: string, at: string): Promise<void> {
  const entry = `/proc/self/fd/${dirFd}/${checkName(name)}`;
  let existing: Stats | undefined;
  try {
    existing = lstatSync(entry);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw failed(err, `lstat ${t.label(at)}`);
  }
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) throw new UsageError(`cannot overwrite non-directory "${t.label(at)}" with directory "${t.source.label(src)}"`);
    const fd = writing(t, at, () => {
      if (!existing) mkdirSync(entry, { mode: 0o700 });
      const opened = openSync(entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (t.owner) fchownSync(opened, t.owner.uid, t.owner.gid); // before the mode: a chown clears setuid and setgid bits
      if (!existing) fchmodSync(opened, st.mode & 0o7777); // a new directory takes SRC's mode; an existing one keeps its own
      return opened;
    });
    await withFdAsync(fd, async () => {
      if (!t.source.isKernelFs(src)) await putContents(t, src, fd, at);
    });
    return;
  }
  if (!st.isFile() && !st.isSymbolicLink()) return;
  if (existing?.isDirectory()) throw new UsageError(`cannot overwrite directory "${t.label(at)}" with non-directory "${t.source.label(src)}"`);
  if (st.isSymbolicLink()) {
    const link = t.source.readlink(src);
    writing(t, at, () => {
      if (existing) unlinkSync(entry);
      symlinkSync(link, entry);
      if (t.owner) lchownSync(entry, t.owner.uid, t.owner.gid);
    });
    return;
  }
  await withFdAsync(t.source.openFile(src), async (from) => {
    const actual = fstatSync(from);
    if (!actual.isFile()) throw new RuntimeError(`read ${t.source.label(src)}: not a regular file any more`);
    const to = writing(t, at, () => {
      if (existing && !existing.isFile()) unlinkSync(entry);
      const flags = existing?.isFile() ? O_WRONLY | O_TRUNC | O_NOFOLLOW : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
      return openSync(entry, flags, 0o600);
    });
    await withFdAsync(to, async () => {
      await copyFd(from, to).catch((err: unknown) => {
        throw failed(err, `copy to ${t.label(at)}`);
      });
      writing(t, at, () => {
        if (t.owner) fchownSync(to, t.owner.uid, t.owner.gid);
        fchmodSync(to, actual.mode & 0o777);
        futimesSync(to, actual.atime, actual.mtime);
      });
    });
  });
}

function writing<T>(t: Target, at: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw failed(err, `copy to ${t.label(at)}`);
  }
}

/** Each entry of the directory `src` into the directory `dirFd`. */
async function putContents(t: Target, src: string, dirFd: number, at: string): Promise<void> {
  for (const name of t.source.list(src)) {
    await breathe();
    const child = path.posix.join(src, checkName(name));
    await put(t, child, t.source.lstat(child), dirFd, name, path.posix.join(at, name));
  }
}

interface Destination {
  /** Where to write (links followed). */
  path: string;
  /** The path Docker names in its messages: the one given, or a link's target. */
  shown: string;
  exists: boolean;
  isDir: boolean;
}

/**
 * Where SRC goes (Docker's PrepareArchiveCopy): the directory to write in, and SRC's name there
 * (undefined: SRC's contents go into that directory itself).
 */
function placement(
  srcIsDir: boolean,
  name: string | undefined,
  dst: Destination,
  asserted: boolean,
  label: (p: string) => string,
): {
  dir: string;
  shownDir: string;
  entry: string | undefined;
} {
  if (dst.exists && dst.isDir) return { dir: dst.path, shownDir: dst.shown, entry: name };
  if (dst.exists && asserted) throw new UsageError(`${label(dst.shown)} is not a directory`);
  if (dst.exists && srcIsDir) throw new UsageError(`cannot copy directory: ${label(dst.shown)} is not a directory`);
  if (!dst.exists && !srcIsDir && asserted) throw new UsageError(`no such directory: ${label(dst.shown)}`);
  return { dir: path.posix.dirname(dst.path), shownDir: path.posix.dirname(dst.shown), entry: path.posix.basename(dst.path) };
}

/** The irregular kinds Docker refuses as a destination (ValidateOutputPathFileMode). */
function irregular(st: Stats): string | undefined {
  if (st.isDirectory() || st.isFile()) return undefined;
  return st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
}

/** Docker's ValidateOutputPath and CopyInfoDestinationPath: a host destination, its links followed. */
function hostDestination(dest: string): Destination {
  const given = path.resolve(dest);
  let p = given;
  for (let n = 0; ; n++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (err) {
      const parent = path.dirname(p);
      if (codeOf(err) === 'ENOTDIR') throw new UsageError(`invalid output path: "${parent}" is not a directory`);
      if (codeOf(err) !== 'ENOENT') throw failed(err, `lstat ${p}`);
      if (!existsSync(parent)) throw new UsageError(`invalid output path: directory "${parent}" does not exist`);
      return { path: p, shown: p, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) {
      const why = irregular(st);
      if (why) throw new UsageError(`invalid output path: "${given}" must be a directory or a regular file: ${why}`);
      return { path: p, shown: p, exists: true, isDir: st.isDirectory() };
    }
    if (n >= 10) throw new UsageError(`too many symlinks in ${given}`);
    p = path.resolve(path.dirname(p), readlinkSync(p));
  }
}

/** A container destination, its links followed inside the container (a dangling one: its target is made). */
function containerDestination(fs: ContainerFs, dest: string): Destination {
  const given = cleanInContainer(dest);
  const resolved = fs.resolve(given, true);
  const st = fs.lstat(resolved);
  const why = st && irregular(st);
  if (why) throw new UsageError(`destination "${fs.container}:${dest}" must be a directory or a regular file: ${why}`);
  const viaLink = fs.lstat(given)?.isSymbolicLink() ?? false;
  return { path: resolved, shown: viaLink ? resolved : given, exists: st !== undefined, isDir: st?.isDirectory() ?? false };
}

/** Container → host. `src` is a path inside the container; `dest` a host path. */
export async function copyFromContainer(root: string, src: string, dest: string, opts: CopyOptions): Promise<void> {
  const fs = new ContainerFs(root, opts.container);
  const given = cleanInContainer(src);
  const from = fs.resolve(given, assertsDirectory(src) || (opts.followLink ?? false));
  const st = fs.lstat(from);
  if (!st) throw new ContainerPathNotFoundError(src, opts.container);
  if (assertsDirectory(src) && !st.isDirectory()) throw new UsageError(`${fs.label(src)} is not a directory`);
  const name = meansContents(src) || given === '/' ? undefined : path.posix.basename(given);
  const dst = hostDestination(dest);
  const label = (p: string) => p;
  const { dir, shownDir, entry } = placement(st.isDirectory(), name, dst, assertsDirectory(dest), label);
  const target: Target = { source: containerSource(fs), label };
  let dirFd: number;
  try {
    dirFd = openSync(dir, O_PATH | O_DIRECTORY);
  } catch (err) {
    throw failed(err, `open ${shownDir}`);
  }
  await withFdAsync(dirFd, async () => {
    if (entry === undefined) await putContents(target, from, dirFd, shownDir);
    else await put(target, from, st, dirFd, entry, path.posix.join(shownDir, entry));
  });
}

/** Host → container. `src` is a host path; `dest` a path inside the container. */
export async function copyToContainer(src: string, root: string, dest: string, opts: CopyOptions): Promise<void> {
  const fs = new ContainerFs(root, opts.container);
  let from = path.resolve(src);
  let st: Stats;
  try {
    st = lstatSync(assertsDirectory(src) ? `${from}/` : from);
    if (opts.followLink && st.isSymbolicLink()) {
      from = realpathSync(from); // read through the link; the copy keeps the link's name
      st = lstatSync(from);
    }
  } catch (err) {
    throw failed(err, `lstat ${from}`);
  }
  const name = meansContents(src) || from === '/' ? undefined : path.basename(path.resolve(src));
  const dst = containerDestination(fs, dest);
  const label = (p: string) => fs.label(p);
  const { dir, shownDir, entry } = placement(st.isDirectory(), name, dst, assertsDirectory(dest), label);
  opts.checkWritable?.(dir);
  let dirFd: number;
  try {
    dirFd = fs.open(dir, O_PATH | O_DIRECTORY);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') throw new ContainerPathNotFoundError(shownDir, opts.container);
    if (codeOf(err) === 'ENOTDIR') throw new UsageError(`extraction point is not a directory: ${label(shownDir)}`);
    throw failed(err, `open ${label(shownDir)}`);
  }
  const target: Target = { source: hostSource, label, owner: opts.owner };
  await withFdAsync(dirFd, async () => {
    if (entry === undefined) await putContents(target, from, dirFd, shownDir);
    else await put(target, from, st, dirFd, entry, path.posix.join(shownDir, entry));
  });
}

/** What Docker's StatPath tells of a container path (the Engine API's `X-Docker-Container-Path-Stat`). */
export interface ContainerPathStat {
  /** The path's last component, as given (`.` for `DIR/.`). */
  name: string;
  stat: Stats;
  /** The path with every link followed inside the container, when it is a link; else ''. */
  linkTarget: string;
}

/**
 * Docker's StatPath: the path cleaned from the container's "/" (`..` cannot climb out of it), its
 * parents' links followed inside the container, its own final link not (a link is described as a
 * link, with its target resolved in the container).
 */
export function statContainerPath(root: string, p: string, container: string): ContainerPathStat {
  const fs = new ContainerFs(root, container);
  const given = cleanInContainer(p);
  const resolved = fs.resolve(given, assertsDirectory(p));
  const st = fs.lstat(resolved);
  if (!st) throw new ContainerPathNotFoundError(p, container);
  const name = meansContents(p) ? '.' : given === '/' ? '/' : path.posix.basename(given);
  return { name, stat: st, linkTarget: st.isSymbolicLink() ? fs.resolve(given, true) : '' };
}

/** Whether a container path means "the directory's contents" (`DIR/.`). */
export { meansContents as copiesContents };
