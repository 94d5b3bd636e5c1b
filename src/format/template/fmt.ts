/**
 * Go's fmt for template values (see values.ts for which JavaScript value is which Go kind):
 * Sprint/Sprintln/Sprintf with the verbs %v %+v %#v %T %s %q %x %X %d %b %o %O %c %U %t %e %E %f
 * %F %g %G, the flags `+ - # 0 space`, width and precision (also `*` and `[n]` argument indexes),
 * and Go's error forms (`%!d(string=x)`, `%!d(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`).
 * Floats are formatted as strconv does: shortest digits for %v, exact decimal rounding (half to
 * even) when a precision is given.
 */
import { goQuote } from './strconv.js';
import { fieldsOf, goKind, goTypeName, structType } from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid?: number;
  prec?: number;
}

const noFlags = (): Flags => ({ plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false });

const runeCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Pads to the width (in characters): left unless '-', with zeros only when asked and allowed. */
function pad(f: Flags, s: string, zeroAllowed = false): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (zeroAllowed && f.zero ? '0' : ' ').repeat(n) + s;
}

// ---------------------------------------------------------------- floats

/** Decimal digits of |x| without leading or trailing zeros; |x| = 0.d × 10^dp. */
interface Decimal {
  d: string;
  dp: number;
}

function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [m, e] = Math.abs(x).toExponential().split('e') as [string, string];
  const d = m.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(e) + 1 };
}

/** The exact decimal value of a double (every double is a finite decimal). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { d: trimmed, dp };
}

/** Rounds to nd significant digits, half to even on the exact value (strconv's decimal.Round). */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const next = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === a.d.length) up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = next >= 5;
  if (!up) {
    const d = a.d.slice(0, nd).replace(/0+$/, '');
    return { d, dp: d === '' ? 0 : a.dp };
  }
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: (a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1)).replace(/0+$/, ''), dp: a.dp };
}

function fmtE(digs: Decimal, prec: number, e: 'e' | 'E'): string {
  let out = digs.d.length === 0 ? '0' : digs.d[0]!;
  if (prec > 0) {
    out += '.';
    const frac = digs.d.slice(1, 1 + prec);
    out += frac + '0'.repeat(prec - frac.length);
  }
  const exp = digs.d.length === 0 ? 0 : digs.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
}

function fmtF(digs: Decimal, prec: number): string {
  let out: string;
  if (digs.dp > 0) {
    const int = digs.d.slice(0, digs.dp);
    out = int + '0'.repeat(digs.dp - int.length);
  } else {
    out = '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = digs.dp + i - 1;
      out += j >= 0 && j < digs.d.length ? digs.d[j] : '0';
    }
  }
  return out;
}

/** strconv.FormatFloat(|x|, verb, prec, 64) for a finite x. prec -1 is the shortest that reads back. */
export function formatFloatAbs(x: number, verb: 'e' | 'E' | 'f' | 'F' | 'g' | 'G', prec: number): string {
  const shortest = prec < 0;
  let digs: Decimal;
  if (shortest) {
    digs = shortestDecimal(x);
    if (verb === 'e' || verb === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (verb === 'f' || verb === 'F') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else if (verb === 'f' || verb === 'F') {
    const exact = exactDecimal(x);
    digs = roundDecimal(exact, exact.dp + prec);
  } else {
    if ((verb === 'g' || verb === 'G') && prec === 0) prec = 1;
    digs = roundDecimal(exactDecimal(x), verb === 'e' || verb === 'E' ? prec + 1 : prec);
  }
  if (verb === 'e' || verb === 'E') return fmtE(digs, prec, verb);
  if (verb === 'f' || verb === 'F') return fmtF(digs, prec);
  let eprec = prec;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (digs.d.length > 0 && (exp < -4 || exp >= eprec)) {
    return fmtE(digs, Math.min(prec, digs.d.length) - 1, verb === 'g' ? 'e' : 'E');
  }
  if (prec > digs.dp) prec = digs.d.length;
  return fmtF(digs, Math.max(prec - digs.dp, 0));
}

function fmtFloat(f: Flags, v: number, verb: string): string {
  const prec = f.prec ?? (verb === 'v' || verb === 'g' || verb === 'G' ? -1 : 6);
  const conv = (verb === 'v' ? 'g' : verb) as 'e' | 'E' | 'f' | 'F' | 'g' | 'G';
  let num: string;
  if (Number.isNaN(v)) num = 'NaN';
  else if (!Number.isFinite(v)) num = 'Inf';
  else num = formatFloatAbs(Math.abs(v), conv, prec);
  let sign = v < 0 || Object.is(v, -0) ? '-' : '+';
  if (Number.isNaN(v)) sign = '+';
  if (f.space && sign === '+' && !f.plus) sign = ' ';
  if (num === 'Inf' || num === 'NaN') {
    const s = num === 'NaN' && !f.space && !f.plus ? num : sign + num;
    return pad(f, s);
  }
  if (f.sharp && !num.includes('.') && !/[eE]/.test(num)) num += '.';
  if (f.plus || sign !== '+') {
    if (f.zero && !f.minus && f.wid !== undefined && f.wid > num.length + 1) return sign + '0'.repeat(f.wid - num.length - 1) + num;
    return pad(f, sign + num);
  }
  return pad(f, num, true);
}

// ---------------------------------------------------------------- integers, strings, bools

function fmtInteger(f: Flags, v: bigint, base: number, verb: string, upper: boolean): string {
  const negative = v < 0n;
  const u = negative ? -v : v;
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return pad({ ...f, zero: false }, '');
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  let digits = u.toString(base);
  if (upper) digits = digits.toUpperCase();
  if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
    else if (base === 16) digits = `${upper ? '0X' : '0x'}${digits}`;
  }
  if (verb === 'O') digits = `0o${digits}`;
  if (negative) digits = `-${digits}`;
  else if (f.plus) digits = `+${digits}`;
  else if (f.space) digits = ` ${digits}`;
  return pad({ ...f, zero: false }, digits);
}

/** strconv.QuoteRune. */
function quoteRune(cp: number): string {
  if (cp === 0x27) return "'\\''";
  if (cp === 0x22) return `'"'`;
  const valid = cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  const q = goQuote(String.fromCodePoint(valid ? cp : 0xfffd));
  return `'${q.slice(1, -1)}'`;
}

function fmtStringHex(f: Flags, s: string, upper: boolean): string {
  let bytes = Buffer.from(s, 'utf8');
  if (f.prec !== undefined && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
  const parts: string[] = [];
  for (const b of bytes) {
    let h = b.toString(16).padStart(2, '0');
    if (upper) h = h.toUpperCase();
    if (f.sharp && (f.space || parts.length === 0)) h = (upper ? '0X' : '0x') + h;
    parts.push(h);
  }
  return pad(f, parts.join(f.space ? ' ' : ''));
}

function truncateRunes(f: Flags, s: string): string {
  if (f.prec === undefined) return s;
  return [...s].slice(0, f.prec).join('');
}

// ---------------------------------------------------------------- values

function badVerb(f: Flags, v: unknown, verb: string): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatArg(f, v, 'v', 0)})`;
}

function sortedEntries(v: object): [string, unknown][] {
  return fieldsOf(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One operand, as fmt's printArg/printValue (depth > 0 inside a slice, map or struct). */
function formatArg(f: Flags, v: unknown, verb: string, depth: number): string {
  if (verb === 'T') return pad(f, goTypeName(v));
  const kind = goKind(v);
  if (kind === 'invalid' || kind === 'nil') {
    if (verb === 'v') return pad(f, f.sharpV && depth > 0 ? 'interface {}(nil)' : '<nil>');
    return badVerb(f, v, verb);
  }
  switch (kind) {
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(f, String(v)) : badVerb(f, v, verb);
    case 'int': {
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      switch (verb) {
        case 'v': case 'd': return fmtInteger(f, n, 10, verb, false);
        case 'b': return fmtInteger(f, n, 2, verb, false);
        case 'o': case 'O': return fmtInteger(f, n, 8, verb, false);
        case 'x': return fmtInteger(f, n, 16, verb, false);
        case 'X': return fmtInteger(f, n, 16, verb, true);
        case 'c': return pad(f, n >= 0n && n <= 0x10ffffn && !(n >= 0xd800n && n <= 0xdfffn) ? String.fromCodePoint(Number(n)) : '\ufffd');
        case 'q': return pad(f, quoteRune(Number(n)));
        case 'U': {
          const hex = `U+${n.toString(16).toUpperCase().padStart(Math.max(4, f.prec ?? 4), '0')}`;
          const printable = n >= 0x20n && n <= 0x10ffffn && /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(String.fromCodePoint(Number(n)));
          return pad({ ...f, zero: false }, f.sharp && printable ? `${hex} '${String.fromCodePoint(Number(n))}'` : hex);
        }
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
          // JSON cannot tell 2.0 from 2: a float verb formats an integral number as the float it may be.
          return fmtFloat(f, Number(n), verb);
        default: return badVerb(f, v, verb);
      }
    }
    case 'float':
      switch (verb) {
        case 'v': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': return fmtFloat(f, v as number, verb);
        default: return badVerb(f, v, verb);
      }
    case 'string': {
      const s = v as string;
      switch (verb) {
        case 'v': return pad(f, f.sharpV ? goQuote(s) : truncateRunes(f, s));
        case 's': return pad(f, truncateRunes(f, s));
        case 'q': {
          const t = truncateRunes(f, s);
          if (f.sharp && !/[`\p{Cc}]/u.test(t) && !t.includes('\ufffd')) return pad(f, `\`${t}\``);
          return pad(f, goQuote(t, f.plus));
        }
        case 'x': return fmtStringHex(f, s, false);
        case 'X': return fmtStringHex(f, s, true);
        default: return badVerb(f, v, verb);
      }
    }
    case 'slice': {
      const items = v as unknown[];
      if (f.sharpV) return `[]interface {}{${items.map((x) => formatArg(f, x, verb, depth + 1)).join(', ')}}`;
      return `[${items.map((x) => formatArg(f, x, verb, depth + 1)).join(' ')}]`;
    }
    case 'map': {
      const entries = sortedEntries(v as object);
      if (f.sharpV) return `map[string]interface {}{${entries.map(([k, x]) => `${goQuote(k)}:${formatArg(f, x, verb, depth + 1)}`).join(', ')}}`;
      return `map[${entries.map(([k, x]) => `${formatArg(f, k, verb, depth + 1)}:${formatArg(f, x, verb, depth + 1)}`).join(' ')}]`;
    }
    case 'struct': {
      const entries = fieldsOf(v as object);
      const name = (n: string) => (f.plusV || f.sharpV ? `${n}:` : '');
      const body = entries.map(([k, x]) => `${name(k)}${formatArg(f, x, verb, depth + 1)}`).join(f.sharpV ? ', ' : ' ');
      return f.sharpV ? `${structType(v as object)!.replace(/^\*/, '')}{${body}}` : `{${body}}`;
    }
    case 'func':
      return verb === 'v' || verb === 'p' ? pad(f, '0x0') : badVerb(f, v, verb);
  }
  return badVerb(f, v, verb);
}

/** `%v` of one value (what a template action prints). */
export function formatValue(v: unknown): string {
  return formatArg(noFlags(), v, 'v', 0);
}

/** fmt.Sprint: operands side by side, a space between two when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatValue(a);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: operands with spaces between, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

const TOO_LARGE = 1e6;

function parseNum(s: string, i: number, end: number): { num: number | undefined; i: number } {
  if (i >= end || s[i]! < '0' || s[i]! > '9') return { num: undefined, i };
  let n = 0;
  while (i < end && s[i]! >= '0' && s[i]! <= '9') {
    if (n > TOO_LARGE) return { num: undefined, i: end }; // Go gives up on absurd widths
    n = n * 10 + Number(s[i]);
    i++;
  }
  return { num: n, i };
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;

  const intFromArg = (): { n: number | undefined } => {
    if (argNum >= args.length) return { n: undefined };
    const a = args[argNum++];
    if (goKind(a) !== 'int') return { n: undefined };
    const n = Number(a);
    return Math.abs(n) > TOO_LARGE ? { n: undefined } : { n };
  };

  let goodArgNum = true;
  let afterIndex = false;
  const argNumber = (): void => {
    afterIndex = false;
    if (i >= end || format[i] !== '[') return;
    reordered = true;
    const close = format.indexOf(']', i + 1);
    if (format.length - i < 3 || close < 0) {
      i += 1;
      goodArgNum = false;
      return;
    }
    const { num, i: ni } = parseNum(format, i + 1, close);
    i = close + 1;
    if (num === undefined || ni !== close) {
      goodArgNum = false;
      return;
    }
    if (num - 1 >= 0 && num - 1 < args.length) {
      argNum = num - 1;
      afterIndex = true;
    } else {
      goodArgNum = false;
      afterIndex = true;
    }
  };

  while (i < end) {
    goodArgNum = true;
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    argNumber();
    if (i < end && format[i] === '*') {
      i++;
      const { n } = intFromArg();
      if (n === undefined) out += '%!(BADWIDTH)';
      else if (n < 0) {
        f.wid = -n;
        f.minus = true;
        f.zero = false;
      } else f.wid = n;
      afterIndex = false;
    } else {
      const r = parseNum(format, i, end);
      i = r.i;
      if (r.num !== undefined) {
        f.wid = r.num;
        if (afterIndex) goodArgNum = false;
      }
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      argNumber();
      if (i < end && format[i] === '*') {
        i++;
        const { n } = intFromArg();
        if (n === undefined) out += '%!(BADPREC)';
        else if (n >= 0) f.prec = n;
        afterIndex = false;
      } else {
        const r = parseNum(format, i, end);
        i = r.i;
        f.prec = r.num ?? 0;
      }
    }
    if (!afterIndex) argNumber();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
    } else if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
    } else if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      out += formatArg(f, args[argNum], verb, 0);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args.slice(argNum).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`)).join(', ')})`;
  }
  return out;
}

