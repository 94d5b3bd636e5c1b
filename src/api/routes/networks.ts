/** `/networks/…` and `/volumes/…`: hull's bridge networks and local volumes, in Docker's shapes. */
import { UsageError } from '../../errors.js';
import { isZero } from '../container-config.js';
import type { Exchange } from '../exchange.js';
import { queryBool } from '../exchange.js';
import type { Router } from '../router.js';
import type { ApiSessions } from '../sessions.js';
import { filterArgs } from './containers.js';
import { parseNetworkFilters, parsePruneFilters, parseVolumeFilters } from '../../filters/index.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function body(ex: Exchange): Promise<Json> {
  const b = (await ex.json()) ?? {};
  if (!isObject(b)) throw new UsageError('the request body must be a JSON object');
  return b;
}

function text(b: Json, key: string, where: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new UsageError(`${where}${key}: a string expected`);
  return v;
}

function strings(b: Json, key: string, where: string): Record<string, string> | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) throw new UsageError(`${where}${key}: an object of strings expected`);
  return v as Record<string, string>;
}

const labels = (b: Json, where: string) => strings(b, 'Labels', where);

function flag(b: Json, key: string, where: string): boolean {
  const v = b[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new UsageError(`${where}${key}: a boolean expected`);
  return v;
}

/** Fields hull cannot honour: refused unless zero (never dropped). */
function refuse(b: Json, keys: readonly string[], where: string): void {
  for (const k of keys) if (!isZero(b[k])) throw new UsageError(`${where}${k} is not supported by hull`);
}

export function networkRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  /**
   * A network as dockerd answers: a user network's Options are only those it was created with (hull's
   * inspect names every bridge there; dockerd only its default one's). docker-compose compares the
   * options with its file's, and would call the network changed.
   */
  const inspected = async (nameOrId: string): Promise<Record<string, unknown>> => {
    const n = await hull.inspectNetwork(nameOrId);
    if (n.Name === 'bridge' || !isObject(n.Options)) return n;
    const { ['com.docker.network.bridge.name']: _bridge, ...given } = n.Options;
    return { ...n, Options: given };
  };

  router.add('GET', '/networks', async (ex) => {
    // host and none have no record to inspect here
    const listed = hull.listedNetworks(parseNetworkFilters(filterArgs(ex))).filter((n) => n.id !== '');
    ex.reply(200, await Promise.all(listed.map((n) => inspected(n.id))));
  });

  router.add('GET', '/networks/{id}', async (ex) => {
    ex.reply(200, await inspected(ex.params.id!));
  });

  router.add('POST', '/networks/create', async (ex) => {
    const b = await body(ex);
    const name = text(b, 'Name', '');
    if (!name) throw new UsageError('Name is required to create a network');
    const driver = text(b, 'Driver', '') ?? 'bridge';
    if (driver !== 'bridge') throw new UsageError(`network driver ${driver} is not supported by hull (bridge only)`);
    refuse(b, ['Ingress', 'EnableIPv6', 'ConfigFrom', 'ConfigOnly'], '');
    const scope = text(b, 'Scope', '');
    if (scope !== undefined && scope !== 'local') throw new UsageError(`network scope ${scope} is not supported by hull (local only)`);
    // CheckDuplicate: hull's network names are unique whatever it says (a second one is a 409).
    flag(b, 'CheckDuplicate', '');
    let subnet: string | undefined;
    let gateway: string | undefined;
    let ipRange: string | undefined;
    if (b.IPAM !== undefined && b.IPAM !== null) {
      if (!isObject(b.IPAM)) throw new UsageError('IPAM: an object expected');
      const ipamDriver = text(b.IPAM, 'Driver', 'IPAM.');
      if (ipamDriver !== undefined && ipamDriver !== 'default') throw new UsageError(`IPAM driver ${ipamDriver} is not supported by hull`);
      refuse(b.IPAM, ['Options'], 'IPAM.');
      const configs = b.IPAM.Config ?? [];
      if (!Array.isArray(configs) || !configs.every(isObject) || configs.length > 1)
        throw new UsageError('IPAM.Config: at most one {Subnet, Gateway, IPRange} is supported by hull');
      const c = configs[0];
      if (c) {
        subnet = text(c, 'Subnet', 'IPAM.Config.');
        gateway = text(c, 'Gateway', 'IPAM.Config.');
        ipRange = text(c, 'IPRange', 'IPAM.Config.');
        refuse(c, ['AuxiliaryAddresses'], 'IPAM.Config.');
        if (subnet !== undefined && subnet.includes(':')) throw new UsageError(`IPAM.Config.Subnet ${subnet}: IPv6 is not supported by hull`);
      }
    }
    const l = labels(b, '');
    const options = strings(b, 'Options', '');
    const made = await hull.createNetwork({
      name,
      ...(subnet ? { subnet } : {}),
      ...(gateway ? { gateway } : {}),
      ...(ipRange ? { ipRange } : {}),
      ...(l ? { labels: l } : {}),
      ...(options ? { options } : {}),
      internal: flag(b, 'Internal', ''),
      attachable: flag(b, 'Attachable', ''),
    });
    ex.reply(201, { Id: made.id, Warning: '' });
  });

  router.add('DELETE', '/networks/{id}', async (ex) => {
    await hull.removeNetwork(ex.params.id!);
    ex.reply(204);
  });

  router.add('POST', '/networks/{id}/connect', async (ex) => {
    const b = await body(ex);
    const container = text(b, 'Container', '');
    if (!container) throw new UsageError('Container is required');
    const endpoint = isObject(b.EndpointConfig) ? b.EndpointConfig : {};
    refuse(endpoint, ['Links', 'MacAddress', 'DriverOpts', 'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen'], 'EndpointConfig.');
    const aliases = endpoint.Aliases ?? [];
    if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string')) throw new UsageError('EndpointConfig.Aliases: a list of strings expected');
    let ip: string | undefined;
    if (endpoint.IPAMConfig !== undefined && endpoint.IPAMConfig !== null) {
      if (!isObject(endpoint.IPAMConfig)) throw new UsageError('EndpointConfig.IPAMConfig: an object expected');
      refuse(endpoint.IPAMConfig, ['IPv6Address', 'LinkLocalIPs'], 'EndpointConfig.IPAMConfig.');
      ip = text(endpoint.IPAMConfig, 'IPv4Address', 'EndpointConfig.IPAMConfig.');
    }
    await hull.connectNetwork(ex.params.id!, container, { aliases, ...(ip !== undefined ? { ip } : {}) });
    ex.reply(200);
  });

  router.add('POST', '/networks/{id}/disconnect', async (ex) => {
    const b = await body(ex);
    const container = text(b, 'Container', '');
    if (!container) throw new UsageError('Container is required');
    await hull.disconnectNetwork(ex.params.id!, container, { force: flag(b, 'Force', '') });
    ex.reply(200);
  });

  router.add('POST', '/networks/prune', async (ex) => {
    ex.reply(200, { NetworksDeleted: await hull.pruneNetworks(parsePruneFilters(filterArgs(ex), 'network')) });
  });

  router.add('GET', '/volumes', async (ex) => {
    ex.reply(200, { Volumes: await hull.selectVolumes(parseVolumeFilters(filterArgs(ex))), Warnings: null });
  });

  router.add('POST', '/volumes/create', async (ex) => {
    const b = await body(ex);
    const driver = text(b, 'Driver', '') ?? 'local';
    if (driver !== 'local') throw new UsageError(`volume driver ${driver} is not supported by hull (local only)`);
    refuse(b, ['ClusterVolumeSpec'], '');
    const l = labels(b, '');
    const options = strings(b, 'DriverOpts', '');
    ex.reply(
      201,
      await hull.createVolume(text(b, 'Name', ''), { ...(l ? { labels: l } : {}), ...(options && Object.keys(options).length > 0 ? { options } : {}) }),
    );
  });

  router.add('GET', '/volumes/{name}', async (ex) => {
    ex.reply(200, hull.inspectVolume(ex.params.name!));
  });

  router.add('DELETE', '/volumes/{name}', async (ex) => {
    await hull.removeVolume(ex.params.name!, { force: queryBool(ex.query, 'force') });
    ex.reply(204);
  });

  router.add('POST', '/volumes/prune', async (ex) => {
    const filters = parsePruneFilters(filterArgs(ex), 'volume');
    // API 1.41 (Docker 20.10) prunes every unused local volume; only API 1.42 narrowed it to anonymous ones.
    const r = await hull.pruneVolumes({ all: true, filters });
    ex.reply(200, { VolumesDeleted: r.volumes, SpaceReclaimed: r.reclaimed });
  });
}
