/**
 * `ps --filter` (Docker's daemon/list.go): the keys parsed and checked once into a typed value,
 * then the containers chosen as Docker's list does — newest first; `before`/`since` by creation
 * order around a named container; running ones only unless -a, a `status` filter, -n or -l;
 * then every other key. What the records alone do not say (images, networks, ports, health)
 * comes in a `ContainerWorld` the library builds.
 */
import { UsageError } from '../errors.js';
import { CONTAINER_STATUSES, type ContainerStatusName, isLive, statusOf } from '../runtime/states.js';
import { type ContainerRecord, containerLabels } from '../runtime/container-store.js';
import { containerNetworks, psPorts } from '../present/containers.js';
import { type FilterArgs, type LabelFilter, NO_FILTERS, checkKeys, invalidValue, labelFilters, matchLabels, matchesPattern } from './args.js';
import { type ImageFacts, descendantsOf, findImage } from './images.js';

export const PS_FILTER_KEYS = [
  'ancestor',
  'before',
  'exited',
  'expose',
  'health',
  'id',
  'is-task',
  'isolation',
  'label',
  'name',
  'network',
  'publish',
  'since',
  'status',
  'volume',
] as const;

export const HEALTH_FILTER_VALUES = ['starting', 'healthy', 'unhealthy', 'none'] as const;
export type HealthFilterValue = (typeof HEALTH_FILTER_VALUES)[number];

/** ps's filters, checked. Empty lists filter nothing. */
export interface ContainerFilters {
  names: string[];
  ids: string[];
  labels: LabelFilter[];
  ancestors: string[];
  /** A container (name or id): only those created before it. */
  before?: string;
  /** A container (name or id): only those created after it. */
  since?: string;
  exited: number[];
  statuses: ContainerStatusName[];
  health: HealthFilterValue[];
  networks: string[];
  volumes: string[];
  /** "80/tcp" keys (ranges expanded). */
  publish: Set<string>;
  expose: Set<string>;
  /** Swarm tasks: hull runs none, so `true` matches nothing and `false` everything (a standalone Docker's answer). */
  isTask?: boolean;
}

/** nat.SplitProtoPort + ParsePortRange: `80`, `80/udp`, `8000-8080/tcp` to their "port/proto" keys. */
function portKeys(key: string, value: string, into: Set<string>): void {
  if (value.includes(':')) throw new UsageError(`filter for '${key}' should not contain ':': ${value}`);
  const slash = value.indexOf('/');
  const port = slash < 0 ? value : value.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : value.slice(slash + 1) || 'tcp';
  const fail = (why: string) => new UsageError(`error while looking up for ${key} ${value}: ${why}`);
  if (port === '') throw fail('Empty string specified for ports.');
  const [startText = '', endText = startText] = port.split('-', 2);
  const number = (text: string): number => {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n <= 65535)) throw fail(`strconv.ParseUint: parsing ${JSON.stringify(text)}: ${Number.isNaN(n) ? 'invalid syntax' : 'value out of range'}`);
    return n;
  };
  const start = number(startText);
  const end = number(endText);
  if (end < start) throw fail(`Invalid range specified for the Port: ${port}`);
  for (let p = start; p <= end; p++) into.add(`${p}/${proto.toLowerCase()}`);
}

/** ps's `--filter` values to a checked ContainerFilters; Docker's errors for an unknown key or a bad value. */
export function parseContainerFilters(args: FilterArgs = NO_FILTERS): ContainerFilters {
  checkKeys(args, PS_FILTER_KEYS);
  const get = (key: string): readonly string[] => args.get(key) ?? [];
  const exited = get('exited').map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw new UsageError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  });
  const statuses = get('status').map((v) => {
    if (!(CONTAINER_STATUSES as readonly string[]).includes(v)) throw invalidValue('status', v);
    return v as ContainerStatusName;
  });
  let isTask: boolean | undefined;
  if (args.has('is-task')) {
    if (get('is-task').includes('true')) isTask = true;
    else if (get('is-task').includes('false')) isTask = false;
    else throw invalidValue('is-task', get('is-task'));
  }
  const health = get('health').map((v) => {
    if (!(HEALTH_FILTER_VALUES as readonly string[]).includes(v)) throw new UsageError(`Unrecognised filter value for health: ${v}`);
    return v as HealthFilterValue;
  });
  const publish = new Set<string>();
  for (const v of get('publish')) portKeys('publish', v, publish);
  const expose = new Set<string>();
  for (const v of get('expose')) portKeys('expose', v, expose);
  const before = get('before').at(-1);
  const since = get('since').at(-1);
  return {
    names: [...get('name')],
    ids: [...get('id')],
    labels: labelFilters(args.get('label')),
    ancestors: [...get('ancestor')],
    ...(before !== undefined ? { before } : {}),
    ...(since !== undefined ? { since } : {}),
    exited,
    statuses,
    health,
    networks: [...get('network')],
    volumes: [...get('volume')],
    publish,
    expose,
    ...(isTask !== undefined ? { isTask } : {}),
  };
}

/** What filtering needs beyond the records: the stored images, the networks, each container's ports and health. */
export interface ContainerWorld {
  images?: readonly ImageFacts[];
  networks?: readonly { id: string; name: string }[];
  /** A running container's published ports as they are (ephemeral host ports included); default: its record's. */
  ports?: (r: ContainerRecord) => readonly { hostIp: string; proto: string; hostPort: number; containerPort: number }[];
  /** The container's health (Docker's State.Health.Status); absent: `none`, a container without a health check. */
  health?: (r: ContainerRecord) => HealthFilterValue;
}

export interface PsSelection {
  /** `-a`: every container (else the running ones, and paused and restarting). */
  all?: boolean;
  filters?: ContainerFilters;
  /** `-n`: the n last created (all states). */
  last?: number;
  /** `-l`: the last created (all states). */
  latest?: boolean;
}

/** Docker's idOrNameFilter: a container by id (a unique prefix too, as hull's verbs take it) or by name. */
function anchorOf(records: readonly ContainerRecord[], value: string): ContainerRecord {
  const name = value.replace(/^\//, '');
  const found =
    records.find((r) => r.id === value) ??
    records.find((r) => r.name === name) ??
    (() => {
      const hits = value === '' ? [] : records.filter((r) => r.id.startsWith(value));
      return hits.length === 1 ? hits[0] : undefined;
    })();
  if (!found) throw new UsageError(`no such container ${value}`);
  return found;
}

/** The containers `ps` lists, of `records` (Hull.listContainers: newest first), by Docker's rules for -a, -n, -l and --filter. */
export function selectContainers(records: readonly ContainerRecord[], sel: PsSelection, world: ContainerWorld = {}): ContainerRecord[] {
  const f = sel.filters ?? parseContainerFilters();
  let before = f.before !== undefined ? anchorOf(records, f.before) : undefined;
  const since = f.since !== undefined ? anchorOf(records, f.since) : undefined;
  const limit = sel.latest ? 1 : sel.last !== undefined && sel.last > 0 ? sel.last : 0;
  const all = sel.all === true || f.statuses.length > 0 || limit > 0;
  // ids: each value names the one container its prefix is unique to (Docker's idIndex.Get).
  const idMatches = new Set<string>();
  for (const v of f.ids) {
    const hits = records.filter((r) => r.id.startsWith(v));
    if (hits.length === 1) idMatches.add(hits[0]!.id);
  }
  const ancestry = f.ancestors.length > 0 ? ancestorImages(f.ancestors, world.images ?? []) : undefined;
  const networkIds = new Map((world.networks ?? []).map((n) => [n.name, n.id]));
  const health = world.health ?? ((): HealthFilterValue => 'none');
  const out: ContainerRecord[] = [];
  for (const r of records) {
    if (before) {
      if (r.id === before.id) before = undefined;
      continue;
    }
    if (since && r.id === since.id) break;
    const status = statusOf(r.state, r.state.paused === true);
    if (!all && !isLive(status)) continue;
    if (f.names.length > 0 && !matchesPattern(f.names, r.name) && !matchesPattern(f.names, `/${r.name}`)) continue;
    if (f.ids.length > 0 && !idMatches.has(r.id)) continue;
    if (f.isTask === true) continue;
    if (!matchLabels(f.labels, containerLabels(r))) continue;
    if (limit > 0 && out.length === limit) break;
    if (f.exited.length > 0 && !(status === 'exited' && r.state.startedAt !== undefined && f.exited.includes(r.state.exitCode ?? 0))) continue;
    if (f.statuses.length > 0 && !f.statuses.includes(status)) continue;
    if (f.health.length > 0 && !f.health.includes(health(r))) continue;
    if (f.volumes.length > 0) {
      const mounts = r.mounts ?? [];
      const hit = f.volumes.some((v) => mounts.some((m) => m.Destination === v || (m.Name !== undefined && m.Name !== '' ? m.Name : m.Source) === v));
      if (!hit) continue;
    }
    if (ancestry && !ancestry.has(r.imageId.startsWith('sha256:') ? r.imageId : `sha256:${r.imageId}`)) continue;
    if (f.networks.length > 0) {
      const on = containerNetworks(r);
      if (!f.networks.some((v) => on.some((n) => n === v || (networkIds.get(n) ?? '').startsWith(v)))) continue;
    }
    if (f.publish.size > 0 || f.expose.size > 0) {
      // Docker's list has ports for running containers only (none before start or after the end).
      const ports = psPorts(r, world.ports ? world.ports(r) : (r.network?.ports ?? []));
      const hit = ports.some((p) => (p.publicPort > 0 && f.publish.has(`${p.publicPort}/${p.type}`)) || f.expose.has(`${p.privatePort}/${p.type}`));
      if (!hit) continue;
    }
    out.push(r);
  }
  return out;
}

/** The ids of the images `ancestor=` names and of the images built on them (Docker walks the images' children). */
function ancestorImages(values: readonly string[], images: readonly ImageFacts[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    const image = findImage(images, v);
    if (image) for (const d of descendantsOf(image, images)) out.add(d.id);
  }
  return out;
}
