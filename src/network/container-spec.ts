/**
 * What a container's network mode does to its runtime spec and its generated /etc files: the
 * network namespace (new, the host's, or another container's, joined by path), the hostname under
 * `--network host`, /etc/hosts (its names, `--add-host`, its addresses) and /etc/resolv.conf
 * (`--dns*` over the host's). The bridge plumbing that makes a namespace is plumbing.ts's.
 */
import { writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { readText } from '../files.js';
import { type ContainerNetworkConfig, recordExtraHosts } from './container-config.js';
import { type HostsInput, hostsHead, resolvConf } from './hosts.js';

/** The container's generated files in its run directory (bind-mounted over the image's). */
export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** The parts of a runtime spec the network mode changes. */
export interface NetworkSpecNamespaces {
  linux: { namespaces: { type: string; path?: string }[] };
  hostname?: string;
}

/** The parts of a container record networking reads. */
export interface NetworkedContainer {
  id: string;
  name: string;
  network?: ContainerNetworkConfig;
  state: { status: string; pid?: number };
}

/** The spec's namespaces for the mode (host: the host's network namespace) and its hostname. */
export function adjustSpec(cfg: ContainerNetworkConfig, spec: NetworkSpecNamespaces, hostnameGiven: boolean): void {
  if (cfg.mode === 'host') {
    spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
    if (!hostnameGiven) spec.hostname = osHostname();
  }
}

/** The spec's network namespace joined by path (made by hull, or another container's). */
export function setNetnsPath(spec: NetworkSpecNamespaces, file: string): void {
  const ns = spec.linux.namespaces.find((n) => n.type === 'network');
  if (ns) ns.path = file;
  else spec.linux.namespaces.push({ type: 'network', path: file });
}

/** /etc/hosts's input before any address is known: the hostname and `--add-host` (host-gateway: the default bridge's address). */
export function hostsBase(cfg: ContainerNetworkConfig, hostname: string, defaultGateway: () => string): HostsInput {
  const extra = recordExtraHosts(cfg).map((h) => (h.ip === 'host-gateway' ? { host: h.host, ip: defaultGateway() } : h));
  return { hostname, ips: [], extra };
}

/** A container's own /etc/hosts and /etc/resolv.conf (its own namespace). */
export function writeEtc(etc: EtcFiles, hosts: string, cfg: ContainerNetworkConfig): void {
  writeFileSync(etc.hosts, hosts);
  writeFileSync(etc.resolvConf, resolvConfOf(cfg, true));
}

/** resolv.conf: the host's, with `--dns*` over it (and loopback servers dropped in a namespace of its own). */
export function resolvConfOf(cfg: ContainerNetworkConfig, ownNamespace: boolean): string {
  const host = readText('/etc/resolv.conf') ?? '';
  if (!ownNamespace && cfg.dns.length === 0 && cfg.dnsSearch.length === 0 && cfg.dnsOptions.length === 0) return host;
  return resolvConf(host, { dns: cfg.dns, search: cfg.dnsSearch, options: cfg.dnsOptions });
}

/** How to find another container's network: its namespace file when hull made one, with its record. */
export interface PeerNetworks {
  resolve: (id: string) => NetworkedContainer | undefined;
  /** Its namespace file, when hull's bridge plumbing made one that is still set up. */
  netnsFile: (id: string) => string | undefined;
}

/**
 * The modes that need no bridge: none (a namespace with lo only), host (the host's namespace and
 * files), container:<id> (its namespace and files). Writes the /etc files and sets the namespace;
 * false for the bridge modes, which plumbing.ts sets up.
 */
export function setUpWithoutBridge(cfg: ContainerNetworkConfig, spec: NetworkSpecNamespaces, etc: EtcFiles, base: HostsInput, peers: PeerNetworks): boolean {
  if (cfg.mode === 'none') {
    writeEtc(etc, hostsHead(base), cfg);
    return true;
  }
  if (cfg.mode === 'host') {
    writeFileSync(etc.hosts, readText('/etc/hosts') ?? hostsHead(base));
    writeFileSync(etc.resolvConf, resolvConfOf(cfg, false));
    return true;
  }
  if (!cfg.mode.startsWith('container:')) return false;
  const otherId = cfg.mode.slice('container:'.length);
  const other = peers.resolve(otherId);
  const live = other !== undefined && (other.state.status === 'running' || other.state.status === 'restarting');
  // Its namespace file (bridge modes; it outlives a restart), or its process's namespace.
  const file = live ? peers.netnsFile(otherId) : undefined;
  if (!file && (other?.state.status !== 'running' || other.state.pid === undefined)) {
    throw new ConflictError(`cannot join network of a non running container: ${otherId}`);
  }
  setNetnsPath(spec, file ?? `/proc/${other!.state.pid}/ns/net`);
  const otherRun = path.join(path.dirname(etc.hosts), '..', otherId);
  for (const f of ['hosts', 'resolv.conf'] as const) {
    const text = readText(path.join(otherRun, f));
    if (text !== undefined) writeFileSync(f === 'hosts' ? etc.hosts : etc.resolvConf, text);
  }
  return true;
}
