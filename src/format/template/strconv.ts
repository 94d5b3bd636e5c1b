/**
 * Go's strconv rules for template literals: numbers as the parser reads them (ParseInt and
 * ParseUint with base 0, then ParseFloat: 0x/0o/0b and leading-0 octal, underscores between
 * digits, hex floats) and quoted strings and characters with Go's escapes.
 */

/** strconv.Quote (printable characters kept, the rest escaped); with ascii, strconv.QuoteToASCII. */
export function goQuote(s: string, ascii = false): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c === '\x07') out += '\\a';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else if (c === '\v') out += '\\v';
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) && !(ascii && cp >= 0x80)) out += c;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv's underscoreOK: underscores only between digits (or right after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'xXbBoO'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** ParseInt(s, 0, 64) without the range check (undefined when not an integer literal). */
function parseIntBase0(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s.includes('_')) {
    if (!underscoreOK(text)) return undefined;
    s = s.replace(/_/g, '');
  }
  let base = 10;
  if (/^0[xX]/.test(s)) [base, s] = [16, s.slice(2)];
  else if (/^0[oO]/.test(s)) [base, s] = [8, s.slice(2)];
  else if (/^0[bB]/.test(s)) [base, s] = [2, s.slice(2)];
  else if (s.length > 1 && s[0] === '0') [base, s] = [8, s.slice(1)];
  const digits = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!digits.test(s)) return undefined;
  const prefix = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[base as 2 | 8 | 10 | 16];
  const n = BigInt(prefix + s);
  return neg ? -n : n;
}

/** ParseFloat(s, 64) of a number token (decimal or hex float); undefined when not one. */
function parseFloatLiteral(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    s = s.replace(/_/g, '');
  }
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const [, sign, int = '', frac = '', exp = '0'] = hex;
    if (int === '' && frac === '') return undefined;
    const mantissa = Number.parseInt(`${int}${frac}` || '0', 16);
    const v = mantissa * 2 ** (Number(exp) - 4 * frac.length);
    return sign === '-' ? -v : v;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** A number token as Go's parser reads it, or the parse error's text. */
export function parseGoNumber(text: string): { isInt: boolean; isFloat: boolean; value: number } | string {
  const i = parseIntBase0(text);
  if (i !== undefined && i >= INT64_MIN && i <= INT64_MAX) return { isInt: true, isFloat: true, value: Number(i) };
  if (i !== undefined && i >= 0n && i <= UINT64_MAX) return { isInt: false, isFloat: true, value: Number(i) }; // a uint: "overflows int" when used
  const f = parseFloatLiteral(text);
  if (f === undefined) return `illegal number syntax: ${goQuote(text)}`;
  if (!/[.eEpP]/.test(text)) return `integer overflow: ${goQuote(text)}`;
  return { isInt: Number.isInteger(f) && Math.abs(f) < 2 ** 63, isFloat: true, value: f };
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One character of a quoted literal at s[i]: [its text, the index after it], or undefined when malformed. */
function readChar(s: string, i: number, quote: string): [string, number] | undefined {
  const c = s[i];
  if (c === undefined) return undefined;
  if (c !== '\\') {
    if (c === quote) return undefined;
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    return [ch, i + ch.length];
  }
  const e = s[i + 1];
  if (e === undefined) return undefined;
  if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e]!, i + 2];
  if (e === "'" || e === '"') return e === quote ? [e, i + 2] : undefined;
  const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
  if (hexLen > 0) {
    const h = s.slice(i + 2, i + 2 + hexLen);
    if (h.length !== hexLen || !/^[0-9a-fA-F]+$/.test(h)) return undefined;
    const cp = Number.parseInt(h, 16);
    if (e !== 'x' && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) return undefined;
    return [String.fromCodePoint(cp), i + 2 + hexLen];
  }
  if (e >= '0' && e <= '7') {
    const o = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(o) || Number.parseInt(o, 8) > 255) return undefined;
    return [String.fromCodePoint(Number.parseInt(o, 8)), i + 4];
  }
  return undefined;
}

/** strconv.Unquote of a "…" or `…` literal; undefined when malformed. */
export function unquoteString(q: string): string | undefined {
  if (q.length < 2) return undefined;
  if (q[0] === '`') return q.endsWith('`') ? q.slice(1, -1).replace(/\r/g, '') : undefined;
  if (q[0] !== '"' || !q.endsWith('"')) return undefined;
  const body = q.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length;) {
    const r = readChar(body, i, '"');
    if (r === undefined) return undefined;
    out += r[0];
    i = r[1];
  }
  return out;
}

/** The code point of a '…' character constant; undefined when malformed, 'malformed' when more follows it. */
export function unquoteChar(q: string): number | 'malformed' | undefined {
  const r = readChar(q, 1, "'");
  if (r === undefined) return undefined;
  if (q.slice(r[1]) !== "'") return 'malformed';
  return r[0].codePointAt(0)!;
}
