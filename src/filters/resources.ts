/**
 * `volume ls --filter` (Docker's volume/service/convert.go: dangling, driver, label, name) and
 * `network ls --filter` (daemon/network/filter.go: dangling, driver, id, label, name, scope,
 * type): checked once, then matched against each volume or network with whether something uses it.
 */
import { UsageError } from '../errors.js';
import { type FilterArgs, type LabelFilter, NO_FILTERS, booleanFilter, checkKeys, labelFilters, matchLabels, matchesPattern } from './args.js';

// ---- volumes --------------------------------------------------------------------------

export const VOLUME_LS_FILTER_KEYS = ['dangling', 'driver', 'label', 'name'] as const;

export interface VolumeFilters {
  /** true: only volumes no container uses; false: only used ones. */
  dangling?: boolean;
  drivers: string[];
  labels: LabelFilter[];
  /** Matched as Docker's Args.Match (equal, or a regular expression found in the name). */
  names: string[];
}

export function parseVolumeFilters(args: FilterArgs = NO_FILTERS): VolumeFilters {
  checkKeys(args, VOLUME_LS_FILTER_KEYS);
  const dangling = booleanFilter(args, 'dangling', true);
  return {
    ...(dangling !== undefined ? { dangling } : {}),
    drivers: [...(args.get('driver') ?? [])],
    labels: labelFilters(args.get('label')),
    names: [...(args.get('name') ?? [])],
  };
}

export interface FilterableVolume {
  Name: string;
  Driver: string;
  Labels: Readonly<Record<string, string>>;
}

/** The volumes the filters keep; `inUse` is asked only with a dangling filter. */
export async function selectVolumes<T extends FilterableVolume>(
  volumes: readonly T[],
  f: VolumeFilters,
  inUse: (name: string) => Promise<boolean>,
): Promise<T[]> {
  const out: T[] = [];
  for (const v of volumes) {
    if (f.drivers.length > 0 && !f.drivers.includes(v.Driver)) continue;
    if (f.names.length > 0 && !matchesPattern(f.names, v.Name)) continue;
    if (!matchLabels(f.labels, v.Labels)) continue;
    if (f.dangling !== undefined && (await inUse(v.Name)) === f.dangling) continue;
    out.push(v);
  }
  return out;
}

// ---- networks -------------------------------------------------------------------------

export const NETWORK_LS_FILTER_KEYS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;

/** Docker's pre-defined networks (runconfig.IsPreDefinedNetwork). */
export const BUILTIN_NETWORKS = ['bridge', 'host', 'none', 'default'] as const;

export interface NetworkFilters {
  dangling?: boolean;
  drivers: string[];
  ids: string[];
  labels: LabelFilter[];
  names: string[];
  scopes: string[];
  /** `custom` and/or `builtin`. */
  types: ('custom' | 'builtin')[];
}

export function parseNetworkFilters(args: FilterArgs = NO_FILTERS): NetworkFilters {
  checkKeys(args, NETWORK_LS_FILTER_KEYS);
  let dangling: boolean | undefined;
  const values = args.get('dangling');
  if (values) {
    if (values.length > 1) throw new UsageError('got more than one value for filter key "dangling"');
    if (values[0] === 'true' || values[0] === '1') dangling = true;
    else if (values[0] === 'false' || values[0] === '0') dangling = false;
    else throw new UsageError(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
  }
  const types = (args.get('type') ?? []).map((t) => {
    if (t !== 'custom' && t !== 'builtin') throw new UsageError(`invalid filter: 'type'='${t}'`);
    return t;
  });
  return {
    ...(dangling !== undefined ? { dangling } : {}),
    drivers: [...(args.get('driver') ?? [])],
    ids: [...(args.get('id') ?? [])],
    labels: labelFilters(args.get('label')),
    names: [...(args.get('name') ?? [])],
    scopes: [...(args.get('scope') ?? [])],
    types,
  };
}

export interface FilterableNetwork {
  id: string;
  name: string;
  driver: string;
  labels?: Readonly<Record<string, string>>;
  /** Always `local` for hull's. */
  scope?: string;
}

/** The networks the filters keep, in their order; `inUse` is asked only with a dangling filter. */
export function selectNetworks<T extends FilterableNetwork>(networks: readonly T[], f: NetworkFilters, inUse: (n: T) => boolean): T[] {
  const builtin = (n: T) => (BUILTIN_NETWORKS as readonly string[]).includes(n.name);
  return networks.filter((n) => {
    if (f.drivers.length > 0 && !f.drivers.includes(n.driver)) return false;
    if (f.names.length > 0 && !matchesPattern(f.names, n.name)) return false;
    if (f.ids.length > 0 && !matchesPattern(f.ids, n.id)) return false;
    if (f.labels.length > 0 && !matchLabels(f.labels, n.labels)) return false;
    if (f.scopes.length > 0 && !f.scopes.includes(n.scope ?? 'local')) return false;
    if (f.dangling !== undefined && (!builtin(n) && !inUse(n)) !== f.dangling) return false;
    if (f.types.length > 0 && !f.types.includes(builtin(n) ? 'builtin' : 'custom')) return false;
    return true;
  });
}
