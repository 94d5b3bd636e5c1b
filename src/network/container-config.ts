/**
 * A container's network, as `create` decides it: the typed options (their values checked by
 * validateCreateOptions) put together with the mode's rules (Docker's conflicts and messages) into
 * the ContainerNetworkConfig kept in its record. Nothing on the host is touched here.
 */
import { UsageError } from '../errors.js';
import type { ExtraHost } from './hosts.js';
import { type ExposedPort, type PortSpec, portKey } from './ports.js';
import { DEFAULT_NETWORK } from './store.js';

/**
 * Docker's NetworkMode, typed: the default bridge network, none (lo only), the host's namespace,
 * another container's namespace (by id or name), or a user network (by name or id).
 */
export type NetworkMode =
  { mode: 'bridge' } | { mode: 'none' } | { mode: 'host' } | { mode: 'container'; container: string } | { mode: 'network'; network: string };

/** A container's network options (Docker's HostConfig network fields and NetworkingConfig), typed. */
export interface NetworkOptions {
  /** Default: the store's configured mode (the default bridge network unless configured otherwise). */
  network?: NetworkMode;
  /** More names of the container on its user network (`--network-alias`). */
  networkAliases?: string[];
  /** The container's IPv4 address on its user network (`--ip`). */
  ip?: string;
  /** Published ports (`-p`): bridge modes only; discarded with a warning under host. */
  ports?: PortSpec[];
  /** Publish every exposed port on an ephemeral host port (`-P`). */
  publishAll?: boolean;
  /** Exposed ports (`--expose`), with the image's ExposedPorts. */
  exposed?: ExposedPort[];
  /** IPv4 name servers, search domains and resolv.conf options (`--dns`, `--dns-search`, `--dns-option`). */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** More /etc/hosts entries (`--add-host`). */
  extraHosts?: ExtraHost[];
  /** The MAC address of the container's interface on its (first) bridge network (`--mac-address`). */
  macAddress?: string;
  /** `--link`: other containers (by name or id; create resolves them to `LinkedContainer`s) and the names they have in this one. */
  links?: { container: string; alias: string }[];
}

/** A `--link`ed container: its id and name when linked, and its name here (resolvable only in the linking container). */
export interface LinkedContainer {
  id: string;
  name: string;
  alias: string;
}

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
  /** The addresses asked for on `network connect`ed networks (`--ip` of connect), by network name. */
  ips?: Record<string, string>;
  /** `--mac-address` of the interface on the first network. */
  macAddress?: string;
  ports: PortSpec[];
  publishAll: boolean;
  /** "80/tcp" keys: the image's ExposedPorts and --expose. */
  exposed: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** `--add-host` entries (absent in records of older hulls, which kept `addHosts`). */
  extraHosts?: ExtraHost[];
  /** Older hulls' `--add-host NAME:IP` texts. */
  addHosts?: string[];
  /** `--link`s (absent: none). */
  links?: LinkedContainer[];
}

/** What the checks need of the store: its configured default mode, and a user network's name by name or id. */
export interface NetworkLookup {
  defaultMode: NetworkMode;
  networkName: (nameOrId: string) => string;
}

/** The config and the warnings of Docker's (a published port discarded under host). */
export interface NetworkDecision {
  config: ContainerNetworkConfig;
  warnings: string[];
}

/** The configured default mode (network.json's defaultNetwork: bridge, none, host or a user network's name). */
export function configuredMode(text: string): NetworkMode {
  if (text === 'bridge' || text === 'default') return { mode: 'bridge' };
  if (text === 'none' || text === 'host') return { mode: text };
  return { mode: 'network', network: text };
}

/** A container's network config from its options; a container: mode names the other container by its id. */
export function containerNetworkConfig(
  opts: NetworkOptions,
  imageExposed: readonly string[],
  lookup: NetworkLookup,
  links: readonly LinkedContainer[] = [],
): NetworkDecision {
  const requested = opts.network ?? lookup.defaultMode;
  const warnings: string[] = [];
  const networks: string[] = [];
  let mode: string;
  switch (requested.mode) {
    case 'container':
      mode = `container:${requested.container}`;
      break;
    case 'bridge':
      mode = 'bridge';
      networks.push(DEFAULT_NETWORK);
      break;
    case 'network':
      networks.push(lookup.networkName(requested.network));
      mode = networks[0]!;
      break;
    default:
      mode = requested.mode;
  }
  const bridged = networks.length > 0;
  const ports = opts.ports ?? [];
  if ((ports.length > 0 || opts.publishAll) && !bridged) {
    // Docker ignores them with a warning for host mode; for none and container: they cannot work.
    if (mode !== 'host') throw new UsageError(`conflicting options: port publishing and the container type network mode (${mode})`);
    warnings.push('Published ports are discarded when using host network mode');
  }
  if ((opts.networkAliases?.length ?? 0) > 0 && (!bridged || mode === 'bridge')) {
    throw new UsageError('network-scoped aliases are only supported for user-defined networks');
  }
  if ((opts.dns?.length || opts.extraHosts?.length) && requested.mode === 'container') {
    throw new UsageError('conflicting options: dns and the network mode container:');
  }
  if (opts.macAddress !== undefined) {
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(opts.macAddress)) throw new UsageError(`${opts.macAddress} is not a valid mac address`);
    // A multicast address (the low bit of the first byte) cannot be an interface's, as the kernel says.
    if (parseInt(opts.macAddress.slice(0, 2), 16) & 1) throw new UsageError(`${opts.macAddress} is not a valid mac address: it is a multicast address`);
    if (!bridged) throw new UsageError('conflicting options: mac-address and the network mode');
  }
  if (links.length > 0 && !bridged) {
    // Docker's words for host and container: modes; none has no network for a link to be on either.
    if (mode === 'host') throw new UsageError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    if (requested.mode === 'container')
      throw new UsageError("conflicting options: container type network can't be used with links. This would result in undefined behavior");
    throw new UsageError(`conflicting options: --link and the network mode ${mode}`);
  }
  if (opts.ip !== undefined && (!bridged || mode === 'bridge')) throw new UsageError('user specified IP address is supported on user defined networks only');
  const exposed = [
    ...new Set([...imageExposed, ...(opts.exposed ?? []).map(portKey), ...ports.map((p) => portKey({ port: p.containerPort, proto: p.proto }))]),
  ];
  const config: ContainerNetworkConfig = {
    mode,
    networks,
    aliases: networks.length > 0 && mode !== 'bridge' ? { [networks[0]!]: opts.networkAliases ?? [] } : {},
    ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
    ...(opts.macAddress !== undefined ? { macAddress: opts.macAddress.toLowerCase() } : {}),
    ports: bridged ? ports.map((p) => ({ ...p })) : [],
    publishAll: bridged && (opts.publishAll ?? false),
    exposed,
    dns: opts.dns ?? [],
    dnsSearch: opts.dnsSearch ?? [],
    dnsOptions: opts.dnsOptions ?? [],
    extraHosts: (opts.extraHosts ?? []).map((h) => ({ host: h.host, ip: h.ip })),
    ...(links.length > 0 ? { links: links.map((l) => ({ ...l })) } : {}),
  };
  return { config, warnings };
}

/** A record's `--add-host` entries (older hulls kept them as NAME:IP texts). */
export function recordExtraHosts(cfg: ContainerNetworkConfig): ExtraHost[] {
  if (cfg.extraHosts) return cfg.extraHosts;
  return (cfg.addHosts ?? []).map((h) => ({ host: h.slice(0, h.lastIndexOf(':')), ip: h.slice(h.lastIndexOf(':') + 1) }));
}
