/**
 * `events --filter` and `--since`/`--until`, parsed at the edge and matched as Docker's daemon does
 * (daemon/events/filter.go): values of one key OR, different keys AND — except `label`, where every
 * given label must match (Docker's MatchKVList); names and ids match by prefix (FuzzyMatch), `type`,
 * `event` and `image` exactly.
 */
import { UsageError } from '../errors.js';
import { parseGoDuration } from '../duration.js';
import type { EventMessage } from './log.js';

const KEYS = new Set(['type', 'event', 'action', 'container', 'image', 'label', 'network', 'volume', 'pod', 'scope']);
/** Docker's types, and Podman's pod (hull's CLI shows pod events; the Engine API leaves them out). */
const TYPES = new Set(['container', 'image', 'network', 'volume', 'pod']);

/** The --filter values by key (`action` is read as Docker's `event`). */
export type EventFilters = ReadonlyMap<string, readonly string[]>;

/** `key=value` options to filters; Docker's messages for a bad one. */
export function parseEventFilters(args: readonly string[]): EventFilters {
  const out = new Map<string, string[]>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)`);
    let key = arg.slice(0, eq).trim().toLowerCase();
    const value = arg.slice(eq + 1).trim();
    if (!KEYS.has(key)) throw new UsageError(`invalid filter '${key}'`);
    if (key === 'action') key = 'event';
    if (key === 'type' && !TYPES.has(value))
      throw new UsageError(`invalid filter 'type=${value}': unknown event type (container, image, network, volume, pod)`);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Whether `filters` let the event through. */
export function matchesEvent(filters: EventFilters, ev: EventMessage): boolean {
  const exact = (key: string, ...candidates: (string | undefined)[]): boolean => {
    const values = filters.get(key);
    return !values || values.some((v) => candidates.includes(v));
  };
  const fuzzy = (key: string, ...candidates: (string | undefined)[]): boolean => {
    const values = filters.get(key);
    return !values || values.some((v) => candidates.some((c) => c !== undefined && c !== '' && c.startsWith(v)));
  };
  const attrs = ev.Actor.Attributes;
  // exec_create/exec_start/health_status carry a suffix (`exec_start: sh -c …`): matched without it, as Docker's #25798.
  const events = filters.get('event');
  if (events && !events.some((v) => v === ev.Action || ev.Action.startsWith(`${v}: `))) return false;
  if (!exact('type', ev.Type) || !exact('scope', ev.scope)) return false;
  const named = (type: string) => (filters.has(type) ? ev.Type === type && fuzzy(type, ev.Actor.ID, attrs.name) : true);
  if (!named('container') || !named('network') || !named('volume') || !named('pod')) return false;
  const imageName = ev.Type === 'image' ? attrs.name : attrs.image;
  if (!exact('image', ev.Actor.ID, imageName, stripTag(ev.Actor.ID), stripTag(imageName))) return false;
  for (const label of filters.get('label') ?? []) {
    const eq = label.indexOf('=');
    const ok = eq < 0 ? label in attrs : attrs[label.slice(0, eq)] === label.slice(eq + 1);
    if (!ok) return false;
  }
  return true;
}

/** `busybox:1` → `busybox` (not a registry port: `localhost:5000/a` stays). */
function stripTag(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/**
 * Docker's `--since`/`--until` value (api/types/time.GetTimestamp) in nanoseconds since the epoch:
 * Unix seconds (`1700000000`, `1700000000.5`), RFC 3339 with or without the zone or the seconds
 * (a zoneless one is local time), a date, or a Go duration before `now` (`10m`, `1h30m`).
 */
export function parseEventTime(value: string, now: Date = new Date()): bigint {
  const text = value.trim();
  const duration = parseGoDuration(text);
  if (duration !== undefined) return BigInt(now.getTime()) * 1_000_000n - BigInt(Math.round(duration));
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const rfc = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:\d{2})?$/i.exec(text);
  if (rfc) {
    const [, date, hm, sec, frac, zone] = rfc;
    const iso = `${date}T${hm ?? '00:00'}:${sec ?? '00'}${zone ? zone.toUpperCase() : ''}`;
    const ms = Date.parse(iso); // without a zone: local time, as Go's ParseInLocation(time.Local)
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((frac ?? '').padEnd(9, '0') || '0');
  }
  throw new UsageError(`invalid value for --since/--until: ${JSON.stringify(value)}: expected a timestamp (RFC 3339 or Unix seconds) or a duration (10m)`);
}
