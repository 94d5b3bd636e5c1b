/**
 * `.dockerignore`, with the rules of the Dockerfile reference (on Linux):
 *
 *   - the file: a UTF-8 BOM is dropped, lines end in LF or CRLF, a line whose first character is
 *     `#` is a comment (`#` after a space is not), lines are trimmed and empty ones skipped;
 *   - a pattern is cleaned as a path (`./a/b/` → `a/b`, a leading `/` dropped) and matched one path
 *     component at a time with Go's filepath.Match: `*` any run of characters, `?` one character,
 *     `[a-z]`/`[^a-z]` classes, `\` taking the next character literally, everything else literally
 *     (`+ ( ) | { } $ .` too), case-sensitive; a `/` always separates components;
 *   - a component that is just `**` matches any number of directories, none included; as the last
 *     component it matches one or more, so `a/**` is what is inside `a`, not `a` itself; glued to
 *     other text (`**.pyc`, `build**`) it is any run of characters, `/` included, as Docker has it;
 *   - a pattern that matches a directory excludes everything below it; `!` re-includes; the last
 *     pattern that matches a path (or one of its parents) decides; a malformed pattern or a lone `!`
 *     is an error.
 *
 * An excluded directory is still walked when an exception could match something below it (`*`
 * then `!drop/deep/important.txt`): see mayReincludeBelow. hull's own, not @balena/dockerignore: that
 * one reads `+ ( )` in patterns as regexp syntax, ignores case, and cannot answer mayReincludeBelow.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BuildError } from '../errors.js';

/** One path component of a pattern. */
type Step =
  /** `**`: zero or more whole components (one or more as the pattern's last step). */
  | { kind: 'dirs' }
  /** A glob within one component. */
  | { kind: 'name'; re: RegExp }
  /** A glob with `**` inside it: may run across `/`; `head` is what the first component it covers must start with. */
  | { kind: 'span'; re: RegExp; head: RegExp };

interface Rule {
  steps: Step[];
  /** A `!` line: re-includes what it matches. */
  exception: boolean;
}

const syntaxError = (pattern: string) => new BuildError(`syntax error in pattern ${JSON.stringify(pattern)}`);

/** A path cleaned as Go's filepath.Clean does, split into its components; [] for the context itself. */
function components(p: string): string[] {
  const clean = path.posix.normalize(p).replace(/^\/+|\/+$/g, '');
  return clean === '' || clean === '.' ? [] : clean.split('/');
}

/** A character outside a class, as regexp source that matches just it. */
function literal(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** A character inside a class (any code point, whatever it means to regexps). */
function classMember(c: string): string {
  return `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
}

/**
 * The class that starts after the `[` at `chars[start - 1]`: its regexp source and the index of its `]`.
 * filepath.Match's grammar: `[`, an optional `^`, one or more of `c`, `\c` or `lo-hi`, `]`; an
 * unescaped `-` or `]` cannot be a member, and a range whose ends are reversed matches nothing.
 */
function parseClass(chars: readonly string[], start: number, pattern: string): [string, number] {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  /** One member character at i (escaped or not); moves i past it. */
  const member = (): string => {
    let c = chars[i];
    if (c === undefined || c === '-' || c === ']') throw syntaxError(pattern);
    if (c === '\\') c = chars[++i];
    if (c === undefined) throw syntaxError(pattern);
    i++;
    return c;
  };
  let members = '';
  for (let count = 0; chars[i] !== ']' || count === 0; count++) {
    const lo = member();
    if (chars[i] !== '-') {
      members += classMember(lo);
      continue;
    }
    i++;
    const hi = member();
    if ((lo.codePointAt(0) as number) <= (hi.codePointAt(0) as number)) members += `${classMember(lo)}-${classMember(hi)}`;
  }
  // A class never matches the separator, even where a span lets the text around it hold one.
  return [`(?!/)[${negated ? '^' : ''}${members}]`, i];
}

/** One component of a pattern (code points, `\` escapes kept) as a step. */
function compileStep(chars: readonly string[], pattern: string): Step {
  if (chars.length === 2 && chars[0] === '*' && chars[1] === '*') return { kind: 'dirs' };
  let source = '';
  let head: string | undefined;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*' && chars[i + 1] === '*') {
      head ??= source;
      while (chars[i + 1] === '*') i++;
      source += '[^]*';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const [cls, end] = parseClass(chars, i + 1, pattern);
      source += cls;
      i = end;
    } else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw syntaxError(pattern); // a `\` that escapes nothing
      source += literal(next);
    } else source += literal(c);
  }
  const re = new RegExp(`^${source}$`, 'u');
  return head === undefined ? { kind: 'name', re } : { kind: 'span', re, head: new RegExp(`^${head}`, 'u') };
}

/** A cleaned pattern as its steps: split at every `/` (an escaped one too: no name holds a `/`), runs of `**` steps made one. */
function compile(pattern: string): Step[] {
  const parts: string[][] = [[]];
  const chars = Array.from(pattern); // code points, as Go's filepath.Match reads runes
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const current = parts[parts.length - 1] as string[];
    if (c === '/' || (c === '\\' && chars[i + 1] === '/')) {
      if (c === '\\') i++;
      parts.push([]);
    } else if (c === '\\' && i + 1 < chars.length) current.push(c, chars[++i] as string);
    else current.push(c);
  }
  const steps: Step[] = [];
  for (const part of parts) {
    if (part.length === 0) continue;
    const step = compileStep(part, pattern);
    if (step.kind !== 'dirs' || steps[steps.length - 1]?.kind !== 'dirs') steps.push(step);
  }
  return steps;
}

/**
 * Do steps[i..] match names[j..]? Two questions share the recursion:
 *   - `below` false: do they match names[j..k] for some k, i.e. the path or one of its parents;
 *   - `below` true: could they match names[j..] followed by one or more further components, i.e.
 *     something strictly below the directory `names` (a component not given is assumed nameable).
 */
function matches(steps: readonly Step[], i: number, names: readonly string[], j: number, below: boolean): boolean {
  if (i === steps.length) return !below && j > 0;
  // Steps left and no names: a `**` can match nothing, but not as the last step, and runs of them are one.
  if (j === names.length) return below;
  const step = steps[i] as Step;
  switch (step.kind) {
    case 'dirs': {
      if (below) return true; // it can take the rest of the directory and whatever the remaining steps need below it
      for (let k = j; k <= names.length; k++) if (matches(steps, i + 1, names, k, below)) return true;
      return false;
    }
    case 'span':
      for (let k = j + 1; k <= names.length; k++) if (step.re.test(names.slice(j, k).join('/')) && matches(steps, i + 1, names, k, below)) return true;
      // Below the directory: it may also run past its end, when the first component it covers starts as it must.
      return below && step.head.test(names[j] as string);
    case 'name':
      return step.re.test(names[j] as string) && matches(steps, i + 1, names, j + 1, below);
  }
}

export class DockerIgnore {
  private readonly rules: Rule[] = [];

  /**
   * The patterns, one per line of a `.dockerignore` (no comments): trimmed, `!` taken off, cleaned
   * as paths. A malformed one or a lone `!` is a BuildError naming it.
   */
  constructor(patterns: readonly string[]) {
    for (const line of patterns) {
      let pattern = line.trim();
      if (pattern === '') continue;
      const exception = pattern.startsWith('!');
      if (exception) {
        pattern = pattern.slice(1).trim();
        if (pattern === '') throw new BuildError('illegal exclusion pattern: "!"');
      }
      pattern = components(pattern).join('/');
      if (pattern === '') continue; // `/`, `.`: the context itself, which is never excluded
      this.rules.push({ steps: compile(pattern), exception });
    }
  }

  /** The patterns of a `.dockerignore` file's text. */
  static parse(text: string): DockerIgnore {
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    return new DockerIgnore(lines.filter((line) => !line.startsWith('#')));
  }

  /** Is this context path (relative, `/`-separated) excluded? The last rule that matches it or one of its parents decides. */
  ignores(rel: string): boolean {
    const names = components(rel);
    if (names.length === 0) return false; // the context itself
    for (let r = this.rules.length - 1; r >= 0; r--) {
      const rule = this.rules[r] as Rule;
      if (matches(rule.steps, 0, names, 0, false)) return !rule.exception;
    }
    return false;
  }

  /**
   * Could something strictly below this excluded directory be re-included? The rules that match the
   * directory or one of its parents match everything below it too, so only an exception after the
   * last of them that can match a path below it (not the directory itself) can. The answer errs
   * only towards "could": the walk then enters the directory and finds nothing to add.
   */
  mayReincludeBelow(dir: string): boolean {
    const names = components(dir);
    let r = this.rules.length - 1;
    while (r >= 0 && !matches((this.rules[r] as Rule).steps, 0, names, 0, false)) r--;
    return this.rules.slice(r + 1).some((rule) => rule.exception && matches(rule.steps, 0, names, 0, true));
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
