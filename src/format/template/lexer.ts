/**
 * The lexer of Go's text/template, rule for rule (text/template/parse/lex.go): text and `{{ }}`
 * actions, trim markers (`{{- ` / ` -}}`, a space, tab or newline beside the dash), comments
 * (`{{/* … *\/}}`, dropped), strings, raw strings, character constants, numbers (with 0x/0o/0b,
 * underscores and exponents), fields, variables, keywords and punctuation. Errors are Go's words.
 */
import { goQuote } from './strconv.js';

export { goQuote };

export type ItemType =
  | 'error' | 'bool' | 'char' | 'charConstant' | 'complex' | 'assign' | 'declare' | 'eof' | 'field' | 'identifier'
  | 'leftDelim' | 'leftParen' | 'number' | 'pipe' | 'rawString' | 'rightDelim' | 'rightParen' | 'space' | 'string' | 'text' | 'variable'
  // keywords
  | 'block' | 'break' | 'continue' | 'dot' | 'define' | 'else' | 'end' | 'if' | 'nil' | 'range' | 'template' | 'with';

export interface Item {
  type: ItemType;
  /** Offset of the item in the template text. */
  pos: number;
  val: string;
  /** 1-based line where the item starts. */
  line: number;
}

const KEYWORDS: ReadonlySet<string> = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with']);
export const isKeyword = (t: ItemType): boolean => KEYWORDS.has(t) || t === 'dot';

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const SPACE_CHARS = ' \t\r\n';

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const ALNUM = /^[\p{L}\p{Nd}_]$/u;
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && ALNUM.test(c);
const hasLeftTrimMarker = (s: string): boolean => s.length >= 2 && s[0] === '-' && isSpace(s[1]);
const hasRightTrimMarker = (s: string): boolean => s.length >= 2 && isSpace(s[0]) && s[1] === '-';

/** Go's %#U: `U+00E9 'é'` (the character only when printable). */
export function formatRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `${hex} '${c}'` : hex;
}

/** Item's text in parse errors, as Go's item.String(). */
export function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (isKeyword(i.type)) return `<${i.val}>`;
  if ([...i.val].length > 10) return `${goQuote([...i.val].slice(0, 10).join(''))}...`;
  return goQuote(i.val);
}

/** Lexes the whole template; the last item is 'eof' or 'error'. */
export function lex(input: string): Item[] {
  return new Lexer(input).run();
}

type State = (() => State) | undefined;

class Lexer {
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  private readonly out: Item[] = [];

  constructor(private readonly input: string) {}

  run(): Item[] {
    let state: State = this.lexText;
    while (state) state = state.call(this);
    return this.out;
  }

  private lineFrom = 0;
  private lineCount = 1;

  /** The line of `pos`, counted on from the last item's (items come in order). */
  private lineAt(pos: number): number {
    if (pos < this.lineFrom) {
      this.lineFrom = 0;
      this.lineCount = 1;
    }
    for (; this.lineFrom < pos; this.lineFrom++) if (this.input.charCodeAt(this.lineFrom) === 10) this.lineCount++;
    return this.lineCount;
  }

  /** The next character (a whole code point), or undefined at the end. */
  private next(): string | undefined {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1; // past the end: backup() returns to the end
      return undefined;
    }
    const c = String.fromCodePoint(this.input.codePointAt(this.pos)!);
    this.pos += c.length;
    return c;
  }

  private backup(c: string | undefined): void {
    this.pos -= c === undefined ? 1 : c.length;
  }

  private peek(): string | undefined {
    const c = this.next();
    this.backup(c);
    return c;
  }

  private emit(type: ItemType): void {
    this.out.push({ type, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.lineAt(this.start) });
    this.start = this.pos;
  }

  private ignore(): void {
    this.start = this.pos;
  }

  private errorf(message: string): State {
    this.out.push({ type: 'error', pos: this.start, val: message, line: this.lineAt(this.start) });
    return undefined;
  }

  private accept(valid: string): boolean {
    const c = this.next();
    if (c !== undefined && valid.includes(c)) return true;
    this.backup(c);
    return false;
  }

  private acceptRun(valid: string): void {
    for (;;) {
      const c = this.next();
      if (c === undefined || !valid.includes(c)) {
        this.backup(c);
        return;
      }
    }
  }

  private lexText(): State {
    const x = this.input.indexOf(LEFT_DELIM, this.pos);
    if (x >= 0) {
      if (x > this.pos) {
        this.pos = x;
        let trim = 0;
        if (hasLeftTrimMarker(this.input.slice(x + LEFT_DELIM.length))) {
          const text = this.input.slice(this.start, x);
          trim = text.length - trimRight(text).length;
        }
        this.pos -= trim;
        if (this.pos > this.start) this.emit('text');
        this.pos += trim;
        this.ignore();
      }
      return this.lexLeftDelim;
    }
    this.pos = this.input.length;
    if (this.pos > this.start) this.emit('text');
    this.emit('eof');
    return undefined;
  }

  /** Whether the input is at a right delimiter, and whether a trim marker comes before it. */
  private atRightDelim(): { delim: boolean; trim: boolean } {
    const rest = this.input.slice(this.pos);
    if (hasRightTrimMarker(rest) && rest.startsWith(RIGHT_DELIM, 2)) return { delim: true, trim: true };
    return { delim: rest.startsWith(RIGHT_DELIM), trim: false };
  }

  private lexLeftDelim(): State {
    this.pos += LEFT_DELIM.length;
    const trim = hasLeftTrimMarker(this.input.slice(this.pos));
    const after = trim ? 2 : 0;
    if (this.input.startsWith(LEFT_COMMENT, this.pos + after)) {
      this.pos += after;
      this.ignore();
      return this.lexComment;
    }
    this.emit('leftDelim');
    this.pos += after;
    this.ignore();
    this.parenDepth = 0;
    return this.lexInsideAction;
  }

  private lexComment(): State {
    this.pos += LEFT_COMMENT.length;
    const x = this.input.indexOf(RIGHT_COMMENT, this.pos);
    if (x < 0) return this.errorf('unclosed comment');
    this.pos = x + RIGHT_COMMENT.length;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.errorf('comment ends before closing delimiter');
    if (trim) this.pos += 2;
    this.pos += RIGHT_DELIM.length;
    if (trim) this.pos += leftTrimLength(this.input.slice(this.pos));
    this.ignore();
    return this.lexText;
  }

  private lexRightDelim(): State {
    const { trim } = this.atRightDelim();
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += RIGHT_DELIM.length;
    this.emit('rightDelim');
    if (trim) {
      this.pos += leftTrimLength(this.input.slice(this.pos));
      this.ignore();
    }
    return this.lexText;
  }

  private lexInsideAction(): State {
    if (this.atRightDelim().delim) {
      if (this.parenDepth === 0) return this.lexRightDelim;
      return this.errorf('unclosed left paren');
    }
    const c = this.next();
    if (c === undefined) return this.errorf('unclosed action');
    if (isSpace(c)) {
      this.backup(c); // put it back in case it begins " -}}"
      return this.lexSpace;
    }
    switch (c) {
      case '=':
        this.emit('assign');
        return this.lexInsideAction;
      case ':':
        if (this.next() !== '=') return this.errorf('expected :=');
        this.emit('declare');
        return this.lexInsideAction;
      case '|':
        this.emit('pipe');
        return this.lexInsideAction;
      case '"':
        return this.lexQuote;
      case '`':
        return this.lexRawQuote;
      case '$':
        return this.lexVariable;
      case "'":
        return this.lexChar;
      case '(':
        this.parenDepth++;
        this.emit('leftParen');
        return this.lexInsideAction;
      case ')':
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf('unexpected right paren');
        this.emit('rightParen');
        return this.lexInsideAction;
    }
    if (c === '.') {
      const n = this.input[this.pos];
      if (n !== undefined && (n < '0' || n > '9')) return this.lexField;
    }
    if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
      this.backup(c);
      return this.lexNumber;
    }
    if (isAlphaNumeric(c)) {
      this.backup(c);
      return this.lexIdentifier;
    }
    if (c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f) {
      this.emit('char');
      return this.lexInsideAction;
    }
    return this.errorf(`unrecognized character in action: ${formatRune(c)}`);
  }

  private lexSpace(): State {
    let spaces = 0;
    while (isSpace(this.peek())) {
      this.next();
      spaces++;
    }
    // A trim-marked right delimiter begins with a space: leave that space to it.
    if (hasRightTrimMarker(this.input.slice(this.pos - 1)) && this.input.startsWith(RIGHT_DELIM, this.pos + 1)) {
      this.pos--;
      if (spaces === 1) return this.lexRightDelim;
    }
    this.emit('space');
    return this.lexInsideAction;
  }

  private lexIdentifier(): State {
    for (;;) {
      const c = this.next();
      if (isAlphaNumeric(c)) continue;
      this.backup(c);
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.errorf(`bad character ${formatRune(c ?? '')}`);
      if (KEYWORDS.has(word)) this.emit(word as ItemType);
      else if (word === 'true' || word === 'false') this.emit('bool');
      else this.emit('identifier');
      return this.lexInsideAction;
    }
  }

  private lexField(): State {
    return this.lexFieldOrVariable('field');
  }

  private lexVariable(): State {
    if (this.atTerminator()) {
      this.emit('variable'); // "$" alone
      return this.lexInsideAction;
    }
    return this.lexFieldOrVariable('variable');
  }

  private lexFieldOrVariable(type: 'field' | 'variable'): State {
    if (this.atTerminator()) {
      this.emit(type === 'variable' ? 'variable' : 'dot');
      return this.lexInsideAction;
    }
    let c: string | undefined;
    for (;;) {
      c = this.next();
      if (!isAlphaNumeric(c)) {
        this.backup(c);
        break;
      }
    }
    if (!this.atTerminator()) return this.errorf(`bad character ${formatRune(c ?? '')}`);
    this.emit(type);
    return this.lexInsideAction;
  }

  /** Whether what follows may end an identifier (it splits `.X.Y` into two fields). */
  private atTerminator(): boolean {
    const c = this.peek();
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  private lexChar(): State {
    for (;;) {
      const c = this.next();
      if (c === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.errorf('unterminated character constant');
      }
      if (c === undefined || c === '\n') return this.errorf('unterminated character constant');
      if (c === "'") break;
    }
    this.emit('charConstant');
    return this.lexInsideAction;
  }

  private lexNumber(): State {
    if (!this.scanNumber()) return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
      this.emit('complex');
    } else {
      this.emit('number');
    }
    return this.lexInsideAction;
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }

  private lexQuote(): State {
    for (;;) {
      const c = this.next();
      if (c === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.errorf('unterminated quoted string');
      }
      if (c === undefined || c === '\n') return this.errorf('unterminated quoted string');
      if (c === '"') break;
    }
    this.emit('string');
    return this.lexInsideAction;
  }

  private lexRawQuote(): State {
    for (;;) {
      const c = this.next();
      if (c === undefined) return this.errorf('unterminated raw quoted string');
      if (c === '`') break;
    }
    this.emit('rawString');
    return this.lexInsideAction;
  }
}

function trimRight(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE_CHARS.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

function leftTrimLength(s: string): number {
  let i = 0;
  while (i < s.length && SPACE_CHARS.includes(s[i]!)) i++;
  return i;
}
