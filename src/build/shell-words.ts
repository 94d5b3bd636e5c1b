/**
 * Variable substitution and word splitting in Dockerfile arguments, as BuildKit's shell lexer
 * (frontend/dockerfile/shell/lex.go) does it for ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
 * USER, VOLUME, WORKDIR (and ONBUILD's instruction when it runs):
 *
 *   $VAR  ${VAR}  ${VAR:-word} ${VAR-word}  ${VAR:+word} ${VAR+word}  ${VAR:?msg} ${VAR?msg}
 *   ${VAR#glob} ${VAR##glob} ${VAR%glob} ${VAR%%glob}  ${VAR/glob/repl} ${VAR//glob/repl}
 *
 * 'single quotes' are literal; in "double quotes" variables expand and the escape character only
 * escapes `"`, `$` and itself; elsewhere the escape character makes the next character literal.
 * Quotes are removed. Unset variables expand to ''.
 */

import { UsageError } from '../errors.js';

export type Env = ReadonlyMap<string, string>;

export class ExpandError extends UsageError {}

class Lexer {
  private pos = 0;
  readonly words: string[] = [];
  private word = '';
  private inWord = false;
  /** Names of the variables this text referred to. */
  readonly used = new Set<string>();

  constructor(
    private readonly text: string,
    private readonly env: Env,
    private readonly escape: string,
    private readonly split: boolean,
  ) {}

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private next(): string | undefined {
    return this.text[this.pos++];
  }

  private add(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  private endWord(): void {
    if (this.inWord) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
  }

  run(stopAt?: string): string {
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (stopAt !== undefined && stopAt.includes(ch)) break;
      this.pos++;
      if (ch === this.escape) {
        const n = this.next();
        if (n !== undefined) this.add(n);
        continue;
      }
      if (ch === "'") {
        this.inWord = true;
        this.singleQuoted();
        continue;
      }
      if (ch === '"') {
        this.inWord = true;
        this.doubleQuoted();
        continue;
      }
      if (ch === '$') {
        const v = this.dollar();
        if (this.split && !v.quotedOrLiteral) {
          // Unquoted expansion: its whitespace separates words.
          const parts = v.value.split(/[ \t\n]+/);
          parts.forEach((p, idx) => {
            if (idx > 0) this.endWord();
            if (p !== '') this.add(p);
          });
        } else {
          this.add(v.value);
        }
        continue;
      }
      if (this.split && (ch === ' ' || ch === '\t' || ch === '\n')) {
        this.endWord();
        continue;
      }
      this.add(ch);
    }
    this.endWord();
    return this.words.join(' ');
  }

  private singleQuoted(): void {
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ExpandError(`unexpected end of statement while looking for matching single-quote in ${JSON.stringify(this.text)}`);
      if (ch === "'") return;
      this.add(ch);
    }
  }

  private doubleQuoted(): void {
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ExpandError(`unexpected end of statement while looking for matching double-quote in ${JSON.stringify(this.text)}`);
      if (ch === '"') return;
      if (ch === '$') {
        this.add(this.dollar().value);
        continue;
      }
      if (ch === this.escape) {
        const n = this.peek();
        if (n === '"' || n === '$' || n === this.escape) {
          this.pos++;
          this.add(n);
          continue;
        }
      }
      this.add(ch);
    }
  }

  /** After a `$`: the expansion. */
  private dollar(): { value: string; quotedOrLiteral: boolean } {
    const ch = this.peek();
    if (ch === '{') {
      this.pos++;
      return { value: this.braced(), quotedOrLiteral: false };
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))?.[0];
    if (name === undefined) {
      // `$` before something that is not a name: literal (a digit or special parameter is empty).
      const special = /^[0-9*#?@!$-]/.exec(this.text.slice(this.pos))?.[0];
      if (special !== undefined) {
        this.pos++;
        return { value: '', quotedOrLiteral: false };
      }
      return { value: '$', quotedOrLiteral: true };
    }
    this.pos += name.length;
    return { value: this.lookup(name) ?? '', quotedOrLiteral: false };
  }

  private lookup(name: string): string | undefined {
    this.used.add(name);
    return this.env.get(name);
  }

  private braced(): string {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))?.[0];
    if (name === undefined) throw new ExpandError(`bad substitution in ${JSON.stringify(this.text)}`);
    this.pos += name.length;
    const value = this.lookup(name);
    const ch = this.next();
    if (ch === '}') return value ?? '';
    if (ch === undefined) throw new ExpandError(`missing '}' in ${JSON.stringify(this.text)}`);
    let op = ch;
    if (ch === ':') {
      const n = this.next();
      if (n === undefined || !'-+?'.includes(n)) throw new ExpandError(`unsupported modifier (${ch}${n ?? ''}) in substitution ${JSON.stringify(this.text)}`);
      op = `:${n}`;
    } else if ((ch === '#' || ch === '%' || ch === '/') && this.peek() === ch) {
      this.pos++;
      op = ch + ch;
    }
    if (op === '/' || op === '//') {
      const pattern = this.subWord('/}');
      let repl = '';
      if (this.peek() === '/') {
        this.pos++;
        repl = this.subWord('}');
      }
      this.closeBrace();
      const v = value ?? '';
      const re = globToRegExp(pattern, false);
      return op === '//' ? v.replace(new RegExp(re.source, 'g'), () => repl) : v.replace(re, () => repl);
    }
    const word = this.subWord('}');
    this.closeBrace();
    switch (op) {
      case ':-':
        return value === undefined || value === '' ? word : value;
      case '-':
        return value === undefined ? word : value;
      case ':+':
        return value === undefined || value === '' ? '' : word;
      case '+':
        return value === undefined ? '' : word;
      case ':?':
        if (value === undefined || value === '') throw new ExpandError(`${name}: ${word || 'is not allowed to be unset'}`);
        return value;
      case '?':
        if (value === undefined) throw new ExpandError(`${name}: ${word || 'is not allowed to be unset'}`);
        return value;
      case '#':
      case '##':
        return trimGlob(value ?? '', word, 'prefix', op === '##');
      case '%':
      case '%%':
        return trimGlob(value ?? '', word, 'suffix', op === '%%');
      default:
        throw new ExpandError(`unsupported modifier (${op}) in substitution ${JSON.stringify(this.text)}`);
    }
  }

  private closeBrace(): void {
    if (this.next() !== '}') throw new ExpandError(`missing '}' in ${JSON.stringify(this.text)}`);
  }

  /** A word inside `${…}` (expanded, quotes removed), up to one of `stop`. */
  private subWord(stop: string): string {
    const inner = new Lexer(this.text, this.env, this.escape, false);
    inner.pos = this.pos;
    const value = inner.run(stop);
    this.pos = inner.pos;
    for (const u of inner.used) this.used.add(u);
    return value;
  }
}

function globToRegExp(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(anchored ? `^${re}$` : re);
}

function trimGlob(value: string, glob: string, side: 'prefix' | 'suffix', longest: boolean): string {
  const re = globToRegExp(glob, true);
  const lengths = [...Array(value.length + 1).keys()];
  if (longest) lengths.reverse();
  for (const n of lengths) {
    const part = side === 'prefix' ? value.slice(0, n) : value.slice(value.length - n);
    if (re.test(part)) return side === 'prefix' ? value.slice(n) : value.slice(0, value.length - n);
  }
  return value;
}

/** One word: variables expanded, quotes and escapes removed, whitespace kept. */
export function expandWord(text: string, env: Env, escape = '\\'): string {
  const lx = new Lexer(text, env, escape, false);
  lx.run();
  return lx.words[0] ?? '';
}

/** Words: variables expanded, split on unquoted whitespace, quotes and escapes removed. */
export function expandWords(text: string, env: Env, escape = '\\'): string[] {
  const lx = new Lexer(text, env, escape, true);
  lx.run();
  return lx.words;
}

/** The variable names `text` refers to (for cache keys: which build args a step used). */
export function referencedNames(text: string, env: Env, escape = '\\'): Set<string> {
  const lx = new Lexer(text, env, escape, true);
  try {
    lx.run();
  } catch {
    /* the error surfaces when the text is expanded */
  }
  return lx.used;
}

/**
 * Splits `text` into words on unquoted whitespace WITHOUT expanding or removing quotes (the raw
 * words of ENV/LABEL/ARG `key=value` lists, each expanded afterwards).
 */
export function rawWords(text: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === undefined && c === escape && i + 1 < text.length) {
      cur += c + (text[++i] as string);
      has = true;
      continue;
    }
    if (quote !== undefined) {
      if (c === escape && quote === '"' && i + 1 < text.length) {
        cur += c + (text[++i] as string);
        continue;
      }
      if (c === quote) quote = undefined;
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      has = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n') {
      if (has) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
    has = true;
  }
  if (quote !== undefined) throw new ExpandError(`unmatched ${quote} in ${JSON.stringify(text)}`);
  if (has) out.push(cur);
  return out;
}

/**
 * ENV / LABEL / ARG arguments: `k=v k2="v 2"`, or the legacy `ENV key value with spaces` form
 * (`legacy` allowed). Keys are raw; values raw (expand them with expandWord).
 */
export function keyValuePairs(text: string, escape: string, legacy: boolean): { key: string; value: string | undefined }[] {
  const words = rawWords(text, escape);
  const first = words[0];
  if (first === undefined) return [];
  if (!first.includes('=')) {
    if (legacy) {
      const rest = text.trim().slice(first.length).trim();
      if (words.length < 2) return [{ key: first, value: undefined }];
      return [{ key: first, value: rest }];
    }
    return words.map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? { key: w, value: undefined } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
    });
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? { key: w, value: undefined } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}
