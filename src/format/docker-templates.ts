/**
 * The templates of Docker's `--format`: Go templates with the functions Docker's CLI adds (json,
 * split, join, title, lower, upper, pad, truncate), giving the output `docker … --format` gives,
 * and the variants for a table's header row, which leave the column names as they are.
 */
import { type TemplateFunc, FuncError, GoTemplate, formatValue, func, goJson } from './template/index.js';

/** upper and lower change a character only where its other case is a single character (`ß` stays). */
const mapRunes = (s: string, f: (c: string) => string): string =>
  Array.from(s, (c) => {
    const m = f(c);
    return Array.from(m).length === 1 ? m : c; // one rune, as Go counts
  }).join('');

/** Whether a character separates words for title: an ASCII character other than a letter, digit or `_`, or white space. */
const separatesWords = (c: string): boolean => (c <= '\x7f' ? !/^[0-9A-Za-z_]$/.test(c) : /^\s$/u.test(c) && !/^[\p{L}\p{Nd}]$/u.test(c));

/** title: the first letter of each word upper-cased. */
function title(s: string): string {
  return Array.from(s)
    .map((c, i, chars) => (i === 0 || separatesWords(chars[i - 1]!) ? mapRunes(c, (x) => x.toUpperCase()) : c))
    .join('');
}

/** split: an empty separator splits after each character. */
const split = (s: string, sep: string): string[] => (sep === '' ? Array.from(s) : s.split(sep));

/** join: a slice's elements (or a map's values, sorted) printed as `{{.}}` prints them, with the separator between. */
function join(elems: unknown, sep: string): string {
  if (elems === null || elems === undefined) return '';
  if (Array.isArray(elems)) return elems.map(formatValue).join(sep);
  if (typeof elems === 'object')
    return Object.values(elems)
      .filter((v) => typeof v !== 'function')
      .map(formatValue)
      .sort()
      .join(sep);
  throw new FuncError(
    `expected slice, got ${typeof elems === 'number' ? (Number.isInteger(elems) ? 'int' : 'float64') : typeof elems === 'boolean' ? 'bool' : typeof elems}`,
  );
}

function repeat(n: number): string {
  if (n < 0) throw new FuncError('strings: negative Repeat count');
  return ' '.repeat(n);
}

/** truncate: at most `length` bytes. */
function truncate(source: string, length: number): string {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length < length) return source;
  if (length < 0) throw new FuncError(`runtime error: slice bounds out of range [:${length}]`);
  return bytes.subarray(0, length).toString('utf8');
}

/** The functions Docker's templates add. `json` leaves `<`, `>` and `&` as they are, as `docker inspect -f '{{json .}}'` prints them. */
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

/** For the header row of a table: the column names pass through these functions unchanged. */
export const DOCKER_HEADER_FUNCS: Readonly<Record<string, TemplateFunc>> = {
  json: func(['string'], (v) => v),
  split: func(['string', 'string'], (v) => v),
  join: func(['string', 'string'], (v) => v),
  title: func(['string'], (v) => v),
  lower: func(['string'], (v) => v),
  upper: func(['string'], (v) => v),
  truncate: func(['string', 'int'], (v) => v),
};

/** A `--format` template with Docker's functions. Throws a TemplateError with the message Docker prints after `template parsing error: `. */
export function parseDockerTemplate(text: string): GoTemplate {
  return GoTemplate.parse(text, DOCKER_FUNCS);
}
