/**
 * Docker's template package (docker/cli templates/templates.go): Go's text/template with Docker's
 * functions json, split, join, title, lower, upper, pad and truncate, and the header variants
 * that leave a table's column names as they are.
 */
import { type TemplateFunc, FuncError, GoTemplate, formatValue, func, goJson } from './template/index.js';

/** Go's strings.ToUpper/ToLower map each character to one character. */
const mapRunes = (s: string, f: (c: string) => string): string => Array.from(s, (c) => {
  const m = f(c);
  return [...m].length === 1 ? m : c;
}).join('');

/** strings.Title: the first letter of each word upper-cased (ASCII punctuation separates words). */
function title(s: string): string {
  let prev = ' ';
  return Array.from(s, (c) => {
    const sep = /^[\x00-\x7f]$/.test(prev) ? !/^[0-9A-Za-z_]$/.test(prev) : !/^[\p{L}\p{Nd}]$/u.test(prev) && /^\s$/u.test(prev);
    prev = c;
    return sep ? mapRunes(c, (x) => x.toUpperCase()) : c;
  }).join('');
}

/** strings.Split: an empty separator splits after each character. */
const split = (s: string, sep: string): string[] => (sep === '' ? Array.from(s) : s.split(sep));

/** Docker's joinElements: a slice's elements (or a map's values, sorted) printed and joined. */
function join(elems: unknown, sep: string): string {
  if (elems === null || elems === undefined) return '';
  if (Array.isArray(elems)) return elems.map(formatValue).join(sep);
  if (typeof elems === 'object') return Object.values(elems).filter((v) => typeof v !== 'function').map(formatValue).sort().join(sep);
  throw new FuncError(`expected slice, got ${typeof elems === 'number' ? (Number.isInteger(elems) ? 'int' : 'float64') : typeof elems === 'boolean' ? 'bool' : typeof elems}`);
}

function repeat(n: number): string {
  if (n < 0) throw new FuncError('strings: negative Repeat count');
  return ' '.repeat(n);
}

/** Docker's truncate: at most `length` bytes. */
function truncate(source: string, length: number): string {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length < length) return source;
  if (length < 0) throw new FuncError(`runtime error: slice bounds out of range [:${length}]`);
  return bytes.subarray(0, length).toString('utf8');
}

/** Docker's basicFunctions. `json` does not escape HTML (Docker turns that off). */
export const DOCKER_FUNCS: Readonly<Record<string, TemplateFunc>> = {
  json: func(['any'], (v) => goJson(v, { escapeHTML: false })),
  split: func(['string', 'string'], (s, sep) => split(s as string, sep as string)),
  join: func(['any', 'string'], (elems, sep) => join(elems, sep as string)),
  title: func(['string'], (s) => title(s as string)),
  lower: func(['string'], (s) => mapRunes(s as string, (c) => c.toLowerCase())),
  upper: func(['string'], (s) => mapRunes(s as string, (c) => c.toUpperCase())),
  pad: func(['string', 'int', 'int'], (s, prefix, suffix) => (s === '' ? '' : repeat(prefix as number) + (s as string) + repeat(suffix as number))),
  truncate: func(['string', 'int'], (s, n) => truncate(s as string, n as number)),
};

/** Docker's HeaderFunctions: for the header row of a table, the column names pass through unchanged. */
export const DOCKER_HEADER_FUNCS: Readonly<Record<string, TemplateFunc>> = {
  json: func(['string'], (v) => v),
  split: func(['string', 'string'], (v) => v),
  join: func(['string', 'string'], (v) => v),
  title: func(['string'], (v) => v),
  lower: func(['string'], (v) => v),
  upper: func(['string'], (v) => v),
  truncate: func(['string', 'int'], (v) => v),
};

/** Docker's templates.Parse: a Go template with Docker's functions. Throws TemplateError with Go's message. */
export function parseDockerTemplate(text: string): GoTemplate {
  return GoTemplate.parse(text, DOCKER_FUNCS);
}
