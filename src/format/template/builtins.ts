/**
 * Template functions: how one is declared (the types of its parameters, which the evaluator
 * checks and converts as Go templates do), and the functions every Go template has: and, or,
 * not, len, index, slice, call, print, printf, println, html, js, urlquery, eq, ne, lt, le, gt,
 * ge. Their results and error texts are those of Go templates (`error calling index: index out
 * of range: 5`).
 */
import { sprint, sprintf, sprintln } from './printf.js';
import { byteLength, fieldsOf, goKind, goTypeName, isTrue } from './values.js';

/**
 * A parameter's type: 'value' takes anything, even no value (a missing key); 'any' takes anything,
 * no value becoming nil; 'string', 'int' and 'bool' take only that kind (a constant argument
 * must be a literal of that kind).
 */
export type ParamType = 'value' | 'any' | 'string' | 'int' | 'bool';

/** and, or and call are evaluated by the evaluator itself: and/or stop at the first deciding operand, call takes a function value. */
export type SpecialForm = 'and' | 'or' | 'call';

export interface TemplateFunc {
  params: readonly ParamType[];
  /** The type of further arguments, for a variadic function. */
  variadic?: ParamType;
  special?: SpecialForm;
  /** The function itself (declared as a method so that typed parameters fit it). */
  fn(...args: unknown[]): unknown;
}

/** A function's failure: execution stops with `error calling NAME: MESSAGE`. */
export class FuncError extends Error {}

export function func(params: readonly ParamType[], fn: TemplateFunc['fn'], variadic?: ParamType): TemplateFunc {
  return variadic === undefined ? { params, fn } : { params, fn, variadic };
}

const special = (form: SpecialForm): TemplateFunc => ({ params: ['value'], variadic: 'value', special: form, fn: () => undefined });

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

// ---------------------------------------------------------------- len, index, slice

/** An index or slice bound: an int from 0 to `limit`. */
function position(x: unknown, limit: number): number {
  const kind = goKind(x);
  if (kind === 'invalid' || kind === 'nil') throw new FuncError('cannot index slice/array with nil');
  if (kind !== 'int') throw new FuncError(`cannot index slice/array with type ${goTypeName(x)}`);
  const n = Number(x);
  if (n < 0 || n > limit) throw new FuncError(`index out of range: ${n}`);
  return n;
}

function lengthOf(item: unknown): number {
  if (item === undefined) throw new FuncError('len of untyped nil');
  if (item === null) throw new FuncError('len of nil pointer');
  switch (goKind(item)) {
    case 'string':
      return byteLength(item as string);
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return fieldsOf(item).length;
    default:
      throw new FuncError(`len of type ${goTypeName(item)}`);
  }
}

/** One step of index: an element of a slice, a byte of a string, a map's value (no value for a missing key). */
function element(item: unknown, key: unknown): unknown {
  if (item === null) throw new FuncError('index of nil pointer');
  switch (goKind(item)) {
    case 'slice': {
      const list = item as unknown[];
      const i = position(key, list.length);
      if (i === list.length) throw new FuncError('reflect: slice index out of range');
      return list[i];
    }
    case 'string': {
      const bytes = utf8(item as string);
      const i = position(key, bytes.length);
      if (i === bytes.length) throw new FuncError('reflect: string index out of range');
      return bytes[i];
    }
    case 'map':
      if (key === undefined || key === null) return undefined;
      if (typeof key !== 'string') throw new FuncError(`value has type ${goTypeName(key)}; should be string`);
      return Object.prototype.hasOwnProperty.call(item, key) ? (item as Record<string, unknown>)[key] : undefined;
    default:
      throw new FuncError(`can't index item of type ${goTypeName(item)}`);
  }
}

function index(item: unknown, ...keys: unknown[]): unknown {
  if (item === undefined) throw new FuncError('index of untyped nil');
  return keys.reduce(element, item);
}

/** slice x 1 2: a part of a slice or (by bytes) of a string; a third bound is the capacity, for slices only. */
function slice(item: unknown, ...bounds: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (bounds.length > 3) throw new FuncError(`too many slice indexes: ${bounds.length}`);
  const kind = goKind(item);
  if (kind !== 'string' && kind !== 'slice') throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  if (kind === 'string' && bounds.length === 3) throw new FuncError('cannot 3-index slice a string');
  const length = kind === 'string' ? byteLength(item as string) : (item as unknown[]).length;
  const [from, to, cap] = [0, 1, 2].map((i) => (i < bounds.length ? position(bounds[i], length) : i === 0 ? 0 : length)) as [number, number, number];
  if (from > to) throw new FuncError(`invalid slice index: ${from} > ${to}`);
  if (bounds.length === 3 && to > cap) throw new FuncError(`invalid slice index: ${to} > ${cap}`);
  return kind === 'string'
    ? utf8(item as string)
        .subarray(from, to)
        .toString('utf8')
    : (item as unknown[]).slice(from, to);
}

// ---------------------------------------------------------------- comparisons

/** The class of a basic value for comparisons (ints and floats compare with each other); undefined for the rest. */
function comparable(v: unknown): 'bool' | 'number' | 'string' | undefined {
  const kind = goKind(v);
  if (kind === 'int' || kind === 'float') return 'number';
  return kind === 'bool' || kind === 'string' ? kind : undefined;
}

const isNil = (v: unknown): boolean => v === undefined || v === null;

/** a == b, or an error for values that cannot be compared; nil equals only nil and differs from any basic value. */
function same(a: unknown, b: unknown): boolean {
  const ca = comparable(a);
  const cb = comparable(b);
  if (ca !== cb) {
    if (isNil(a) || isNil(b)) return false;
    throw new FuncError(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  }
  if (ca === 'number') return Number(a) === Number(b);
  if (ca !== undefined) return a === b;
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  const culprit = ['slice', 'map', 'func'].includes(goKind(b)) ? b : a;
  throw new FuncError(`non-comparable type ${goTypeName(culprit)}`);
}

/** eq a b c…: whether a equals any of the others. */
function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new FuncError('missing argument for comparison');
  return others.some((b) => same(a, b));
}

/** a < b for two numbers or two strings (strings by their bytes). */
function less(a: unknown, b: unknown): boolean {
  const ca = comparable(a);
  const cb = comparable(b);
  if (ca === undefined || cb === undefined) throw new FuncError('invalid type for comparison');
  if (ca !== cb) throw new FuncError(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (ca === 'bool') throw new FuncError('invalid type for comparison');
  if (ca === 'string') return Buffer.compare(utf8(a as string), utf8(b as string)) < 0;
  return Number(a) < Number(b);
}

const lessOrSame = (a: unknown, b: unknown): boolean => less(a, b) || same(a, b);

// ---------------------------------------------------------------- escapers

/** What an escaper escapes: its one string argument, or its arguments printed as print does. */
const escaperInput = (args: unknown[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

const HTML_ENTITIES: Readonly<Record<string, string>> = { '\0': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeHtml = (s: string): string => s.replace(/[\0"'&<>]/g, (c) => HTML_ENTITIES[c]!);

const JS_NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

/** Text safe inside a JavaScript string: quotes and backslashes escaped, `<>&=`, control and unprintable characters as \uXXXX. */
function escapeJs(s: string): string {
  return Array.from(s, (c) => {
    const cp = c.codePointAt(0)!;
    if (JS_NAMED[c] !== undefined) return JS_NAMED[c];
    if (cp < 0x20 || (cp >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c))) return `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    return c;
  }).join('');
}

/** Form encoding of a query value: letters, digits and `-_.~` kept, space as `+`, other bytes as %XX. */
function escapeQuery(s: string): string {
  return Array.from(utf8(s), (b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    return c === ' ' ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/** The functions of every template; Docker's are added in ../docker-templates.ts. */
export const BUILTINS: Readonly<Record<string, TemplateFunc>> = {
  and: special('and'),
  or: special('or'),
  call: special('call'),
  not: func(['value'], (v) => !isTrue(v)),
  len: func(['value'], lengthOf),
  index: func(['value'], index, 'value'),
  slice: func(['value'], slice, 'value'),
  print: func([], (...args) => sprint(args), 'any'),
  printf: func(['string'], (format, ...args) => sprintf(format as string, args), 'any'),
  println: func([], (...args) => sprintln(args), 'any'),
  html: func([], (...args) => escapeHtml(escaperInput(args)), 'any'),
  js: func([], (...args) => escapeJs(escaperInput(args)), 'any'),
  urlquery: func([], (...args) => escapeQuery(escaperInput(args)), 'any'),
  eq: func(['value'], eq, 'value'),
  ne: func(['value', 'value'], (a, b) => !same(a, b)),
  lt: func(['value', 'value'], less),
  le: func(['value', 'value'], lessOrSame),
  gt: func(['value', 'value'], (a, b) => !lessOrSame(a, b)),
  ge: func(['value', 'value'], (a, b) => !less(a, b)),
};
