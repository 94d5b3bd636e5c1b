/**
 * Literal text in templates, both ways: reading the number, string and character constants a
 * template contains (the literal forms Go templates accept: 0x/0o/0b prefixes, a leading 0 for
 * octal, `_` between digits, hex floats with a `p` exponent, backslash escapes), and writing
 * strings quoted with the escapes Go prints (`%q`, and the texts of error messages).
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Whether Go prints the character as it is inside a quoted string (letters, marks, numbers, punctuation, symbols, the ASCII space). */
export const isPrintable = (c: string): boolean => PRINTABLE.test(c);

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

/** One character inside double quotes: itself, a named escape, or its code point in hex (`\x7f`, `\u00a0`, `\U0001f600`). */
function escapeForQuote(c: string, asciiOnly: boolean): string {
  const named = NAMED_ESCAPES[c];
  if (named !== undefined) return named;
  const cp = c.codePointAt(0)!;
  if (isPrintable(c) && (cp < 0x80 || !asciiOnly)) return c;
  if (cp < 0x80) return `\\x${hex(cp, 2)}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd'; // a lone surrogate stands for an invalid byte sequence
  return cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

/** `s` in double quotes as Go's `%q` prints it; with asciiOnly (`%+q`) every non-ASCII character is escaped too. */
export function quote(s: string, asciiOnly = false): string {
  let body = '';
  for (const c of s) body += escapeForQuote(c, asciiOnly);
  return `"${body}"`;
}

/** A character as `%#U` prints it: `U+00E9 'é'`, or only the code point when it is not printable. */
export function describeRune(c: string): string {
  const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrintable(c) ? `${code} '${c}'` : code;
}

// ---------------------------------------------------------------- numbers

/** A number constant of a template: its value, and whether it is an integer that fits Go's int. */
export interface NumberLiteral {
  value: number;
  isInt: boolean;
}

const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;
const UINT_MAX = 2n ** 64n - 1n;

/**
 * Whether the underscores of an unsigned literal are where Go allows them: each one right after a
 * digit or the base prefix (`0x_1`), and right before a digit.
 */
function underscoresFit(body: string): boolean {
  const prefixed = /^0[xXoObB]/.test(body);
  const isDigit = /^0[xX]/.test(body)
    ? (c: string | undefined) => c !== undefined && /[0-9a-fA-F]/.test(c)
    : (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = body.indexOf('_'); i >= 0; i = body.indexOf('_', i + 1)) {
    const afterPrefix = prefixed && i === 2;
    if (!(afterPrefix || isDigit(body[i - 1])) || !isDigit(body[i + 1])) return false;
  }
  return true;
}

/** The integer an unsigned literal spells (0x, 0o, 0b, leading-0 octal or decimal), if it is one. */
function integerOf(digits: string): bigint | undefined {
  const forms: [RegExp, string][] = [
    [/^0[xX]([0-9a-fA-F]+)$/, '0x'],
    [/^0[oO]([0-7]+)$/, '0o'],
    [/^0[bB]([01]+)$/, '0b'],
    [/^0([0-7]+)$/, '0o'],
    [/^([1-9][0-9]*|0)$/, ''],
  ];
  for (const [form, prefix] of forms) {
    const m = form.exec(digits);
    if (m) return BigInt(prefix + m[1]!);
  }
  return undefined;
}

/** The float an unsigned literal spells (decimal with optional exponent, or hex with a `p` exponent), if it is one. */
function floatOf(digits: string): number | undefined {
  const hexFloat = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(digits);
  if (hexFloat) {
    const [, whole = '', fraction = '', exponent] = hexFloat;
    if (whole === '' && fraction === '') return undefined;
    return Number.parseInt(`${whole}${fraction}` || '0', 16) * 2 ** (Number(exponent) - 4 * fraction.length);
  }
  return /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(digits) ? Number(digits) : undefined;
}

/**
 * Reads a number constant of a template (`42`, `-0x1F`, `1_000`, `1.5e3`, `0x1p-2`). Returns the
 * parse error's text when Go rejects it: `illegal number syntax: "1.2.3"`, `integer overflow: "…"`.
 * An integer above Go's int but within uint64 is read as a number that is not an int (it fails
 * with `overflows int` when used).
 */
export function readNumber(text: string): NumberLiteral | string {
  const negative = text.startsWith('-');
  const body = /^[+-]/.test(text) ? text.slice(1) : text;
  const fits = underscoresFit(body);
  const digits = body.replace(/_/g, '');
  const int = fits ? integerOf(digits) : undefined;
  if (int !== undefined) {
    const signed = negative ? -int : int;
    if (signed >= INT_MIN && signed <= INT_MAX) return { value: Number(signed), isInt: true };
    if (signed >= 0n && signed <= UINT_MAX) return { value: Number(signed), isInt: false };
  }
  const float = fits ? floatOf(digits) : undefined;
  if (float === undefined) return `illegal number syntax: ${quote(text)}`;
  if (!/[.eEpP]/.test(text)) return `integer overflow: ${quote(text)}`;
  const value = negative ? -float : float;
  return { value, isInt: Number.isInteger(value) && Math.abs(value) < 2 ** 63 };
}

// ---------------------------------------------------------------- strings and characters

const SIMPLE_UNESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
const HEX_ESCAPE_LENGTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/**
 * The character that starts at body[i] inside a literal closed by `quote`, and where the next one
 * starts; undefined when it is not a valid character there (a bare quote, or a bad escape).
 */
function unescapeAt(body: string, i: number, quoteChar: string): [string, number] | undefined {
  const c = body[i];
  if (c === undefined || c === quoteChar) return undefined;
  if (c !== '\\') {
    const whole = String.fromCodePoint(body.codePointAt(i)!);
    return [whole, i + whole.length];
  }
  const kind = body[i + 1];
  if (kind === undefined) return undefined;
  if (SIMPLE_UNESCAPES[kind] !== undefined) return [SIMPLE_UNESCAPES[kind], i + 2];
  if (kind === "'" || kind === '"') return kind === quoteChar ? [kind, i + 2] : undefined;
  const hexLength = HEX_ESCAPE_LENGTH[kind];
  if (hexLength !== undefined) {
    const digits = body.slice(i + 2, i + 2 + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(digits)) return undefined;
    const cp = Number.parseInt(digits, 16);
    if (kind !== 'x' && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) return undefined;
    return [String.fromCodePoint(cp), i + 2 + hexLength];
  }
  const octal = body.slice(i + 1, i + 4);
  if (/^[0-7]{3}$/.test(octal) && Number.parseInt(octal, 8) <= 0xff) return [String.fromCodePoint(Number.parseInt(octal, 8)), i + 4];
  return undefined;
}

/** The text of a string constant as written in a template (`"a\tb"` or `` `raw` ``); undefined when it is malformed. */
export function readString(literal: string): string | undefined {
  if (literal.length < 2) return undefined;
  const open = literal[0];
  if (open !== literal[literal.length - 1]) return undefined;
  const body = literal.slice(1, -1);
  if (open === '`') return body.replace(/\r/g, '');
  if (open !== '"') return undefined;
  let text = '';
  for (let i = 0; i < body.length;) {
    const step = unescapeAt(body, i, '"');
    if (step === undefined) return undefined;
    text += step[0];
    i = step[1];
  }
  return text;
}

/**
 * The code point of a character constant (`'a'`, `'\n'`, `'\u00e9'`): undefined when its first
 * character is malformed, 'malformed' when more than one character stands between the quotes.
 */
export function readChar(literal: string): number | 'malformed' | undefined {
  const step = unescapeAt(literal, 1, "'");
  if (step === undefined) return undefined;
  return literal.slice(step[1]) === "'" ? step[0].codePointAt(0)! : 'malformed';
}
