/**
 * Splits a template into pieces: runs of text, and actions (`{{ … }}`) cut into tokens. Trim
 * markers (`{{- ` and ` -}}`: a dash with a space, tab or newline on its inner side) remove the
 * white space beside the action from the neighbouring text; comments (`{{/* … *\/}}`, trim
 * markers allowed) leave nothing.
 *
 * The scan stops at the first malformed piece of the template and records the problem where it
 * occurs (an 'error' token, or an 'error' piece for a comment), so that the parser reports it
 * only if it reaches that point without meeting an earlier mistake, as Go templates do.
 */
import { describeRune, quote } from './literals.js';

export type TokenKind =
  | 'keyword' // if, else, end, range, with, template, block, define, break, continue
  | 'ident' // a function name
  | 'bool' // true, false
  | 'nil'
  | 'dot' // `.` alone
  | 'field' // `.Name`
  | 'var' // `$` or `$name`
  | 'string' // "quoted" or `raw`, as written
  | 'char' // 'c', as written
  | 'number'
  | 'complex' // `1+2i`: read, then refused by the parser
  | 'punct' // ( ) | = := and any other printable ASCII character
  | 'close' // the action's `}}`
  | 'error'; // the text is the message

export interface Token {
  kind: TokenKind;
  text: string;
  /** Index in the template text where the token starts (for an error: where the malformed part starts). */
  pos: number;
  /** Whether white space comes before the token inside the action (it separates arguments). */
  spaced: boolean;
}

export type Piece =
  | { kind: 'text'; pos: number; text: string }
  /** `pos` is that of the `{{`; the last token is the 'close' or an 'error'. */
  | { kind: 'action'; pos: number; tokens: Token[] }
  /** A comment that is not closed, or not followed by `}}`. Nothing follows it. */
  | { kind: 'error'; pos: number; message: string };

const KEYWORDS: ReadonlySet<string> = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const SPACES = ' \t\r\n';
const isSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && SPACES.includes(c);
const WORD = /^[\p{L}\p{Nd}_]$/u;
const isWordChar = (c: string | undefined): boolean => c !== undefined && WORD.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

const DECIMAL = '0123456789_';
const HEX = '0123456789abcdefABCDEF_';

/** Stops a scan: the token or piece that records the problem has been added. */
class Stop extends Error {}

/** Splits `src` into pieces. */
export function scan(src: string): Piece[] {
  return new Scanner(src).pieces();
}

class Scanner {
  private at = 0;
  private readonly out: Piece[] = [];

  constructor(private readonly src: string) {}

  pieces(): Piece[] {
    try {
      while (this.at < this.src.length) this.textThenAction();
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
    }
    return this.out;
  }

  /** The code point at `i` (undefined at the end). */
  private charAt(i: number): string | undefined {
    const cp = this.src.codePointAt(i);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private skipSpaces(): void {
    while (isSpace(this.src[this.at])) this.at++;
  }

  /** The length of the action's end at `i`: 2 for `}}`, 4 for ` -}}`, 0 when there is none. */
  private closeLength(i: number): number {
    if (isSpace(this.src[i]) && this.src[i + 1] === '-' && this.src.startsWith('}}', i + 2)) return 4;
    return this.src.startsWith('}}', i) ? 2 : 0;
  }

  /** The text up to the next action (trimmed if the action asks for it), then that action or comment. */
  private textThenAction(): void {
    const open = this.src.indexOf('{{', this.at);
    if (open < 0) {
      this.out.push({ kind: 'text', pos: this.at, text: this.src.slice(this.at) });
      this.at = this.src.length;
      return;
    }
    const trimLeft = this.src[open + 2] === '-' && isSpace(this.src[open + 3]);
    let end = open;
    if (trimLeft) while (end > this.at && isSpace(this.src[end - 1])) end--;
    if (end > this.at) this.out.push({ kind: 'text', pos: this.at, text: this.src.slice(this.at, end) });
    this.at = open + (trimLeft ? 4 : 2);
    if (this.src.startsWith('/*', this.at)) this.comment();
    else this.action(open);
  }

  private comment(): void {
    const start = this.at;
    const end = this.src.indexOf('*/', start + 2);
    if (end < 0) this.stopPiece(start, 'unclosed comment');
    const close = this.closeLength(end + 2);
    if (close === 0) this.stopPiece(start, 'comment ends before closing delimiter');
    this.at = end + 2 + close;
    if (close === 4) this.skipSpaces();
  }

  private stopPiece(pos: number, message: string): never {
    this.out.push({ kind: 'error', pos, message });
    throw new Stop();
  }

  private action(open: number): void {
    const tokens: Token[] = [];
    this.out.push({ kind: 'action', pos: open, tokens });
    let spaced = false;
    let parens = 0;
    const add = (kind: TokenKind, start: number): void => {
      tokens.push({ kind, text: this.src.slice(start, this.at), pos: start, spaced });
      spaced = false;
    };
    const fail = (pos: number, message: string): never => {
      tokens.push({ kind: 'error', text: message, pos, spaced });
      throw new Stop();
    };
    for (;;) {
      const start = this.at;
      const close = this.closeLength(start);
      if (close > 0) {
        if (parens > 0) fail(start, 'unclosed left paren');
        this.at += close;
        tokens.push({ kind: 'close', text: '}}', pos: this.at - 2, spaced });
        if (close === 4) this.skipSpaces();
        return;
      }
      const c = this.charAt(start);
      if (c === undefined) fail(start, 'unclosed action');
      if (isSpace(c)) {
        this.skipSpaces();
        // Leave the space of a trim-marked end (` -}}`) to the end.
        if (this.src[this.at] === '-' && this.src.startsWith('}}', this.at + 1)) this.at--;
        spaced ||= this.at > start;
        continue;
      }
      this.at += c!.length;
      switch (c) {
        case '=':
        case '|':
          add('punct', start);
          continue;
        case ':':
          if (this.src[this.at] !== '=') fail(start, 'expected :=');
          this.at++;
          add('punct', start);
          continue;
        case '(':
          parens++;
          add('punct', start);
          continue;
        case ')':
          if (--parens < 0) fail(start, 'unexpected right paren');
          add('punct', start);
          continue;
        case '"':
          this.quoted('"', 'unterminated quoted string', fail);
          add('string', start);
          continue;
        case "'":
          this.quoted("'", 'unterminated character constant', fail);
          add('char', start);
          continue;
        case '`': {
          const end = this.src.indexOf('`', this.at);
          if (end < 0) fail(start, 'unterminated raw quoted string');
          this.at = end + 1;
          add('string', start);
          continue;
        }
        case '$':
          if (!this.atWordEnd()) this.word(start, fail);
          add('var', start);
          continue;
      }
      if (c === '.' && this.src[this.at] !== undefined && !isDigit(this.src[this.at])) {
        if (this.atWordEnd()) add('dot', start);
        else {
          this.word(start, fail);
          add('field', start);
        }
        continue;
      }
      if (c === '.' || c === '+' || c === '-' || isDigit(c)) {
        this.at = start;
        add(this.number(start, fail), start);
        continue;
      }
      if (isWordChar(c)) {
        this.word(start, fail);
        const text = this.src.slice(start, this.at);
        add(KEYWORDS.has(text) ? 'keyword' : text === 'nil' ? 'nil' : text === 'true' || text === 'false' ? 'bool' : 'ident', start);
        continue;
      }
      if (c! >= ' ' && c! <= '~') {
        add('punct', start);
        continue;
      }
      fail(start, `unrecognized character in action: ${describeRune(c!)}`);
    }
  }

  /** Whether a name may end here: at the end, white space, `.,|:()`, or the action's `}}`. */
  private atWordEnd(): boolean {
    const c = this.src[this.at];
    return c === undefined || isSpace(c) || '.,|:()'.includes(c) || this.src.startsWith('}}', this.at);
  }

  /** The letters, digits and underscores of a name, which must end properly. */
  private word(start: number, fail: (pos: number, message: string) => never): void {
    for (let c = this.charAt(this.at); isWordChar(c); c = this.charAt(this.at)) this.at += c!.length;
    if (!this.atWordEnd()) fail(start, `bad character ${describeRune(this.charAt(this.at)!)}`);
  }

  /** The rest of a quoted string or character constant: a backslash escapes the next character; a newline or the end is an error. */
  private quoted(quote: string, unterminated: string, fail: (pos: number, message: string) => never): void {
    const start = this.at - 1;
    for (;;) {
      const c = this.src[this.at++];
      if (c === '\\') {
        const escaped = this.src[this.at++];
        if (escaped !== undefined && escaped !== '\n') continue;
      }
      if (c === undefined || c === '\n' || c === '\\') fail(start, unterminated);
      if (c === quote) return;
    }
  }

  /** A number token (or a complex one, `1+2i`), or the error for what cannot be one. */
  private number(start: number, fail: (pos: number, message: string) => never): 'number' | 'complex' {
    const bad = (): never => fail(start, `bad number syntax: ${quote(this.src.slice(start, this.at))}`);
    if (!this.numberPart()) bad();
    if (this.src[this.at] !== '+' && this.src[this.at] !== '-') return 'number';
    if (!this.numberPart() || this.src[this.at - 1] !== 'i') bad();
    return 'complex';
  }

  private accept(chars: string): boolean {
    const c = this.src[this.at];
    if (c === undefined || !chars.includes(c)) return false;
    this.at++;
    return true;
  }

  private acceptRun(chars: string): void {
    while (this.accept(chars));
  }

  /**
   * One number at the cursor: a sign, a base prefix (0x, 0o, 0b), digits with `_`, a fraction,
   * an exponent (e for decimal, p for hex), an `i`. False (with the offending character read)
   * when a letter or digit follows it.
   */
  private numberPart(): boolean {
    this.accept('+-');
    let digits = DECIMAL;
    if (this.accept('0')) {
      if (this.accept('xX')) digits = HEX;
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if ((digits === DECIMAL && this.accept('eE')) || (digits === HEX && this.accept('pP'))) {
      this.accept('+-');
      this.acceptRun(DECIMAL);
    }
    this.accept('i');
    const next = this.charAt(this.at);
    if (!isWordChar(next)) return true;
    this.at += next!.length;
    return false;
  }
}
