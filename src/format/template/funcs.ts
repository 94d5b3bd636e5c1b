/**
 * Template functions: how one is described (its parameters, checked as Go checks a function's
 * signature) and Go's builtins (text/template/funcs.go): and, or, not, len, index, slice, call,
 * print, printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge.
 */
import { sprint, sprintf, sprintln } from './fmt.js';
import { byteLength, fieldsOf, goKind, goTypeName, isTrue } from './values.js';

/**
 * A parameter's Go type: 'value' takes anything, even no value (Go's reflect.Value); 'any' takes
 * anything, no value becoming nil (interface{}); 'string', 'int' and 'bool' must be that, and a
 * constant argument must be a literal of that kind.
 */
export type ParamType = 'value' | 'any' | 'string' | 'int' | 'bool';

export interface TemplateFunc {
  params: readonly ParamType[];
  /** The type of further arguments, for a variadic function. */
  variadic?: ParamType;
  /** The function itself (declared as a method so that typed parameters fit it). */
  fn(...args: unknown[]): unknown;
}

/** A function's failure: execution stops with `error calling NAME: MESSAGE`. */
export class FuncError extends Error {}

export function func(params: readonly ParamType[], fn: TemplateFunc['fn'], variadic?: ParamType): TemplateFunc {
  return variadic === undefined ? { params, fn } : { params, fn, variadic };
}

/** A Go string's bytes (Go indexes and slices strings by byte). */
const bytesOf = (s: string): Buffer => Buffer.from(s, 'utf8');

function indexArg(index: unknown, cap: number): number {
  const k = goKind(index);
  if (k === 'invalid' || k === 'nil') throw new FuncError('cannot index slice/array with nil');
  if (k !== 'int') throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = Number(index);
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new FuncError('index of untyped nil');
  for (const i of indexes) {
    if (item === null) throw new FuncError('index of nil pointer');
    switch (goKind(item)) {
      case 'slice': {
        const arr = item as unknown[];
        const x = indexArg(i, arr.length);
        if (x === arr.length) throw new FuncError('reflect: slice index out of range'); // Go checks x > len, then reflect panics
        item = arr[x];
        break;
      }
      case 'string': {
        const b = bytesOf(item as string);
        const x = indexArg(i, b.length);
        if (x === b.length) throw new FuncError('reflect: string index out of range');
        item = b[x];
        break;
      }
      case 'map': {
        if (i === undefined || i === null) item = undefined;
        else if (typeof i !== 'string') throw new FuncError(`value has type ${goTypeName(i)}; should be string`);
        else item = Object.prototype.hasOwnProperty.call(item, i) ? (item as Record<string, unknown>)[i] : undefined;
        break;
      }
      default:
        throw new FuncError(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const kind = goKind(item);
  let len: number;
  if (kind === 'string') {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
    len = byteLength(item as string);
  } else if (kind === 'slice') {
    len = (item as unknown[]).length;
  } else {
    throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len);
  });
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (kind === 'string') return bytesOf(item as string).subarray(idx[0], idx[1]).toString('utf8');
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  if (item === undefined) throw new FuncError('len of untyped nil');
  if (item === null) throw new FuncError('len of nil pointer');
  switch (goKind(item)) {
    case 'string': return byteLength(item as string);
    case 'slice': return (item as unknown[]).length;
    case 'map': return fieldsOf(item as object).length;
    default: throw new FuncError(`len of type ${goTypeName(item)}`);
  }
}

type BasicKind = 'bool' | 'number' | 'string' | undefined;

function basicKind(v: unknown): BasicKind {
  const k = goKind(v);
  if (k === 'bool' || k === 'string') return k;
  if (k === 'int' || k === 'float') return 'number';
  return undefined;
}

const isNil = (v: unknown): boolean => v === undefined || v === null;

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new FuncError(`incompatible types for comparison: ${goTypeName(arg1)} and ${goTypeName(arg)}`);
    } else if (k1 !== undefined) {
      truth = arg1 === arg || (k1 === 'number' && Number(arg1) === Number(arg));
    } else if (isNil(arg1) || isNil(arg)) {
      truth = isNil(arg1) === isNil(arg);
    } else {
      const bad = goKind(arg) === 'slice' || goKind(arg) === 'map' || goKind(arg) === 'func' ? arg : arg1;
      throw new FuncError(`non-comparable type ${goTypeName(bad)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === undefined || k2 === undefined) throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError(`incompatible types for comparison: ${goTypeName(arg1)} and ${goTypeName(arg2)}`);
  if (k1 === 'bool') throw new FuncError('invalid type for comparison');
  if (k1 === 'string') return Buffer.compare(bytesOf(arg1 as string), bytesOf(arg2 as string)) < 0;
  return Number(arg1) < Number(arg2);
}

const le = (a: unknown, b: unknown): boolean => lt(a, b) || eq(a, b);

/** Sprint of the arguments, as the escaping functions read them. */
const evalArgs = (args: unknown[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "\\'";
    else if (c === '"') out += '\\"';
    else if (c === '<') out += '\\u003C';
    else if (c === '>') out += '\\u003E';
    else if (c === '&') out += '\\u0026';
    else if (c === '=') out += '\\u003D';
    else if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x80 || /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c)) out += c;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

/** url.QueryEscape: unreserved characters kept, space as '+', the rest %XX. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of bytesOf(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's builtins. `and`, `or` and `call` are evaluated specially by the executor. */
export const GO_BUILTINS: Readonly<Record<string, TemplateFunc>> = {
  and: func(['value'], () => undefined, 'value'),
  or: func(['value'], () => undefined, 'value'),
  call: func(['value'], () => undefined, 'value'),
  not: func(['value'], ((v: unknown) => !isTrue(v))),
  len: func(['value'], length),
  index: func(['value'], index, 'value'),
  slice: func(['value'], slice, 'value'),
  print: func([], ((...a: unknown[]) => sprint(a)), 'any'),
  printf: func(['string'], ((format: string, ...a: unknown[]) => sprintf(format, a)), 'any'),
  println: func([], ((...a: unknown[]) => sprintln(a)), 'any'),
  html: func([], ((...a: unknown[]) => htmlEscape(evalArgs(a))), 'any'),
  js: func([], ((...a: unknown[]) => jsEscape(evalArgs(a))), 'any'),
  urlquery: func([], ((...a: unknown[]) => queryEscape(evalArgs(a))), 'any'),
  eq: func(['value'], eq, 'value'),
  ne: func(['value', 'value'], ((a: unknown, b: unknown) => !eq(a, b))),
  lt: func(['value', 'value'], lt),
  le: func(['value', 'value'], le),
  gt: func(['value', 'value'], ((a: unknown, b: unknown) => !le(a, b))),
  ge: func(['value', 'value'], ((a: unknown, b: unknown) => !lt(a, b))),
};
