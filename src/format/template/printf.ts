/**
 * How template values print: `{{.}}` (`%v`), and the print, println and printf functions, with
 * the output Go programs such as Docker's CLI give (see values.ts for which JavaScript value is
 * which Go kind).
 *
 * printf knows the verbs %v %+v %#v %T %t %d %b %o %O %x %X %c %q %U %e %E %f %F %g %G %s, the
 * flags `+ - # 0 space`, widths and precisions (literal, `*`, and `[n]` argument indexes), and
 * marks mistakes in the output as Go does: `%!d(string=x)`, `%!d(MISSING)`, `%!(EXTRA int=1)`,
 * `%!(NOVERB)`, `%!d(BADINDEX)`, `%!(BADWIDTH)`, `%!(BADPREC)`.
 *
 * Floats print the shortest digits that read back for %v, and round the exact binary value half
 * to even when a precision is given (`%.0f` of 2.5 is 2).
 */
import { isPrintable, quote } from './literals.js';
import { fieldsOf, goKind, goTypeName, structType } from './values.js';

/** A conversion's flags, width and precision, as read from the format. */
interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  /** `%+v`: struct fields with their names. */
  fieldNames: boolean;
  /** `%#v`: values as Go syntax. */
  goSyntax: boolean;
  width?: number;
  precision?: number;
}

const plainSpec = (): Spec => ({ plus: false, minus: false, sharp: false, space: false, zero: false, fieldNames: false, goSyntax: false });

const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** `text` widened to the spec's width (counted in characters): on the left unless `-`, with zeros only where the verb allows them. */
function fit(spec: Spec, text: string, zeros = false): string {
  const missing = (spec.width ?? 0) - charCount(text);
  if (missing <= 0) return text;
  if (spec.minus) return text + ' '.repeat(missing);
  return (zeros && spec.zero ? '0' : ' ').repeat(missing) + text;
}

// ---------------------------------------------------------------- floats

/** A float's decimal digits without leading or trailing zeros, and where the point goes: value = 0.digits × 10^point. */
interface Digits {
  digits: string;
  point: number;
}

const ZERO_DIGITS: Digits = { digits: '', point: 0 };

/** The fewest digits that read back as `x` (JavaScript's number-to-string gives the same digits as Go's). */
function shortestDigits(x: number): Digits {
  if (x === 0) return ZERO_DIGITS;
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  return { digits: mantissa.replace('.', '').replace(/0+$/, ''), point: Number(exponent) + 1 };
}

/** All the digits of the binary value of `x` (every double is a finite decimal fraction). */
function exactDigits(x: number): Digits {
  if (x === 0) return ZERO_DIGITS;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const significand = biased === 0 ? fraction : fraction | (1n << 52n);
  const twos = (biased === 0 ? 1 : biased) - 1075; // x = significand × 2^twos
  const all = twos >= 0 ? (significand << BigInt(twos)).toString() : (significand * 5n ** BigInt(-twos)).toString();
  const point = twos >= 0 ? all.length : all.length + twos; // × 5^k / 10^k for 2^-k
  return { digits: all.replace(/0+$/, ''), point };
}

/** `d` rounded to `keep` significant digits, a tie going to the even digit. */
function roundDigits(d: Digits, keep: number): Digits {
  if (keep < 0 || keep >= d.digits.length) return d;
  const next = d.digits.charCodeAt(keep) - 48;
  const tie = next === 5 && keep + 1 === d.digits.length;
  const up = tie ? keep > 0 && (d.digits.charCodeAt(keep - 1) - 48) % 2 === 1 : next >= 5;
  const kept = d.digits.slice(0, keep);
  if (!up) {
    const digits = kept.replace(/0+$/, '');
    return digits === '' ? ZERO_DIGITS : { digits, point: d.point };
  }
  const carry = kept.replace(/9+$/, '');
  if (carry === '') return { digits: '1', point: d.point + 1 };
  return { digits: carry.slice(0, -1) + String.fromCharCode(carry.charCodeAt(carry.length - 1) + 1), point: d.point };
}

/** `d.ddd e±XX` with `fraction` digits after the point. */
function scientific(d: Digits, fraction: number, letter: 'e' | 'E'): string {
  const head = d.digits[0] ?? '0';
  const tail = fraction > 0 ? `.${d.digits.slice(1, 1 + fraction).padEnd(fraction, '0')}` : '';
  const exponent = d.digits === '' ? 0 : d.point - 1;
  return `${head}${tail}${letter}${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** `ddd.ddd` with `fraction` digits after the point. */
function positional(d: Digits, fraction: number): string {
  const digitAt = (i: number): string => d.digits[i] ?? '0';
  let whole = '0';
  if (d.point > 0) whole = Array.from({ length: d.point }, (_, i) => digitAt(i)).join('');
  if (fraction <= 0) return whole;
  return `${whole}.${Array.from({ length: fraction }, (_, i) => (d.point + i >= 0 ? digitAt(d.point + i) : '0')).join('')}`;
}

type FloatStyle = 'e' | 'E' | 'f' | 'F' | 'g' | 'G';

/**
 * A non-negative finite float in the style of %e, %f or %g; `precision` -1 asks for the shortest
 * digits that read back. For %g the precision counts significant digits, and the exponent form is
 * used when the exponent is below -4 or not below the precision (6 when shortest).
 */
export function formatUnsignedFloat(x: number, style: FloatStyle, precision: number): string {
  const lower = style.toLowerCase() as 'e' | 'f' | 'g';
  const letter = style === 'E' || style === 'G' ? 'E' : 'e';
  const shortest = precision < 0;
  let d: Digits;
  let prec = precision;
  if (shortest) {
    d = shortestDigits(x);
    prec = { e: Math.max(d.digits.length - 1, 0), f: Math.max(d.digits.length - d.point, 0), g: d.digits.length }[lower];
  } else {
    const exact = exactDigits(x);
    if (lower === 'g' && prec === 0) prec = 1;
    d = roundDigits(exact, { e: prec + 1, f: exact.point + prec, g: prec }[lower]);
  }
  if (lower === 'e') return scientific(d, prec, letter);
  if (lower === 'f') return positional(d, prec);
  const count = d.digits.length;
  let limit = prec > count && count >= d.point ? count : prec;
  if (shortest) limit = 6;
  const exponent = d.point - 1;
  if (count > 0 && (exponent < -4 || exponent >= limit)) return scientific(d, Math.min(prec, count) - 1, letter);
  return positional(d, Math.max((prec > d.point ? count : prec) - d.point, 0));
}

/** A float with sign, flags and width. `style` 'v' is %g with the shortest digits. */
function floatText(spec: Spec, x: number, style: FloatStyle | 'v'): string {
  const precision = spec.precision ?? (style === 'v' || style === 'g' || style === 'G' ? -1 : 6);
  if (Number.isNaN(x)) return fit(spec, spec.plus ? '+NaN' : spec.space ? ' NaN' : 'NaN');
  let sign = x < 0 || Object.is(x, -0) ? '-' : '+';
  if (sign === '+' && spec.space && !spec.plus) sign = ' ';
  if (!Number.isFinite(x)) return fit(spec, `${sign}Inf`);
  let body = formatUnsignedFloat(Math.abs(x), style === 'v' ? 'g' : style, precision);
  if (spec.sharp && !/[.eE]/.test(body)) body += '.';
  if (sign === '+' && !spec.plus) return fit(spec, body, true);
  // A sign that shows goes before the zeros of zero padding.
  if (spec.zero && !spec.minus && spec.width !== undefined && spec.width > body.length + 1) return sign + '0'.repeat(spec.width - body.length - 1) + body;
  return fit(spec, sign + body);
}

// ---------------------------------------------------------------- integers

const BASE_PREFIX: Readonly<Record<number, string>> = { 2: '0b', 16: '0x' };

/**
 * An integer in a base, with the precision or zero padding giving a minimum number of digits,
 * `#` adding the base's prefix (0b, 0, 0x) and %O always adding 0o.
 */
function integerText(spec: Spec, n: bigint, base: number, upper: boolean, verb: string): string {
  const negative = n < 0n;
  const magnitude = negative ? -n : n;
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  let minDigits = 0;
  if (spec.precision !== undefined) {
    if (spec.precision === 0 && magnitude === 0n) return fit(spec, ''); // %.0d of 0 is nothing, padded
    minDigits = spec.precision;
  } else if (spec.zero && !spec.minus && spec.width !== undefined) {
    minDigits = spec.width - sign.length;
  }
  let digits = magnitude.toString(base);
  if (upper) digits = digits.toUpperCase();
  digits = digits.padStart(minDigits, '0');
  if (spec.sharp) {
    if (base === 8) digits = digits.startsWith('0') ? digits : `0${digits}`;
    else if (BASE_PREFIX[base] !== undefined) digits = (upper ? BASE_PREFIX[base].toUpperCase() : BASE_PREFIX[base]) + digits;
  }
  if (verb === 'O') digits = `0o${digits}`;
  return fit(spec, sign + digits);
}

const isCodePoint = (n: bigint): boolean => n >= 0n && n <= 0x10ffffn && !(n >= 0xd800n && n <= 0xdfffn);
const charOf = (n: bigint): string => (isCodePoint(n) ? String.fromCodePoint(Number(n)) : '\ufffd');

/** A character constant in single quotes, as %q prints an integer. */
function quotedChar(n: bigint): string {
  const c = charOf(n);
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  return `'${quote(c).slice(1, -1)}'`;
}

/** `U+0041`, and with `#` the character too when it is printable. */
function codePointText(spec: Spec, n: bigint): string {
  const code = `U+${n
    .toString(16)
    .toUpperCase()
    .padStart(Math.max(4, spec.precision ?? 4), '0')}`;
  const printable = n >= 0x20n && n <= 0x10ffffn && isPrintable(String.fromCodePoint(Number(n)));
  return fit(spec, spec.sharp && printable ? `${code} '${String.fromCodePoint(Number(n))}'` : code);
}

// ---------------------------------------------------------------- strings

const truncated = (spec: Spec, s: string): string => (spec.precision === undefined ? s : Array.from(s).slice(0, spec.precision).join(''));

/** The UTF-8 bytes in hex (`% x` spaces them, `#` adds 0x), at most `precision` bytes. */
function hexBytes(spec: Spec, s: string, upper: boolean): string {
  const bytes = [...Buffer.from(s, 'utf8').subarray(0, spec.precision)];
  const prefix = upper ? '0X' : '0x';
  const parts = bytes.map((b, i) => {
    const pair = upper ? b.toString(16).padStart(2, '0').toUpperCase() : b.toString(16).padStart(2, '0');
    return spec.sharp && (spec.space || i === 0) ? prefix + pair : pair;
  });
  return fit(spec, parts.join(spec.space ? ' ' : ''));
}

/** %q of a string: double-quoted, or with `#` back-quoted when it can be. */
function quotedString(spec: Spec, s: string): string {
  const t = truncated(spec, s);
  if (spec.sharp && !/[`\p{Cc}\ufffd]/u.test(t)) return fit(spec, `\`${t}\``);
  return fit(spec, quote(t, spec.plus));
}

// ---------------------------------------------------------------- the verb table

/** Renders one value for one verb; `depth` is above 0 inside a slice, map or struct. */
type Renderer = (spec: Spec, value: never, verb: string, depth: number) => string;

const radix =
  (base: number, upper = false): Renderer =>
  (spec, n: bigint, verb) =>
    integerText(spec, n, base, upper, verb);
// JSON cannot tell 2.0 from 2: a float verb prints an integral number as the float it may be.
const integerAsFloat: Renderer = (spec, n: bigint, verb) => floatText(spec, Number(n), verb as FloatStyle);
const float: Renderer = (spec, x: number, verb) => floatText(spec, x, verb as FloatStyle | 'v');

/** For each kind of value, the verbs it takes. A verb missing here prints as `%!z(type=value)`. */
const VERBS: Readonly<Record<'bool' | 'int' | 'float' | 'string' | 'func', Readonly<Record<string, Renderer>>>> = {
  bool: {
    t: (spec, b: boolean) => fit(spec, String(b)),
    v: (spec, b: boolean) => fit(spec, String(b)),
  },
  int: {
    v: radix(10),
    d: radix(10),
    b: radix(2),
    o: radix(8),
    O: radix(8),
    x: radix(16),
    X: radix(16, true),
    c: (spec, n: bigint) => fit(spec, charOf(n)),
    q: (spec, n: bigint) => fit(spec, quotedChar(n)),
    U: (spec, n: bigint) => codePointText(spec, n),
    e: integerAsFloat,
    E: integerAsFloat,
    f: integerAsFloat,
    F: integerAsFloat,
    g: integerAsFloat,
    G: integerAsFloat,
  },
  float: { v: float, e: float, E: float, f: float, F: float, g: float, G: float },
  string: {
    v: (spec, s: string) => fit(spec, spec.goSyntax ? quote(s) : truncated(spec, s)),
    s: (spec, s: string) => fit(spec, truncated(spec, s)),
    q: (spec, s: string) => quotedString(spec, s),
    x: (spec, s: string) => hexBytes(spec, s, false),
    X: (spec, s: string) => hexBytes(spec, s, true),
  },
  func: {
    v: (spec) => fit(spec, '0x0'),
    p: (spec) => fit(spec, '0x0'),
  },
};

function wrongVerb(spec: Spec, value: unknown, verb: string): string {
  if (value === undefined || value === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(value)}=${render(spec, value, 'v', 0)})`;
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

/** Slices, maps and structs print their elements with the same verb and flags. */
function composite(spec: Spec, value: object, verb: string, depth: number): string {
  const inner = (x: unknown): string => render(spec, x, verb, depth + 1);
  if (Array.isArray(value)) return spec.goSyntax ? `[]interface {}{${value.map(inner).join(', ')}}` : `[${value.map(inner).join(' ')}]`;
  const type = structType(value);
  if (type === undefined) {
    const entries = fieldsOf(value).sort(byKey);
    if (spec.goSyntax) return `map[string]interface {}{${entries.map(([k, x]) => `${quote(k)}:${inner(x)}`).join(', ')}}`;
    return `map[${entries.map(([k, x]) => `${inner(k)}:${inner(x)}`).join(' ')}]`;
  }
  const named = spec.fieldNames || spec.goSyntax;
  const fields = fieldsOf(value).map(([k, x]) => (named ? `${k}:` : '') + inner(x));
  return spec.goSyntax ? `${type.replace(/^\*/, '')}{${fields.join(', ')}}` : `{${fields.join(' ')}}`;
}

/** One value for one verb. */
function render(spec: Spec, value: unknown, verb: string, depth: number): string {
  if (verb === 'T') return fit(spec, goTypeName(value));
  const kind = goKind(value);
  switch (kind) {
    case 'invalid':
    case 'nil':
      return verb === 'v' ? fit(spec, spec.goSyntax && depth > 0 ? 'interface {}(nil)' : '<nil>') : wrongVerb(spec, value, verb);
    case 'slice':
    case 'map':
    case 'struct':
      return composite(spec, value as object, verb, depth);
    default: {
      const renderer = VERBS[kind][verb];
      if (renderer === undefined) return wrongVerb(spec, value, verb);
      const operand = kind === 'int' ? BigInt(value as number | bigint) : value;
      return (renderer as (spec: Spec, value: unknown, verb: string, depth: number) => string)(spec, operand, verb, depth);
    }
  }
}

/** `{{.}}` of a value: what %v prints. */
export function formatValue(v: unknown): string {
  return render(plainSpec(), v, 'v', 0);
}

/** print: the values side by side, with a space between two neighbours when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  return args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + formatValue(a)).join('');
}

/** println: the values with a space between each two, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

// ---------------------------------------------------------------- printf

/** Widths, precisions and argument indexes above this are not numbers (as in Go). */
const NUMBER_LIMIT = 1e6;

/** Reads a printf format one conversion at a time, taking the arguments they use. */
class FormatReader {
  private at = 0;
  private out = '';
  /** The next argument a conversion takes. */
  private argIndex = 0;
  /** Whether an explicit `[n]` index was seen: then unused arguments are not reported. */
  private indexed = false;
  /** False once the current conversion has a bad or misplaced `[n]`. */
  private indexOK = true;

  constructor(
    private readonly format: string,
    private readonly args: readonly unknown[],
  ) {}

  run(): string {
    while (this.at < this.format.length) {
      const percent = this.format.indexOf('%', this.at);
      if (percent < 0) {
        this.out += this.format.slice(this.at);
        break;
      }
      this.out += this.format.slice(this.at, percent);
      this.at = percent + 1;
      if (!this.conversion()) break;
    }
    if (!this.indexed && this.argIndex < this.args.length) {
      const extra = this.args.slice(this.argIndex).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
      this.out += `%!(EXTRA ${extra.join(', ')})`;
    }
    return this.out;
  }

  private peek(): string | undefined {
    return this.format[this.at];
  }

  /** A run of decimal digits; undefined when there is none. A number past the limit swallows the rest of the format. */
  private digits(end = this.format.length): number | undefined {
    let n: number | undefined;
    while (this.at < end && /[0-9]/.test(this.format[this.at]!)) {
      if ((n ?? 0) > NUMBER_LIMIT) {
        this.at = end;
        return undefined;
      }
      n = (n ?? 0) * 10 + Number(this.format[this.at]);
      this.at++;
    }
    return n;
  }

  /**
   * An argument index `[n]` at the cursor: moves to argument n and returns true when it is one
   * (even one out of range, which makes the conversion BADINDEX); false when there is none or it
   * is malformed.
   */
  private argumentIndex(): boolean {
    if (this.peek() !== '[') return false;
    this.indexed = true;
    const close = this.format.indexOf(']', this.at + 1);
    if (this.format.length - this.at < 3 || close < 0) {
      this.at += 1;
      this.indexOK = false;
      return false;
    }
    this.at += 1;
    const n = this.digits(close);
    const wellFormed = n !== undefined && this.at === close;
    this.at = close + 1;
    if (wellFormed && n >= 1 && n <= this.args.length) this.argIndex = n - 1;
    else this.indexOK = false;
    return wellFormed;
  }

  /** A `*` width or precision: the next argument, when it is an integer within the limit. */
  private starArgument(): number | undefined {
    if (this.argIndex >= this.args.length) return undefined;
    const a = this.args[this.argIndex++];
    if (goKind(a) !== 'int' || Math.abs(Number(a)) > NUMBER_LIMIT) return undefined;
    return Number(a);
  }

  /** One conversion after its `%`; false when the format ended before its verb. */
  private conversion(): boolean {
    const spec = plainSpec();
    this.indexOK = true;
    for (let c = this.peek(); c !== undefined && '#0+- '.includes(c); c = this.peek()) {
      if (c === '#') spec.sharp = true;
      else if (c === '0') spec.zero = !spec.minus;
      else if (c === '+') spec.plus = true;
      else if (c === ' ') spec.space = true;
      else {
        spec.minus = true;
        spec.zero = false;
      }
      this.at++;
    }
    let indexed = this.argumentIndex();
    if (this.peek() === '*') {
      this.at++;
      const width = this.starArgument();
      if (width === undefined) this.out += '%!(BADWIDTH)';
      else if (width < 0) Object.assign(spec, { width: -width, minus: true, zero: false });
      else spec.width = width;
      indexed = false;
    } else {
      spec.width = this.digits();
      if (spec.width !== undefined && indexed) this.indexOK = false; // "%[2]5d": the index must come last
    }
    if (this.peek() === '.' && this.at + 1 < this.format.length) {
      this.at++;
      if (indexed) this.indexOK = false;
      indexed = this.argumentIndex();
      if (this.peek() === '*') {
        this.at++;
        const precision = this.starArgument();
        if (precision === undefined) this.out += '%!(BADPREC)';
        else if (precision >= 0) spec.precision = precision;
        indexed = false;
      } else {
        spec.precision = this.digits() ?? 0;
      }
    }
    if (!indexed) this.argumentIndex();
    if (this.at >= this.format.length) {
      this.out += '%!(NOVERB)';
      return false;
    }
    const verb = String.fromCodePoint(this.format.codePointAt(this.at)!);
    this.at += verb.length;
    if (verb === '%') this.out += '%';
    else if (!this.indexOK) this.out += `%!${verb}(BADINDEX)`;
    else if (this.argIndex >= this.args.length) this.out += `%!${verb}(MISSING)`;
    else {
      if (verb === 'v') {
        // %+v and %#v are their own forms of %v, not the + and # flags.
        Object.assign(spec, { fieldNames: spec.plus, goSyntax: spec.sharp, plus: false, sharp: false });
      }
      this.out += render(spec, this.args[this.argIndex++], verb, 0);
    }
    return true;
  }
}

/** printf: `format` with its conversions replaced by the arguments. */
export function sprintf(format: string, args: readonly unknown[]): string {
  return new FormatReader(format, args).run();
}
