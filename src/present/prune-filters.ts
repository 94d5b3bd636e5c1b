/**
 * The `--filter` of `container prune` and `image prune` (Docker's `until`, `label`, `label!`):
 * parsed once at the edge into a typed value, then matched against each candidate.
 */
import { UsageError } from '../errors.js';
import { parseGoDuration } from '../duration.js';

export interface LabelFilter {
  key: string;
  /** Absent: the key alone must be there (or, negated, absent). */
  value?: string;
}

export interface PruneFilters {
  /** Only what was created before this (ms since the epoch). */
  untilMs?: number;
  /** `label=…`: every one must match. */
  labels: LabelFilter[];
  /** `label!=…`: excluded when every one matches (Docker's MatchKVList over the negated list). */
  notLabels: LabelFilter[];
}

/**
 * Docker's `until`: a Unix timestamp (seconds, optional fraction), an RFC 3339 date or date-time,
 * or a Go duration meaning that long before `now`.
 */
function parseUntil(text: string, now: number): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const ns = parseGoDuration(t);
  if (ns !== undefined) return now - ns / 1e6;
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (Number.isNaN(parsed)) throw new UsageError(`failed to parse value as time or duration: "${text}"`);
  return parsed;
}

function labelFilter(value: string): LabelFilter {
  const eq = value.indexOf('=');
  return eq < 0 ? { key: value } : { key: value.slice(0, eq), value: value.slice(eq + 1) };
}

/** Parses `name=value` filters; `accepted` are the names this verb takes (others: Docker's "invalid filter"). */
export function parsePruneFilters(filters: readonly string[], accepted: readonly ('until' | 'label' | 'label!')[], now = Date.now()): PruneFilters {
  const out: PruneFilters = { labels: [], notLabels: [] };
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)`);
    // `label!=a=b`: the name is `label!`, split at the first '=' as Docker's CLI does.
    const name = f.slice(0, eq).trim();
    const value = f.slice(eq + 1).trim();
    if (!(accepted as readonly string[]).includes(name)) throw new UsageError(`invalid filter '${name}'`);
    if (name === 'until') {
      if (out.untilMs !== undefined) throw new UsageError('more than one until filter specified');
      out.untilMs = parseUntil(value, now);
    } else if (name === 'label') out.labels.push(labelFilter(value));
    else out.notLabels.push(labelFilter(value));
  }
  return out;
}

function matches(labels: Readonly<Record<string, string>>, f: LabelFilter): boolean {
  if (!Object.hasOwn(labels, f.key)) return false;
  return f.value === undefined || labels[f.key] === f.value;
}

/** Whether something created at `created` (ISO time or ms) with `labels` is to be pruned. */
export function prunable(filters: PruneFilters, created: string | number | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (filters.untilMs !== undefined) {
    const t = typeof created === 'number' ? created : created === undefined ? NaN : Date.parse(created);
    if (!(t < filters.untilMs)) return false;
  }
  if (!filters.labels.every((f) => matches(labels, f))) return false;
  if (filters.notLabels.length > 0 && filters.notLabels.every((f) => matches(labels, f))) return false;
  return true;
}
