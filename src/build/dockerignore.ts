/**
 * `.dockerignore`: a port of moby's ignorefile.ReadAll and patternmatcher (the matcher Docker's
 * CLI and BuildKit use), on Linux:
 *
 *   - a line starting with `#` is a comment; lines are trimmed; a UTF-8 BOM is dropped;
 *   - each pattern is cleaned as Go's filepath.Clean (`./a/` → `a`) and a leading `/` dropped;
 *   - `*` and `?` stay within a path component, `**` spans any number of them, `[a-z]` and `\`
 *     escapes as in filepath.Match; matching is case-sensitive;
 *   - a pattern excludes a path when it matches the path or one of its parent directories; `!`
 *     re-includes; the last pattern that matches decides.
 *
 * A directory that is excluded is still walked when an exception could match something below it
 * (`*` then `!drop/deep/important.txt`): only such a path and the directories on the way to it are
 * in the context, as Docker's.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BuildError } from '../errors.js';

/** moby/patternmatcher's shouldEscape: regexp metacharacters that mean nothing to filepath.Match. */
const ESCAPED = new Set('.+()|{}$');

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Go's filepath.Clean for a slash-separated path. */
function cleanPath(p: string): string {
  const c = path.posix.normalize(p);
  return c.length > 1 && c.endsWith('/') ? c.slice(0, -1) : c;
}

/** Would Go's filepath.Match reject this pattern (an unclosed `[`, a trailing `\`, a bad range)? */
function globSyntaxError(p: string): boolean {
  const chars = [...p];
  /** getEsc: one class character (escaped or not) at `i`; its end, or -1 when malformed. */
  const esc = (i: number): number => {
    if (i >= chars.length || chars[i] === '-' || chars[i] === ']') return -1;
    if (chars[i] === '\\' && ++i >= chars.length) return -1;
    return i + 1 < chars.length ? i + 1 : -1;
  };
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      if (++i >= chars.length) return true;
    } else if (chars[i] === '[') {
      i++;
      if (chars[i] === '^') i++;
      for (let ranges = 0; ; ranges++) {
        if (chars[i] === ']' && ranges > 0) break;
        i = esc(i);
        if (i < 0) return true;
        if (chars[i] === '-') {
          i = esc(i + 1);
          if (i < 0) return true;
        }
      }
    }
  }
  return false;
}

class Pattern {
  readonly type: MatchType;
  private readonly regexp: RegExp | undefined;
  /** The pattern's path components (for the walk's "could it match below this directory"). */
  readonly dirs: string[];

  constructor(readonly cleaned: string, readonly exclusion: boolean) {
    this.dirs = cleaned.split('/');
    // patternmatcher's compile(): the regexp, and the cheaper match it can be replaced with.
    let re = '^';
    let type: MatchType = 'exact';
    const chars = [...cleaned];
    for (let i = 0, n = 0; i < chars.length; i++, n++) {
      const ch = chars[i] as string;
      if (ch === '*') {
        if (chars[i + 1] === '*') {
          i++;
          if (chars[i + 1] === '/') i++; // `**/` is `**`
          if (i + 1 >= chars.length) {
            // `**` at the end takes everything, as .gitignore
            if (type === 'exact') type = 'prefix';
            else {
              re += '.*';
              type = 'regexp';
            }
          } else {
            re += '(.*/)?';
            type = 'regexp';
          }
          if (n === 0) type = 'suffix';
        } else {
          re += '[^/]*';
          type = 'regexp';
        }
      } else if (ch === '?') {
        re += '[^/]';
        type = 'regexp';
      } else if (ESCAPED.has(ch)) re += `\\${ch}`;
      else if (ch === '\\') {
        if (i + 1 < chars.length) {
          re += `\\${chars[++i] as string}`;
          type = 'regexp';
        } else re += '\\\\';
      } else if (ch === '[' || ch === ']') {
        re += ch;
        type = 'regexp';
      } else re += ch;
    }
    this.type = type;
    if (type === 'regexp') {
      try {
        this.regexp = new RegExp(`${re}$`);
      } catch {
        throw new BuildError(`syntax error in pattern ${JSON.stringify(cleaned)}`);
      }
    }
  }

  match(p: string): boolean {
    switch (this.type) {
      case 'exact':
        return p === this.cleaned;
      case 'prefix':
        return p.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        return p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1));
      }
      case 'regexp':
        return (this.regexp as RegExp).test(p);
    }
  }
}

/** One path component of a pattern without `**`, `[` or `\`, as a regexp (`*` and `?` within the component). */
function componentMatches(component: string, name: string): boolean {
  let re = '^';
  for (const ch of component) re += ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`${re}$`).test(name);
}

export class DockerIgnore {
  private readonly patterns: Pattern[] = [];
  private readonly exceptions: Pattern[] = [];

  /** Patterns as ignorefile.ReadAll returns them (patternmatcher.New's checks: `BuildError` naming the pattern). */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new BuildError('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      if (globSyntaxError(p)) throw new BuildError(`syntax error in pattern ${JSON.stringify(p)}`);
      const pattern = new Pattern(p, exclusion);
      this.patterns.push(pattern);
      if (exclusion) this.exceptions.push(pattern);
    }
  }

  /** ignorefile.ReadAll: the patterns of a `.dockerignore` file's text. */
  static parse(text: string): DockerIgnore {
    const patterns: string[] = [];
    text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line) => {
      if (line.startsWith('#')) return; // a comment only at the very start of the line
      let p = line.trim();
      if (p === '') return;
      const invert = p.startsWith('!');
      if (invert) p = p.slice(1).trim();
      if (p.length > 0) {
        p = cleanPath(p);
        if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
      }
      patterns.push(invert ? `!${p}` : p);
    });
    return new DockerIgnore(patterns);
  }

  /**
   * Is this context path (relative, `/`-separated) excluded? patternmatcher's MatchesOrParentMatches:
   * each pattern is tried on the path and on each of its parent directories; the last match decides.
   */
  ignores(rel: string): boolean {
    const file = cleanPath(rel);
    if (file === '.') return false; // the context itself
    const parents = path.posix.dirname(file) === '.' ? [] : path.posix.dirname(file).split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      // An exclusion can only change a match, an exception only undo one.
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      for (let i = 1; !match && i <= parents.length; i++) match = pattern.match(parents.slice(0, i).join('/'));
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * Could an exception re-include something strictly below this excluded directory? A path below
   * it differs from it only in the patterns that match that path itself (those that match the
   * directory or its parents decide for both), so only an exception with more components than the
   * directory, whose first components match it, can. Wildcards we do not reason about (`**`, classes,
   * escapes) count as "could", so the walk stays exact and only skips what it can prove empty.
   */
  mayReincludeBelow(dir: string): boolean {
    const names = cleanPath(dir).split('/');
    return this.exceptions.some((pattern) => {
      for (let i = 0; i < names.length; i++) {
        const component = pattern.dirs[i];
        if (component === undefined) return false;
        if (/\*\*|[[\\]/.test(component)) return true;
        if (!componentMatches(component, names[i] as string)) return false;
      }
      return pattern.dirs.length > names.length;
    });
  }
}

/** The `.dockerignore` of a context directory (none → undefined); a bad one is a BuildError naming it. */
export function readDockerignore(contextDir: string): DockerIgnore | undefined {
  const file = path.join(contextDir, '.dockerignore');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new BuildError(`unable to prepare context: cannot read .dockerignore: ${code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`, { cause: err });
  }
  try {
    return DockerIgnore.parse(text);
  } catch (err) {
    if (err instanceof BuildError) throw new BuildError(`unable to prepare context: .dockerignore: ${err.message}`, { cause: err });
    throw err;
  }
}
