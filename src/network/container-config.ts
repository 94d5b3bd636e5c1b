/**
 * A container's network, as `create` decides it: the options checked (Docker's messages) and
 * turned into the ContainerNetworkConfig kept in its record. Nothing on the host is touched here.
 */
import { UsageError } from '../errors.js';
import { parseIp } from './ipv4.js';
import { type PortSpec, parseExpose, parsePublish } from './ports.js';
import { DEFAULT_NETWORK } from './store.js';

/** What `run`/`create` asked for (Docker's HostConfig/NetworkingConfig), kept in the container's record. */
export interface ContainerNetworkConfig {
  /** Docker's NetworkMode: bridge, none, host, container:<id>, or a user network's name. */
  mode: string;
  /** The networks joined (bridge modes): the mode's network, then `network connect`ed ones. */
  networks: string[];
  /** `--network-alias`, per network. */
  aliases: Record<string, string[]>;
  /** `--ip` on the first network. */
  ip?: string;
  ports: PortSpec[];
  publishAll: boolean;
  /** "80/tcp" keys: the image's ExposedPorts and --expose. */
  exposed: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** `--add-host NAME:IP`. */
  addHosts: string[];
}

/** The flags, before they are checked. */
export interface NetworkOptions {
  network?: string;
  networkAliases?: string[];
  ip?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  addHosts?: string[];
}

/** What the checks need to know of the store: its default mode, and a user network's name by name or id. */
export interface NetworkLookup {
  defaultMode: string;
  networkName: (nameOrId: string) => string;
}

const SPECIAL_MODES = new Set(['none', 'host', 'bridge', 'default']);

/** Check the flags and make the container's network config (`resolve` finds container:NAME's id). */
export function containerNetworkConfig(opts: NetworkOptions, imageExposed: readonly string[], resolve: (idOrName: string) => string, lookup: NetworkLookup): ContainerNetworkConfig {
  let mode = opts.network ?? lookup.defaultMode;
  if (mode === 'default') mode = 'bridge';
  const networks: string[] = [];
  if (mode.startsWith('container:')) {
    mode = `container:${resolve(mode.slice('container:'.length))}`;
  } else if (mode === 'bridge') {
    networks.push(DEFAULT_NETWORK);
  } else if (!SPECIAL_MODES.has(mode)) {
    networks.push(lookup.networkName(mode));
    mode = networks[0]!;
  }
  const bridged = networks.length > 0;
  const ports = (opts.publish ?? []).flatMap(parsePublish);
  if ((ports.length > 0 || opts.publishAll) && !bridged) {
    // Docker ignores them with a warning for host mode; for none and container: they cannot work.
    if (mode !== 'host') throw new UsageError(`conflicting options: port publishing and the container type network mode (${mode})`);
    process.stderr.write('WARNING: Published ports are discarded when using host network mode\n');
  }
  if ((opts.networkAliases?.length ?? 0) > 0 && (!bridged || mode === 'bridge')) {
    throw new UsageError('network-scoped aliases are only supported for user-defined networks');
  }
  if ((opts.dns?.length || opts.addHosts?.length) && mode.startsWith('container:')) {
    throw new UsageError('conflicting options: dns and the network mode container:');
  }
  for (const h of opts.addHosts ?? []) {
    const i = h.lastIndexOf(':');
    if (i <= 0) throw new UsageError(`invalid --add-host ${h}: want NAME:IP`);
    const ip = h.slice(i + 1);
    if (ip !== 'host-gateway') parseIp(ip);
  }
  for (const d of opts.dns ?? []) parseIp(d);
  if (opts.ip !== undefined) {
    if (!bridged || mode === 'bridge') throw new UsageError('user specified IP address is supported on user defined networks only');
    parseIp(opts.ip);
  }
  const exposed = [...new Set([...imageExposed, ...(opts.expose ?? []).flatMap(parseExpose), ...ports.map((p) => `${p.containerPort}/${p.proto}`)])];
  return {
    mode,
    networks,
    aliases: networks.length > 0 && mode !== 'bridge' ? { [networks[0]!]: opts.networkAliases ?? [] } : {},
    ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
    ports: bridged ? ports : [],
    publishAll: bridged && (opts.publishAll ?? false),
    exposed,
    dns: opts.dns ?? [],
    dnsSearch: opts.dnsSearch ?? [],
    dnsOptions: opts.dnsOptions ?? [],
    addHosts: opts.addHosts ?? [],
  };
}
