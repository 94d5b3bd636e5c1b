/**
 * Writes tar entries into a directory tree, safely: every name is resolved inside the root
 * (./root-path.ts), a new entry never writes through whatever was at its path before (that is
 * removed first, and files are created with O_EXCL|O_NOFOLLOW), and hardlinks can only point at
 * entries already inside the root.
 *
 * Metadata follows the archive: numeric owners and allowed xattrs (with `preserveOwner`),
 * permission bits including setuid/setgid/sticky (set after chown, which clears them; setuid and
 * setgid only with `preserveOwner`), and mtimes (symlinks' too, with lutimes).
 *
 * What node's `tar` package cannot carry is done here with the addon (src/native): device nodes
 * and FIFOs with `sys.mknod`, xattrs (`user.*`, `security.capability`; PAX `SCHILY.xattr.*` records
 * parsed byte-exact by ./tar-reader.ts) with `sys.lsetxattr`, overlay whiteouts and opaque
 * directories (./whiteout.ts). Symlink times use Node's own `lutimes`. Directory modes and times are applied at `finish()`, after everything inside them is
 * written (so a read-only directory in the archive can still be filled, and its mtime sticks).
 *
 * The metadata system calls are synchronous on purpose: each takes microseconds, a layer has
 * thousands of files, and a thread-pool round trip per call made unpacking ~15× slower. File
 * content arrives asynchronously from the stream.
 *
 * Durability (`fsync`): one syncfs(2) of the layer's file system at `finish()` (coreutils'
 * `sync -f DIR`; Node has no syncfs), instead of an fsync per file: on this machine's ext4 an
 * fsync per file (64 at a time) added ~2 s to a 6,700-entry Debian layer, syncfs ~0.1 s, since
 * the kernel has written most of it back by then. Where `sync -f` is missing or fails, every
 * file and directory written is fsynced instead, many at a time.
 */

import {
  chmodSync,
  close as closeFd,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsync as fsyncFd,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { HostUnsupportedError, InvalidImageError } from '../errors.js';
import { trace } from '../trace.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, sys } from '../native/index.js';
import { FileWriterThread, SMALL_FILE_BYTES } from './file-writer-thread.js';
import { archivePathComponents, resolveDirectory, resolveEntry } from './root-path.js';
import type { TarEntry } from './tar-reader.js';
import { WHITEOUT_META_PREFIX, classifyWhiteout, createOverlayWhiteout, markOverlayOpaque } from './whiteout.js';

export interface TreeWriterOptions {
  /** Turn OCI whiteouts into overlay whiteouts (image layers); false keeps `.wh.*` as plain names. */
  readonly whiteouts: boolean;
  /** Apply the archive's numeric owners and xattrs (needs root). */
  readonly preserveOwner: boolean;
  /** Create device nodes and FIFOs; false rejects them. */
  readonly allowSpecialFiles: boolean;
  /** fsync every file and directory written, so the tree is durable once `finish()` returns. */
  readonly fsync: boolean;
  /** Names the archive in error messages, e.g. `layer sha256:…`. */
  readonly what: string;
  /** Small files on a second thread: when creating files is slow (default 'auto'), always, or never. */
  readonly fileThread?: 'auto' | 'always' | 'never';
}

/**
 * Extended attributes taken from archives. `trusted.*` (overlayfs' own: opaque, redirect,
 * metacopy, …) and `security.*` other than file capabilities are never taken from an image.
 */
function xattrAllowed(name: string): boolean {
  return name === 'security.capability' || name.startsWith('user.');
}

interface DirectoryMetadata {
  mode: number;
  atime: number;
  mtime: number;
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The process umask, from /proc/self/status: process.umask() with no argument sets the umask to 0
 * and back (DEP0139), and a file another layer's unpack creates on a pool thread meanwhile would
 * escape it.
 */
function processUmask(): number {
  const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new HostUnsupportedError('/proc/self/status has no Umask line (Linux 4.7 or later is needed)');
  return parseInt(m[1]!, 8);
}

const fsyncAsync = promisify(fsyncFd);
const closeAsync = promisify(closeFd);
const MAX_PENDING_SYNCS = 64;

/** fsync + close of many fds at once, off the event loop (ext4 commits concurrent fsyncs together). */
class BackgroundSync {
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined;

  /** Takes ownership of `fd`: it is fsynced and closed. */
  async add(fd: number): Promise<void> {
    const p: Promise<void> = fsyncAsync(fd)
      .finally(() => closeAsync(fd))
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
    if (this.pending.size >= MAX_PENDING_SYNCS) await Promise.race(this.pending);
  }

  /** Waits for all; throws the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}

/** syncfs(2) of the file system holding `dir`, by coreutils' `sync -f`. False when that is not possible. */
function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs `create`; if something is in the way (EEXIST), removes it with `clear` and tries once more. */
function createReplacing<T>(create: () => T, clear: () => void): T {
  try {
    return create();
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    clear();
    return create();
  }
}

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/**
 * Small files are made here and timed, in windows of FILES_BEFORE_THREAD; after a window in which
 * making one took longer than HAND_OVER_ABOVE_NS on average, the rest go to the thread. On tmpfs (~5-10 µs a file) the thread only adds
 * work for the two cores to share (an unpack measured 1.01 s with it, 0.93 s without); on this
 * VM's ext4 (20-300 µs a file) it overlaps them (2.24 s against 2.97 s; GNU tar 2.52 s).
 */
const FILES_BEFORE_THREAD = 64;
const HAND_OVER_ABOVE_NS = 40_000;

export class TreeWriter {
  private readonly root: string;
  private readonly options: TreeWriterOptions;
  /** Directories from the archive whose mode and times are applied at the end. */
  private readonly directories = new Map<string, DirectoryMetadata>();
  /** Parent components → resolved directory; dropped whenever anything is removed. */
  private readonly resolved = new Map<string, string>();
  /** Every directory something was created in (for fsync). */
  private readonly touched = new Set<string>();
  /** Every regular file written (for fsync, when syncfs is not available). */
  private readonly written: string[] = [];
  private readonly syncs = new BackgroundSync();
  /**
   * The owner a new inode gets anyway (ours: no directory in the tree is setgid while it is
   * written, since directory modes are applied at the end), so chown can be skipped for entries
   * that have it; undefined when that is not known (the root is setgid).
   */
  private readonly defaultOwner: { uid: number; gid: number } | undefined;
  /** The process umask: a file created with a mode it does not touch needs no fchmod. */
  private readonly umask: number;
  /** Small files go to a second thread (./file-writer-thread.ts); these rules keep it safe. */
  private readonly thread = new FileWriterThread();
  /** Every path this writer made or handed to the thread: a new entry there must wait for it. */
  private readonly made = new Set<string>();
  /** Small files made here and timed in the current window, and the time their open(2) took. */
  private timedFiles = 0;
  private timedNanos = 0n;
  /** Whether small files go to the thread; with 'auto', false until a window of files made here was slow. */
  private useThread: boolean;

  constructor(root: string, options: TreeWriterOptions) {
    this.root = root;
    this.options = options;
    const rootSetgid = ((lstatOrUndefined(root)?.mode ?? 0) & 0o2000) !== 0;
    this.defaultOwner = rootSetgid ? undefined : { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 };
    this.umask = processUmask();
    this.useThread = options.fileThread === 'always';
  }

  async write(entry: TarEntry): Promise<void> {
    const { what } = this.options;
    const components = archivePathComponents(entry.path, what);
    const base = components[components.length - 1];

    if (base === undefined) {
      // The archive's "./": metadata for the root itself.
      if (entry.type !== 'directory') {
        throw new InvalidImageError(`${what}: entry ${JSON.stringify(entry.path)} (${entry.type}) would replace the root directory`);
      }
      this.directoryMetadata(this.root, entry, false);
      return;
    }

    if (this.options.whiteouts) {
      // AUFS metadata directories (.wh..wh.plnk/…) and their contents are not part of the tree.
      if (components.slice(0, -1).some((c) => c.startsWith(WHITEOUT_META_PREFIX))) return;
      const whiteout = classifyWhiteout(base, `${what}: ${JSON.stringify(entry.path)}`);
      if (whiteout.kind === 'meta') return;
      if (whiteout.kind === 'opaque') {
        markOverlayOpaque(await this.parentDirectory(components, entry)); // rare: an await is fine
        return;
      }
      if (whiteout.kind === 'whiteout') {
        const target = path.join(await this.parentDirectory(components, entry), whiteout.name);
        const wait = this.threadBusyAt(target);
        if (wait) await wait;
        this.made.add(target);
        createReplacing(
          () => createOverlayWhiteout(target),
          () => this.clear(target),
        );
        return;
      }
    }

    // Promises only where there is something to wait for: most entries need none.
    let parentDir = this.parentDirectory(components, entry);
    if (typeof parentDir !== 'string') parentDir = await parentDir;
    const target = path.join(parentDir, base);
    if (entry.type === 'file' && this.handsOver(target, entry)) {
      await this.handOver(target, entry);
      return;
    }
    const wait = this.threadBusyAt(target);
    if (wait) await wait;
    // A hardlink's source may be a file the thread has not made yet.
    if (entry.type === 'hardlink' && this.thread.busy) await this.thread.settle();
    this.made.add(target);
    switch (entry.type) {
      case 'directory':
        this.writeDirectory(target, entry);
        // A directory written here is where later entries under it go: no lookup needed.
        this.resolved.set(components.join('/'), target);
        this.touched.add(target);
        return;
      case 'file':
        await this.writeFile(target, entry);
        return;
      case 'symlink':
        this.writeSymlink(target, entry);
        return;
      case 'hardlink':
        this.writeHardlink(target, entry);
        return;
      case 'char':
      case 'block':
      case 'fifo':
        this.writeSpecial(target, entry);
        return;
    }
  }

  /** Applies deferred directory modes and times; waits for the fsyncs when asked for durability. */
  async finish(): Promise<void> {
    await this.thread.settle();
    await this.thread.close();
    for (const [dir, meta] of this.directories) {
      if (!lstatOrUndefined(dir)?.isDirectory()) continue;
      chmodSync(dir, meta.mode);
      utimesSync(dir, meta.atime, meta.mtime);
    }
    if (this.options.fsync && !(await syncFileSystem(this.root))) {
      for (const file of this.written) {
        if (!lstatOrUndefined(file)?.isFile()) continue;
        await this.syncs.add(openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW));
      }
      this.touched.add(this.root);
      for (const dir of this.touched) {
        if (!lstatOrUndefined(dir)?.isDirectory()) continue;
        await this.syncs.add(openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY));
      }
    }
    await this.syncs.settle();
  }

  /** After a failure: waits for background work so no fd is left open (errors are moot then). */
  async abort(): Promise<void> {
    await this.thread.close().catch(() => undefined);
    await this.syncs.settle().catch(() => undefined);
  }

  /** Whether the file goes to the thread: a small one without xattrs, at a path nothing was made at, once the thread is on. */
  private handsOver(target: string, entry: TarEntry): boolean {
    if (!this.useThread || entry.size > SMALL_FILE_BYTES || entry.xattrs.size > 0) return false;
    return !this.made.has(target);
  }

  /**
   * With 'auto': the time open(2) took for a small file made here, counted in windows of
   * FILES_BEFORE_THREAD files; the thread is turned on for the rest of the layer after a window
   * that averaged more than HAND_OVER_ABOVE_NS. Every window, not only the first: on this VM's
   * ext4 the cost of a new inode changes within one layer (it rises with the number of inodes
   * deleted in the last minutes, which ext4 without a journal skips over one by one), and a pull
   * whose first files were quick made all the others on the main thread.
   */
  private timedOpen(started: bigint): void {
    this.timedNanos += process.hrtime.bigint() - started;
    if (++this.timedFiles < FILES_BEFORE_THREAD) return;
    const average = this.timedNanos / BigInt(this.timedFiles);
    this.timedFiles = 0;
    this.timedNanos = 0n;
    if (average > HAND_OVER_ABOVE_NS) {
      this.useThread = true;
      trace(`${this.options.what}: small files on a second thread from now on (open(2) took ${average / 1000n} µs on average)`);
    }
  }

  /** Reads (copies) the file's body and queues it for the thread. */
  private async handOver(target: string, entry: TarEntry): Promise<void> {
    const body: Buffer[] = [];
    let size = 0;
    for await (const chunk of entry.body) {
      body.push(chunk);
      size += chunk.length;
    }
    if (size !== entry.size) {
      throw new InvalidImageError(`${this.options.what}: ${JSON.stringify(entry.path)}: expected ${entry.size} bytes, got ${size}`);
    }
    const mode = this.mode(entry);
    const exactMode = (mode & ~0o777) === 0 && (mode & this.umask) === 0;
    const chown = this.needsChown(entry);
    this.made.add(target);
    if (this.options.fsync) this.written.push(target);
    await this.thread.add({
      path: target,
      createMode: exactMode ? mode : 0o600,
      chmodTo: exactMode ? -1 : mode,
      uid: chown ? entry.uid : -1,
      gid: chown ? entry.gid : -1,
      atime: entry.atime ?? entry.mtime,
      mtime: entry.mtime,
      body,
      size,
    });
  }

  /**
   * Before anything is made here at `target`, the thread is idle if it may be making something
   * there, or if something is there already: making a new entry may remove it (and everything
   * below it), which must never happen under files the thread is still writing.
   */
  private threadBusyAt(target: string): Promise<void> | undefined {
    if (!this.thread.busy) return undefined;
    return this.made.has(target) || lstatOrUndefined(target) !== undefined ? this.thread.settle() : undefined;
  }

  /**
   * The directory the entry goes in: resolved inside the root, created if missing. A walk (not
   * cached) reads and makes what is on the way: the thread is idle first, so nothing there is half made.
   */
  private parentDirectory(components: readonly string[], entry: TarEntry): string | Promise<string> {
    const parent = components.slice(0, -1);
    const key = parent.join('/');
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached;
    if (this.thread.busy) return this.thread.settle().then(() => this.resolveParent(parent, key, entry));
    return this.resolveParent(parent, key, entry);
  }

  private resolveParent(parent: string[], key: string, entry: TarEntry): string {
    let dir = this.resolved.get(key);
    if (dir === undefined) {
      dir = resolveDirectory(this.root, parent, `${this.options.what}: ${JSON.stringify(entry.path)}`);
      this.resolved.set(key, dir);
      this.touched.add(dir);
      // The walk may have made these directories: a later file there is not one for the thread.
      for (let d = dir; d.startsWith(`${this.root}/`); d = path.dirname(d)) this.made.add(d);
    }
    return dir;
  }

  /** Removes whatever is at `target` (a directory with everything in it). */
  private clear(target: string): void {
    const st = lstatOrUndefined(target);
    if (st === undefined) return;
    // Anything removed may have been a directory or symlink on some cached path.
    this.resolved.clear();
    if (st.isDirectory()) {
      rmSync(target, { recursive: true, force: true });
      for (const dir of this.directories.keys()) {
        if (dir === target || dir.startsWith(`${target}/`)) this.directories.delete(dir);
      }
      return;
    }
    unlinkSync(target);
  }

  private writeDirectory(target: string, entry: TarEntry): void {
    let created = true;
    try {
      mkdirSync(target, { mode: 0o700 });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      // A directory over a directory only updates its metadata; anything else is replaced.
      if (lstatOrUndefined(target)?.isDirectory()) created = false;
      else {
        this.clear(target);
        mkdirSync(target, { mode: 0o700 });
      }
    }
    this.directoryMetadata(target, entry, created);
  }

  /** Whether the entry's owner must be set (it is not what a new inode gets anyway). */
  private needsChown(entry: TarEntry): boolean {
    if (!this.options.preserveOwner) return false;
    const owner = this.defaultOwner;
    return owner === undefined || entry.uid !== owner.uid || entry.gid !== owner.gid;
  }

  /** Owner and xattrs now, mode and times at the end. `created`: a new directory (else it may have any owner). */
  private directoryMetadata(dir: string, entry: TarEntry, created: boolean): void {
    if (created ? this.needsChown(entry) : this.options.preserveOwner) lchownSync(dir, entry.uid, entry.gid);
    this.applyXattrs(dir, entry);
    this.directories.set(dir, { mode: this.mode(entry), atime: entry.atime ?? entry.mtime, mtime: entry.mtime });
  }

  private async writeFile(target: string, entry: TarEntry): Promise<void> {
    // Created with its final mode when the umask leaves it alone and it has no setuid, setgid
    // or sticky bit (those are set after chown, which clears them): then no fchmod is needed.
    // Nobody else can open it meanwhile: the tree being written is private to its owner.
    const mode = this.mode(entry);
    const exactMode = (mode & ~0o777) === 0 && (mode & this.umask) === 0;
    const timed = !this.useThread && this.options.fileThread !== 'never' && entry.size <= SMALL_FILE_BYTES;
    const started = timed ? process.hrtime.bigint() : 0n;
    const fd = createReplacing(
      () => openSync(target, CREATE_FILE, exactMode ? mode : 0o600),
      () => this.clear(target),
    );
    if (timed) this.timedOpen(started);
    try {
      let written = 0;
      for await (const chunk of entry.body) {
        let offset = 0;
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
        written += chunk.length;
      }
      if (written !== entry.size) {
        throw new InvalidImageError(`${this.options.what}: ${JSON.stringify(entry.path)}: expected ${entry.size} bytes, got ${written}`);
      }
      if (this.needsChown(entry)) fchownSync(fd, entry.uid, entry.gid);
      if (!exactMode) fchmodSync(fd, mode); // after chown, which clears setuid/setgid
      this.applyXattrs(target, entry); // after chown, which clears security.capability
      futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
      if (this.options.fsync) this.written.push(target);
    } finally {
      closeSync(fd);
    }
  }

  private writeSymlink(target: string, entry: TarEntry): void {
    if (entry.linkpath === '') {
      throw new InvalidImageError(`${this.options.what}: symlink ${JSON.stringify(entry.path)} has no target`);
    }
    createReplacing(
      () => symlinkSync(entry.linkpath, target),
      () => this.clear(target),
    );
    if (this.needsChown(entry)) lchownSync(target, entry.uid, entry.gid);
    lutimesSync(target, entry.atime ?? entry.mtime, entry.mtime);
  }

  private writeHardlink(target: string, entry: TarEntry): void {
    const { what } = this.options;
    const sourceComponents = archivePathComponents(entry.linkpath, `${what}: hardlink ${JSON.stringify(entry.path)}`);
    if (sourceComponents.length === 0) {
      throw new InvalidImageError(`${what}: hardlink ${JSON.stringify(entry.path)} points at the root directory`);
    }
    // link(2) does not follow a symlink in its last component, so the source is inside the root.
    const source = resolveEntry(this.root, sourceComponents, `${what}: hardlink ${JSON.stringify(entry.path)}`);
    const st = lstatOrUndefined(source);
    if (st === undefined || st.isDirectory()) {
      throw new InvalidImageError(
        `${what}: hardlink ${JSON.stringify(entry.path)} → ${JSON.stringify(entry.linkpath)}: ` +
          (st === undefined ? 'no such file in this layer' : 'is a directory'),
      );
    }
    if (source === target) return;
    createReplacing(
      () => linkSync(source, target),
      () => this.clear(target),
    );
  }

  private writeSpecial(target: string, entry: TarEntry): void {
    if (!this.options.allowSpecialFiles) {
      throw new InvalidImageError(`${this.options.what}: ${JSON.stringify(entry.path)}: ${entry.type} entries are not allowed here`);
    }
    const typeBits = entry.type === 'char' ? S_IFCHR : entry.type === 'block' ? S_IFBLK : S_IFIFO;
    createReplacing(
      () => sys.mknod(target, typeBits | entry.mode, entry.devMajor, entry.devMinor),
      () => this.clear(target),
    );
    if (this.needsChown(entry)) lchownSync(target, entry.uid, entry.gid);
    chmodSync(target, this.mode(entry)); // mknod's mode is subject to the umask
    lutimesSync(target, entry.atime ?? entry.mtime, entry.mtime);
  }

  /**
   * The permission bits to set. setuid/setgid only come with the archive's owners: without
   * `preserveOwner` the files belong to whoever unpacks, and a setuid bit would make the
   * archive's binaries run as that user (GNU tar drops them too, unless --same-permissions).
   */
  private mode(entry: TarEntry): number {
    return this.options.preserveOwner ? entry.mode : entry.mode & ~0o6000;
  }

  private applyXattrs(target: string, entry: TarEntry): void {
    if (!this.options.preserveOwner) return;
    for (const [name, value] of entry.xattrs) {
      if (xattrAllowed(name)) sys.lsetxattr(target, name, value, 0);
    }
  }
}
