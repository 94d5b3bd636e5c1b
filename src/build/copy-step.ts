/**
 * COPY and ADD: their flags (--from, --chown, --chmod, --link), the sources resolved in their root
 * (the build context with .dockerignore, another stage's files, or a stored image's), heredoc
 * files, the history line and the cache description (a digest of the sources, ./context.ts), then
 * the copy into the mounted state: files and directories with Docker's semantics, local archives
 * extracted by ADD.
 */

import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { BuildError, DockerfileError, HullError } from '../errors.js';
import { removeTree } from '../layer/remove-tree.js';
import { archiveKind, copySources, resolveSources, sourcesDigest, writeHeredocFile, type Source, type SourceRoot } from './context.js';
import type { Instruction } from './dockerfile.js';
import type { DockerIgnore } from './dockerignore.js';
import type { Expander } from './expand.js';
import type { Env } from './shell-words.js';
import { configOf, sha, type State } from './state.js';

type HeredocSource = { heredoc: string; content: string };

/** A COPY or ADD, planned: what to copy where, and how the step is recorded and cached. */
export interface CopyStep {
  keyword: string;
  root: SourceRoot;
  sources: (Source | HeredocSource)[];
  /** Absolute in the image (ends in `/` for a directory). */
  dest: string;
  chown?: string;
  chmod?: number;
  /** `Dockerfile:3: COPY`, for errors. */
  instruction: string;
  createdBy: string;
  description: string;
}

export interface CopyContext {
  x: Expander;
  contextDir: string;
  ignored: DockerIgnore | undefined;
  /** The state `--from` names (an earlier stage's, or a stored image's), and what errors call it. */
  fromState(instr: Instruction, from: string): Promise<{ state: State; what: string }>;
  /** A read-only view of a state's files. */
  viewOf(state: State): Promise<string>;
}

/** Plans `instr` on `state` (its WorkingDir makes a relative destination absolute), words expanded with `env`. */
export async function planCopy(instr: Instruction, env: Env, state: State, ctx: CopyContext): Promise<CopyStep> {
  const { x } = ctx;
  const k = instr.keyword;
  let from: string | undefined;
  let chown: string | undefined;
  let chmod: number | undefined;
  for (const f of instr.flags) {
    if (f.name === 'from') from = x.expand(instr, f.value, env);
    else if (f.name === 'chown') chown = x.expand(instr, f.value, env);
    else if (f.name === 'chmod') {
      if (!/^[0-7]{3,4}$/.test(f.value)) x.fail(instr, `invalid --chmod=${f.value}: hull build takes an octal mode`);
      chmod = parseInt(f.value, 8);
    } else if (f.name === 'link') continue; // layers are independent diffs anyway
    else x.fail(instr, `${k} --${f.name} is not supported by hull build`);
  }
  if (from !== undefined && k === 'ADD') x.fail(instr, 'ADD does not take --from (use COPY --from)');
  let words: string[];
  if (instr.json) words = instr.json.map((w) => x.expand(instr, w, env));
  else words = x.expandList(instr, instr.args.replace(/<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g, '<<$2'), env);
  if (words.length < 2) x.fail(instr, `${k} requires at least two arguments`);
  const destRaw = words[words.length - 1] as string;
  const srcWords = words.slice(0, -1);
  const c = configOf(state);
  const workdir = (c.WorkingDir as string | undefined) || '/';
  let dest = path.posix.isAbsolute(destRaw) ? destRaw : path.posix.join(workdir, destRaw);
  if ((destRaw.endsWith('/') || destRaw === '.') && !dest.endsWith('/')) dest += '/';

  // Source root: the context, another stage, or an image.
  let root: SourceRoot;
  let fromKey = 'context';
  if (from !== undefined) {
    const source = await ctx.fromState(instr, from);
    root = { dir: await ctx.viewOf(source.state), what: source.what };
    fromKey = source.state.key;
  } else {
    root = { dir: ctx.contextDir, what: 'the build context', ...(ctx.ignored ? { ignored: ctx.ignored } : {}) };
  }
  const heredocs = new Map(instr.heredocs.map((h) => [h.name, h]));
  const sources: (Source | HeredocSource)[] = [];
  for (const w of srcWords) {
    const hd = /^<<([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (hd && heredocs.has(hd[1] as string)) {
      const h = heredocs.get(hd[1] as string) as { content: string; expand: boolean };
      sources.push({ heredoc: hd[1] as string, content: h.expand ? expandHeredoc(h.content, env) : h.content });
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(w)) x.fail(instr, `${k} from a URL is not supported by hull build (${w})`);
    try {
      sources.push(...resolveSources(root, w, `${x.file.file}:${instr.line}: ${k} ${w}`));
    } catch (err) {
      if (err instanceof HullError && !(err instanceof DockerfileError)) throw new BuildError(err.message);
      throw err;
    }
  }
  if (sources.length > 1 && !dest.endsWith('/')) {
    x.fail(instr, `when using ${k} with more than one source file, the destination must be a directory and end with a /`);
  }
  const files = sources.filter((s): s is Source => 'full' in s);
  const digest = sourcesDigest(root, files, `${x.file.file}:${instr.line}: ${k}`);
  const heredocDigest = sha(JSON.stringify(sources.filter((s) => 'heredoc' in s)));
  const createdBy = `${k} ${from !== undefined ? `--from=${from} ` : ''}${chown !== undefined ? `--chown=${chown} ` : ''}${chmod !== undefined ? `--chmod=${chmod.toString(8)} ` : ''}${srcWords.join(' ')} ${dest} # buildkit`;
  const description = `${k} ${JSON.stringify({ from: fromKey, srcs: srcWords, digest, heredocDigest, dest, chown, chmod })}`;
  return {
    keyword: k, root, sources, dest, ...(chown !== undefined ? { chown } : {}), ...(chmod !== undefined ? { chmod } : {}),
    instruction: `${x.file.file}:${instr.line}: ${k}`, createdBy, description,
  };
}

function expandHeredoc(content: string, env: Env): string {
  // Variables expand; quotes stay (a heredoc body is not a shell word).
  return content.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) =>
    env.get((a ?? b) as string) ?? '');
}

/** --chown's user and group as ids: numbers, or names looked up in the state's /etc/passwd and /etc/group (`readFile`). */
export function chownIds(chown: string | undefined, instr: Instruction, x: Expander, readFile: (file: string) => string | undefined): { uid: number; gid: number } {
  if (chown === undefined) return { uid: 0, gid: 0 };
  const [user = '', group] = chown.split(':');
  const lookup = (name: string, file: string, what: string): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const text = readFile(file);
    for (const line of (text ?? '').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
    }
    x.fail(instr, `unable to convert ${what} "${name}" for --chown: no such ${what} in ${file}`);
  };
  const uid = lookup(user, '/etc/passwd', 'user');
  const gid = group === undefined ? uid : lookup(group, '/etc/group', 'group');
  return { uid, gid };
}

/** Copies the step's sources into `rootfs` (the mounted state), owned by `owner`; `temp` names a scratch directory. */
export async function applyCopy(step: CopyStep, rootfs: string, owner: { uid: number; gid: number }, temp: (prefix: string) => string): Promise<void> {
  const { keyword: k, sources, dest } = step;
  const opts = { ...owner, ...(step.chmod !== undefined ? { mode: step.chmod } : {}), instruction: step.instruction };
  for (const s of sources) {
    if ('heredoc' in s) {
      writeHeredocFile(rootfs, dest, s.heredoc, s.content, opts);
      continue;
    }
    if (k === 'ADD' && s.st.isFile() && archiveKind(s.full) !== undefined) {
      await extractInto(s, rootfs, dest, temp('add'), opts);
      continue;
    }
    copySources(step.root, [s], rootfs, sources.length > 1 && !dest.endsWith('/') ? `${dest}/` : dest, opts);
  }
}

/** ADD of a local archive: extracted (safely, without owners) into `dir`, then copied into place. */
async function extractInto(src: Source, rootfs: string, dest: string, dir: string, opts: { uid: number; gid: number; instruction: string }): Promise<void> {
  const kind = archiveKind(src.full);
  if (kind === 'bzip2' || kind === 'xz') throw new BuildError(`${opts.instruction}: ${src.rel}: ${kind} archives are not supported by hull build (gzip and plain tar are)`);
  const { extractTar } = await import('../layer/unpack.js');
  await extractTar(createReadStream(src.full), dir, { what: src.rel });
  copySources({ dir }, [{ full: dir, rel: '', st: statSync(dir) }], rootfs, dest.endsWith('/') ? dest : `${dest}/`, opts);
  await removeTree(dir);
}
