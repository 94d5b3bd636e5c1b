/**
 * The build context and COPY/ADD sources:
 *
 *   - `.dockerignore` (Docker's rules, through @balena/dockerignore, a port of moby's matcher);
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
import dockerignore, { type Ignore } from '@balena/dockerignore';
import { BuildError } from '../errors.js';
import { archivePathComponents, resolveDirectory, resolveEntry, resolveFollowing } from '../layer/root-path.js';

export interface SourceRoot {
  dir: string;
  /** Context paths excluded by .dockerignore (the context only). */
  ignored?: Ignore;
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

/** `.dockerignore` of a context directory (none → nothing ignored). */
export function readDockerignore(contextDir: string): Ignore | undefined {
  const file = path.join(contextDir, '.dockerignore');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  // The package sets module.exports = factory and factory.default = factory (both module systems).
  return dockerignore.default().add(lines);
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
    if (isIgnored(root, rel)) throw new BuildError(`${instruction}: source ${pattern}: excluded by .dockerignore`);
    return [{ full, rel, st }];
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
    if (isIgnored(root, rel)) continue;
    const full = resolveFollowing(root.dir, f.rel, instruction);
    out.push({ full, rel, st: statSync(full) });
  }
  if (out.length === 0) throw new BuildError(`${instruction}: no source files were specified (${pattern} matches nothing)`);
  return out;
}

/** Walks a source: itself, then (for a directory) everything below it that is not ignored. */
function* walkSource(root: SourceRoot, src: Source): Generator<{ full: string; rel: string; st: Stats }> {
  yield src;
  if (!src.st.isDirectory()) return;
  const stack: { full: string; rel: string }[] = [{ full: src.full, rel: src.rel }];
  while (stack.length > 0) {
    const d = stack.pop() as { full: string; rel: string };
    for (const name of readdirSync(d.full).sort()) {
      const full = path.join(d.full, name);
      const rel = d.rel === '' ? name : `${d.rel}/${name}`;
      if (isIgnored(root, rel)) {
        // A re-included path below an ignored directory still counts (Docker's `!` rules).
        const st = lstatSync(full);
        if (!st.isDirectory()) continue;
      }
      const st = lstatSync(full);
      if (!isIgnored(root, rel)) yield { full, rel, st };
      if (st.isDirectory()) stack.push({ full, rel });
    }
  }
}

/** Digest of the sources' content and metadata, for the cache key. */
export function sourcesDigest(root: SourceRoot, sources: readonly Source[]): string {
  const h = createHash('sha256');
  for (const src of sources) {
    h.update(`src ${src.rel}\0`);
    for (const e of walkSource(root, src)) {
      const rel = path.relative(src.full, e.full);
      const st = e.st;
      h.update(`${rel}\0${st.mode.toString(8)}\0`);
      if (st.isFile()) h.update(`${st.size}\0`).update(readFileSync(e.full));
      else if (st.isSymbolicLink()) h.update(readlinkSync(e.full));
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
  for (const e of walkSource(root, src)) {
    if (e === src) continue;
    const rel = path.relative(src.full, e.full);
    const dest = path.join(destDir, rel);
    copyEntry(e.full, e.st, dest, opts);
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
    copyEntry(src.full, src.st, target, opts);
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
