/**
 * JSON as Docker's CLI prints it (`docker inspect`, `{{json .}}`): compact, U+2028/U+2029 always
 * escaped, lone surrogates as \ufffd, and with escapeHTML `<`, `>` and `&` as \u003c, \u003e and
 * \u0026 (`docker inspect` and `--format json` escape them, the `json` template function does
 * not). Objects keep their key order (Docker prints its structs' fields in declaration order); an
 * object with a GO_JSON method gives its own JSON text.
 */
import { GO_JSON } from './values.js';

export class JsonUnsupportedError extends Error {}

function encodeString(s: string, escapeHTML: boolean): string {
  let out = JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  out = out.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
  if (escapeHTML) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return out;
}

function encode(v: unknown, escapeHTML: boolean): string {
  if (v === undefined || v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return encodeString(v, escapeHTML);
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new JsonUnsupportedError(`json: unsupported value: ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
      return JSON.stringify(v);
    case 'function':
      throw new JsonUnsupportedError(`json: unsupported type: func()`);
    case 'object': {
      const marshal = (v as { [GO_JSON]?: () => string })[GO_JSON];
      if (typeof marshal === 'function') return marshal.call(v);
      if (Array.isArray(v)) return `[${v.map((x) => encode(x, escapeHTML)).join(',')}]`;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return encode((v as { toJSON: () => unknown }).toJSON(), escapeHTML);
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function') continue;
        parts.push(`${encodeString(k, escapeHTML)}:${encode(x, escapeHTML)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new JsonUnsupportedError(`json: unsupported type: ${typeof v}`);
  }
}

/** `v` as JSON (no trailing newline). */
export function goJson(v: unknown, options: { escapeHTML: boolean }): string {
  return encode(v, options.escapeHTML);
}

/** An object's fields as a JSON object with sorted keys (as Docker prints a map, and the rows of `--format json`). */
export function goJsonSorted(fields: Record<string, unknown>, options: { escapeHTML: boolean }): string {
  const sorted = Object.fromEntries(
    Object.entries(fields)
      .filter(([, x]) => typeof x !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return encode(sorted, options.escapeHTML);
}
