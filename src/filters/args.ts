/**
 * Docker's `--filter key=value` values, as its CLI collects them (opts.FilterOpt) and its daemon
 * reads them (api/types/filters): a set of values per key, where values of one key OR and
 * different keys AND — except `label`, where every given label must match (MatchKVList). Every
 * list and prune verb parses its flags here once, then checks its own keys (./containers.ts,
 * ./images.ts, ./resources.ts, ./prune.ts). The error texts are the daemon's, so the CLI and the
 * Engine API say the same thing.
 */
import { UsageError } from '../errors.js';
import { parseGoDuration } from '../duration.js';

/** Values by key, each value once, in the order given. */
export type FilterArgs = ReadonlyMap<string, readonly string[]>;

export const NO_FILTERS: FilterArgs = new Map();

function add(out: Map<string, string[]>, key: string, value: string): void {
  const values = out.get(key);
  if (!values) out.set(key, [value]);
  else if (!values.includes(value)) values.push(value);
}

/** `--filter` flags: `key=value` split at the first '=', the key trimmed and lower-cased, the value trimmed (Docker's CLI). */
export function parseFilterFlags(flags: readonly string[]): FilterArgs {
  const out = new Map<string, string[]>();
  for (const flag of flags) {
    if (flag === '') continue;
    const eq = flag.indexOf('=');
    if (eq < 0) throw new UsageError('bad format of filter (expected name=value)');
    add(out, flag.slice(0, eq).trim().toLowerCase(), flag.slice(eq + 1).trim());
  }
  return out;
}

/** The Engine API's `filters` query parameter: `{"key":{"value":true}}`, or the older `{"key":["value"]}`. */
export function filterArgsFromJson(text: string): FilterArgs {
  const out = new Map<string, string[]>();
  if (text === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`invalid filters: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('invalid filters: expected a JSON object');
  for (const [key, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(values)) {
      for (const v of values) add(out, key, String(v));
    } else if (typeof values === 'object' && values !== null) {
      for (const [v, on] of Object.entries(values)) if (on === true) add(out, key, v);
    } else throw new UsageError(`invalid filters: the values of '${key}' are neither a list nor a set`);
  }
  return out;
}

/** Docker's Args.Validate: a key the verb does not take is `Invalid filter 'key'`. */
export function checkKeys(args: FilterArgs, accepted: readonly string[]): void {
  for (const key of args.keys()) if (!accepted.includes(key)) throw new UsageError(`Invalid filter '${key}'`);
}

/** Docker's invalidFilter with a value: `Invalid filter 'key=value'`, the values as Go prints a []string (`[a b]`) when `list`. */
export function invalidValue(key: string, value: string | readonly string[]): UsageError {
  return new UsageError(`Invalid filter '${key}=${typeof value === 'string' ? value : `[${value.join(' ')}]`}'`);
}

/**
 * Docker's Args.Match: a value equal to the source, or one that, read as a regular expression,
 * matches somewhere in it (a value that is not a valid expression is skipped).
 */
export function matchesPattern(values: readonly string[], source: string): boolean {
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}

/** `label=key` or `label=key=value`. */
export interface LabelFilter {
  key: string;
  /** Absent: the key alone must be there. */
  value?: string;
}

export function labelFilters(values: readonly string[] | undefined): LabelFilter[] {
  return (values ?? []).map((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? { key: v } : { key: v.slice(0, eq), value: v.slice(eq + 1) };
  });
}

/** Docker's MatchKVList: true with no filters; else every filter must be among `labels` (none when there are no labels). */
export function matchLabels(filters: readonly LabelFilter[], labels: Readonly<Record<string, string>> | undefined): boolean {
  if (filters.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  return filters.every((f) => Object.hasOwn(labels, f.key) && (f.value === undefined || labels[f.key] === f.value));
}

/**
 * A boolean filter as Docker's list verbs read it: `true` wins when given (with `false` too);
 * `numeric` also takes 1 and 0 (volumes, image prune). Anything else: `Invalid filter 'key=[…]'`.
 */
export function booleanFilter(args: FilterArgs, key: string, numeric = false): boolean | undefined {
  const values = args.get(key);
  if (!values) return undefined;
  if (values.includes('true') || (numeric && values.includes('1'))) return true;
  if (values.includes('false') || (numeric && values.includes('0'))) return false;
  throw invalidValue(key, values);
}

/**
 * Docker's `until` (api/types/time.GetTimestamp) in ms since the epoch: Unix seconds (with a
 * fraction), an RFC 3339 date or date-time, or a Go duration meaning that long before `now`.
 */
export function parseUntil(text: string, now: number): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const ns = parseGoDuration(t);
  if (ns !== undefined) return now - ns / 1e6;
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (Number.isNaN(parsed)) throw new UsageError(`failed to parse value as time or duration: "${text}"`);
  return parsed;
}

/** ISO text or ms to ms (NaN when unknown). */
export function timeOf(created: string | number | undefined): number {
  return typeof created === 'number' ? created : created === undefined ? NaN : Date.parse(created);
}

/**
 * Go's path.Match: `*` any run of characters but '/', `?` one such character, `[…]` a class
 * (`^` negates, `a-z` ranges), `\` quotes the next one; the whole name must match. A malformed
 * pattern is Go's ErrBadPattern.
 */
export function pathMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new UsageError('syntax error in pattern');
      re += escapeRegExp(pattern[++i]!);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let closed = false;
      for (; j < pattern.length; j++) {
        const d = pattern[j]!;
        if (d === ']') {
          closed = cls !== '' && cls !== '^';
          break;
        }
        if (d === '\\') {
          if (j + 1 >= pattern.length) throw new UsageError('syntax error in pattern');
          cls += escapeRegExp(pattern[++j]!);
        } else if (d === '-') {
          // Only between the two ends of a range (`a-z`).
          if (cls === '' || cls === '^' || pattern[j + 1] === undefined || pattern[j + 1] === ']' || pattern[j + 1] === '-')
            throw new UsageError('syntax error in pattern');
          cls += '-';
        } else cls += escapeRegExp(d);
      }
      if (!closed) throw new UsageError('syntax error in pattern');
      re += `[${cls}]`;
      i = j;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`${re}$`, 's').test(name);
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
