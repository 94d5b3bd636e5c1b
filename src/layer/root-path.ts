/**
 * Paths from untrusted archives, resolved inside a root directory as if that directory were `/`
 * (the semantics of chroot, openat2 RESOLVE_IN_ROOT and filepath-securejoin): `..` stops at the
 * root and a symlink, absolute or relative, is followed within the root. So `a -> /etc` plus
 * `a/passwd` lands at `<root>/etc/passwd`, never at the host's /etc.
 *
 * This walks the tree with lstat/readlink in user space, which is only race-free because the
 * tree belongs to the caller (a private temporary directory nobody else writes to). The calls
 * are synchronous: each is a few microseconds of metadata work, and a layer has thousands.
 */

import { chmodSync, lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { InvalidImageError } from '../errors.js';

/** Linux gives up after 40 symlinks in one lookup (ELOOP). */
const MAX_SYMLINKS = 40;

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT';
}

/**
 * Cleans a name from an archive into path components relative to the root:
 * `/a/./b//c/` → ['a','b','c'], `./` → [] (the root itself). A name that climbs above the root
 * (`../x`, `a/../../x`) is rejected; a leading `/` is dropped, as Docker does.
 */
export function archivePathComponents(name: string, what: string): string[] {
  if (name.includes('\0')) throw new InvalidImageError(`${what}: path ${JSON.stringify(name)} contains a NUL byte`);
  const cleaned = path.posix.normalize(`./${name.replace(/^\/+/, '')}`);
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw new InvalidImageError(`${what}: path ${JSON.stringify(name)} points outside the archive root`);
  }
  return cleaned.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Walks `components` inside `root`, following every symlink within the root. With `create`, missing
 * components are created as directories (mode 0755) and each component must be a directory;
 * without it, missing components are appended as they are.
 */
function walk(root: string, components: readonly string[], create: boolean, what: string): string {
  const todo = [...components];
  const resolved: string[] = [];
  let symlinks = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const here = path.join(root, ...resolved, part);
    let st: Stats;
    try {
      st = lstatSync(here);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (create) {
        mkdirSync(here, { mode: 0o755 });
        chmodSync(here, 0o755); // not subject to the umask
      }
      resolved.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++symlinks > MAX_SYMLINKS) {
        throw new InvalidImageError(`${what}: too many levels of symbolic links`);
      }
      const target = readlinkSync(here);
      if (target.startsWith('/')) resolved.length = 0;
      todo.unshift(...target.split('/'));
      continue;
    }
    if (!st.isDirectory() && (create || todo.some((c) => c !== '' && c !== '.'))) {
      throw new InvalidImageError(`${what}: ${JSON.stringify(path.posix.join(...resolved, part))} is not a directory`);
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}

/**
 * The directory `components` inside `root` (symlinks followed within the root), created with
 * its missing parents if needed. Always `root` or below it.
 */
export function resolveDirectory(root: string, components: readonly string[], what: string): string {
  return walk(root, components, true, what);
}

/**
 * Where `components` is inside `root`: the parent is resolved within the root (symlinks followed,
 * nothing created), the last component is not followed (it may itself be a symlink, or absent).
 */
export function resolveEntry(root: string, components: readonly string[], what: string): string {
  const name = components[components.length - 1];
  if (name === undefined) return root;
  return path.join(walk(root, components.slice(0, -1), false, what), name);
}

/** Like resolveEntry, but a symlink in the last component is followed too (reading files from archives). */
export function resolveFollowing(root: string, components: readonly string[], what: string): string {
  return walk(root, components, false, what);
}
