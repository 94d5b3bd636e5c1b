/**
 * The build context and COPY/ADD sources:
 *
 *   - `.dockerignore` (dockerignore.ts): excluded paths are not sources and are not walked, except
 *     the paths an exception re-includes below an excluded directory and the directories on the
 *     way to them (only those), as Docker's context holds them;
 *   - source patterns resolved inside a root (the context, or another stage's files) with Go's
 *     filepath.Match wildcards (`*`, `?`, `[a-z]`, per path component), `..` clamped at the root
 *     and the named source's symlinks followed inside the root;
 *   - a digest of the sources' content and metadata (paths, types, modes, link targets, file
 *     bytes; not times or owners, as Docker's cache) for the step's cache key;
 *   - the copy itself with Docker's semantics: a directory's contents (not the directory) are
 *     copied; a file goes to DEST/NAME when DEST ends in `/` or is a directory, else to DEST;
 *     owners 0:0 or --chown, modes kept or --chmod, mtimes kept.
 */

import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, copyFileSync, openSync, readSync, existsSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readFileSync, readdirSync, readlinkSync,
  rmSync, statSync, symlinkSync, writeFileSync, type Stats,
} from 'node:fs';
import path from 'node:path';
import { BuildError } from '../errors.js';
import type { DockerIgnore } from './dockerignore.js';
import { archivePathComponents, resolveDirectory, resolveEntry, resolveFollowing } from '../layer/root-path.js';

export interface SourceRoot {
  dir: string;
  /** Context paths excluded by .dockerignore (the context only). */
  ignored?: DockerIgnore;
  /** Names the root in errors: 'the build context', 'stage builder', … */
  what?: string;
}

export interface Source {
  /** Absolute path on the host (inside the root, symlinks resolved). */
  full: string;
  /** Path relative to the root, '' for the root itself. */
  rel: string;
  st: Stats;
}

function isIgnored(root: SourceRoot, rel: string): boolean {
  return rel !== '' && root.ignored !== undefined && root.ignored.ignores(rel);
}

/** Go's filepath.Match for one path component. */
export function componentRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new BuildError(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      else if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasWildcard = (s: string) => /[*?[]/.test(s);

/**
 * The sources one COPY/ADD argument names, inside `root`. A pattern without wildcards must exist
 * (BuildError naming it); one with wildcards may match several (or none: an error too, as Docker).
 */
export function resolveSources(root: SourceRoot, pattern: string, instruction: string): Source[] {
  const cleaned = path.posix.normalize(`./${pattern.replace(/^\/+/, '')}`);
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw new BuildError(`${instruction}: forbidden path outside ${root.what ?? 'the source'}: ${pattern}`);
  }
  const components = archivePathComponents(pattern, instruction);
  if (!components.some(hasWildcard)) {
    const rel = components.join('/');
    const full = resolveFollowing(root.dir, components, instruction);
    let st: Stats;
    try {
      st = statSync(full);
    } catch {
      throw new BuildError(`${instruction}: source ${pattern}: no such file or directory in ${root.what ?? 'the source'}`);
    }
    const src = { full, rel, st };
    if (excludedSource(root, src, instruction)) throw new BuildError(`${instruction}: source ${pattern}: excluded by .dockerignore`);
    return [src];
  }
  let found: { rel: string[] }[] = [{ rel: [] }];
  for (const comp of components) {
    const next: { rel: string[] }[] = [];
    for (const f of found) {
      const dir = resolveFollowing(root.dir, f.rel, instruction);
      if (!hasWildcard(comp)) {
        if (existsSync(path.join(dir, comp))) next.push({ rel: [...f.rel, comp] });
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      const re = componentRegExp(comp);
      for (const n of names) if (re.test(n)) next.push({ rel: [...f.rel, n] });
    }
    found = next;
  }
  const out: Source[] = [];
  for (const f of found) {
    const rel = f.rel.join('/');
    const full = resolveFollowing(root.dir, f.rel, instruction);
    const src = { full, rel, st: sourceOp(root, rel, 'stat', instruction, () => statSync(full)) };
    if (!excludedSource(root, src, instruction)) out.push(src);
  }
  if (out.length === 0) throw new BuildError(`${instruction}: no source files were specified (${pattern} matches nothing)`);
  return out;
}

/** One path of a source's walk. */
export interface WalkEntry {
  full: string;
  rel: string;
  st: Stats;
}

/** A failed read (or copy) of a path of a source root is a BuildError naming the path in the root, never a bare errno. */
function sourceOp<T>(root: SourceRoot, rel: string, op: string, instruction: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof BuildError || typeof code !== 'string') throw err;
    throw new BuildError(`${instruction}: ${op} ${rel === '' ? '.' : rel} in ${root.what ?? 'the source'}: ${code}`, { cause: err });
  }
}

/**
 * The paths below a directory of a source, depth first, names sorted. An excluded directory is
 * entered only when an exception could re-include something below it, and is yielded only before
 * the first path that is (Docker's context holds it only as the way to that path): `pending` holds
 * the excluded directories entered and not yet yielded, always the innermost part of the chain.
 */
function* walkBelow(root: SourceRoot, dir: WalkEntry, pending: WalkEntry[], instruction: string): Generator<WalkEntry> {
  const names = sourceOp(root, dir.rel, 'read directory', instruction, () => readdirSync(dir.full)).sort();
  for (const name of names) {
    const full = path.join(dir.full, name);
    const rel = dir.rel === '' ? name : `${dir.rel}/${name}`;
    const entry: WalkEntry = { full, rel, st: sourceOp(root, rel, 'lstat', instruction, () => lstatSync(full)) };
    if (!isIgnored(root, entry.rel)) {
      yield* pending.splice(0);
      yield entry;
      if (entry.st.isDirectory()) yield* walkBelow(root, entry, pending, instruction);
    } else if (entry.st.isDirectory() && root.ignored?.mayReincludeBelow(entry.rel)) {
      pending.push(entry);
      yield* walkBelow(root, entry, pending, instruction);
      if (pending[pending.length - 1] === entry) pending.pop();
    }
  }
}

/** Walks a source: itself, then (for a directory) what the context holds below it. */
export function* walkSource(root: SourceRoot, src: Source, instruction = 'COPY'): Generator<WalkEntry> {
  yield src;
  if (src.st.isDirectory()) yield* walkBelow(root, src, [], instruction);
}

/**
 * Is a source named by COPY outside the context? An excluded path is, unless it is a directory
 * on the way to a re-included path (`drop` excluded, `!drop/deep/important.txt`).
 */
function excludedSource(root: SourceRoot, src: Source, instruction: string): boolean {
  if (!isIgnored(root, src.rel)) return false;
  return !src.st.isDirectory() || walkBelow(root, src, [], instruction).next().done === true;
}

/** Digest of the sources' content and metadata, for the cache key. */
export function sourcesDigest(root: SourceRoot, sources: readonly Source[], instruction = 'COPY'): string {
  const h = createHash('sha256');
  for (const src of sources) {
    h.update(`src ${src.rel}\0`);
    for (const e of walkSource(root, src, instruction)) {
      const rel = path.relative(src.full, e.full);
      const st = e.st;
      h.update(`${rel}\0${st.mode.toString(8)}\0`);
      if (st.isFile()) h.update(`${st.size}\0`).update(sourceOp(root, e.rel, 'read', instruction, () => readFileSync(e.full)));
      else if (st.isSymbolicLink()) h.update(sourceOp(root, e.rel, 'readlink', instruction, () => readlinkSync(e.full)));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

export interface CopyOptions {
  uid: number;
  gid: number;
  /** --chmod: replaces the mode of everything copied. */
  mode?: number;
  instruction: string;
}

function applyMeta(dest: string, st: Stats, opts: CopyOptions): void {
  lchownSync(dest, opts.uid, opts.gid);
  if (!st.isSymbolicLink()) chmodSync(dest, opts.mode ?? st.mode & 0o7777);
  lutimesSync(dest, st.atime, st.mtime);
}

function copyEntry(src: string, st: Stats, dest: string, opts: CopyOptions): void {
  let existing: Stats | undefined;
  try {
    existing = lstatSync(dest);
  } catch {
    existing = undefined;
  }
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dest, { force: true, recursive: true });
    if (!existing || !existing.isDirectory()) mkdirSync(dest);
  } else {
    if (existing) rmSync(dest, { force: true, recursive: true });
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dest);
    else if (st.isFile()) copyFileSync(src, dest);
    else return; // devices, fifos, sockets are not copied from a context
  }
  applyMeta(dest, st, opts);
}

/** Copies a directory's contents below `destDir` (inside `destRoot`). */
function copyTree(root: SourceRoot, src: Source, destDir: string, opts: CopyOptions): void {
  const dirs: { dest: string; st: Stats }[] = [];
  for (const e of walkSource(root, src, opts.instruction)) {
    if (e === src) continue;
    const dest = path.join(destDir, path.relative(src.full, e.full));
    sourceOp(root, e.rel, 'copy', opts.instruction, () => copyEntry(e.full, e.st, dest, opts));
    if (e.st.isDirectory()) dirs.push({ dest, st: e.st });
  }
  // Directory times last (copying into a directory changes its mtime).
  for (const d of dirs.reverse()) lutimesSync(d.dest, d.st.atime, d.st.mtime);
}

/**
 * Copies `sources` to `dest` (absolute in the image) inside `destRoot` (a mounted root
 * filesystem), Docker's COPY semantics.
 */
export function copySources(root: SourceRoot, sources: readonly Source[], destRoot: string, dest: string, opts: CopyOptions): void {
  const destIsDir = dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
  const destComponents = archivePathComponents(dest, opts.instruction);
  if (sources.length > 1 && !destIsDir) {
    throw new BuildError(`${opts.instruction}: when using COPY with more than one source file, the destination must be a directory and end with a /`);
  }
  for (const src of sources) {
    if (src.st.isDirectory()) {
      const dir = resolveDirectory(destRoot, destComponents, opts.instruction);
      if (destComponents.length > 0) applyDirMeta(dir, src.st, opts, true);
      copyTree(root, src, dir, opts);
      if (destComponents.length > 0) lutimesSync(dir, src.st.atime, src.st.mtime);
      continue;
    }
    let target: string;
    const existing = destComponents.length === 0 ? statSync(destRoot) : statOrUndefined(resolveFollowingSafe(destRoot, destComponents, opts.instruction));
    if (destIsDir || existing?.isDirectory()) {
      const dir = resolveDirectory(destRoot, destComponents, opts.instruction);
      target = path.join(dir, path.basename(src.rel === '' ? src.full : src.rel));
    } else {
      resolveDirectory(destRoot, destComponents.slice(0, -1), opts.instruction);
      target = resolveEntry(destRoot, destComponents, opts.instruction);
    }
    sourceOp(root, src.rel, 'copy', opts.instruction, () => copyEntry(src.full, src.st, target, opts));
  }
}

/** A directory COPY creates for a directory source gets the --chown owner (Docker), its mode stays. */
function applyDirMeta(dir: string, _st: Stats, opts: CopyOptions, created: boolean): void {
  if (created && (opts.uid !== 0 || opts.gid !== 0)) lchownSync(dir, opts.uid, opts.gid);
}

function statOrUndefined(p: string | undefined): Stats | undefined {
  if (p === undefined) return undefined;
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function resolveFollowingSafe(root: string, components: string[], what: string): string | undefined {
  try {
    return resolveFollowing(root, components, what);
  } catch {
    return undefined;
  }
}

/** A heredoc `COPY <<EOF /dest`: a file with `content`. */
export function writeHeredocFile(destRoot: string, dest: string, name: string, content: string, opts: CopyOptions): void {
  const destComponents = archivePathComponents(dest, opts.instruction);
  const destIsDir = dest.endsWith('/');
  const existing = statOrUndefined(resolveFollowingSafe(destRoot, destComponents, opts.instruction));
  let target: string;
  if (destIsDir || existing?.isDirectory()) target = path.join(resolveDirectory(destRoot, destComponents, opts.instruction), name);
  else {
    resolveDirectory(destRoot, destComponents.slice(0, -1), opts.instruction);
    target = resolveEntry(destRoot, destComponents, opts.instruction);
  }
  rmSync(target, { force: true, recursive: true });
  writeFileSync(target, content);
  lchownSync(target, opts.uid, opts.gid);
  chmodSync(target, opts.mode ?? 0o644);
}

/** Is this file a tar archive ADD extracts (plain, gzip, bzip2, xz)? */
export function archiveKind(file: string): 'tar' | 'gzip' | 'bzip2' | 'xz' | undefined {
  const buf = Buffer.alloc(512);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, buf, 0, 512, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (n >= 3 && buf.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && buf.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}
