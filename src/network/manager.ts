/**
 * Networking for containers, one front over its concerns: networks (create/ls/inspect/rm/prune,
 * bridges.ts), and per container the check of its options at create (container-config.ts), what
 * its mode does to its spec and /etc files (container-spec.ts), and the bridge plumbing made at
 * start and undone at exit or removal (plumbing.ts). Docker's shapes for inspect are inspect.ts's.
 */
import { objectEvent } from '../events/emit.js';
import type { StorePaths } from '../store/paths.js';
import { type NetworkCreateOptions, createNetwork, deleteNetwork, pruneNetworks } from './bridges.js';
import type { NetworkConfig } from './config.js';
import {
  type ContainerNetworkConfig,
  type NetworkDecision,
  type LinkedContainer,
  type NetworkOptions,
  configuredMode,
  containerNetworkConfig,
} from './container-config.js';
import { type EtcFiles, type NetworkSpecNamespaces, type NetworkedContainer, adjustSpec, hostsBase, setUpWithoutBridge } from './container-spec.js';
import { inspectFields, inspectNetwork, networkSettings, publishedPorts } from './inspect.js';
import type { BridgeLeases, NetworkOrphan } from './leases.js';
import type { PortMapping } from './nft.js';
import { type NetworkState, NetworkPlumbing } from './plumbing.js';
import { DEFAULT_NETWORK, type NetworkRecord, type NetworkStore } from './store.js';

export type { NetworkCreateOptions } from './bridges.js';
export type { ContainerNetworkConfig, LinkedContainer, NetworkDecision, NetworkMode, NetworkOptions } from './container-config.js';
export type { ExtraHost } from './hosts.js';
export type { ExposedPort, PortSpec } from './ports.js';
export type { EtcFiles, NetworkSpecNamespaces, NetworkedContainer } from './container-spec.js';
export type { InterfaceState, NetworkState } from './plumbing.js';

export class Networking {
  private readonly plumbing: NetworkPlumbing;
  private readonly runRoot: string;

  constructor(paths: StorePaths) {
    this.plumbing = new NetworkPlumbing(paths);
    this.runRoot = paths.runRoot;
  }

  /** A network event (src/events/), Docker's attributes: the network's name and type, and the container for connect/disconnect. */
  private event(action: string, network: Pick<NetworkRecord, 'id' | 'name' | 'driver'>, container?: string): void {
    objectEvent(this.runRoot, 'network', action, network.id, { ...(container ? { container } : {}), name: network.name, type: network.driver });
  }

  get store(): NetworkStore {
    return this.plumbing.store;
  }

  get config(): NetworkConfig {
    return this.plumbing.config;
  }

  /** The host-wide leases of the bridges (shared with every store configured with the same state directory). */
  get leases(): BridgeLeases {
    return this.plumbing.leases;
  }

  /**
   * Leases whose container does not exist in its store (of every store sharing the state
   * directory), and stray temporary files of leases and network records; removed with `repair`.
   * For `hull system check`.
   */
  orphans(opts: { repair?: boolean } = {}): Promise<NetworkOrphan[]> {
    return this.plumbing.orphans(opts);
  }

  netnsPath(id: string): string {
    return this.plumbing.netnsPath(id);
  }

  readState(id: string): NetworkState | undefined {
    return this.plumbing.readState(id);
  }

  vethName(id: string, index: number): string {
    return this.plumbing.vethName(id, index);
  }

  // ---- create ---------------------------------------------------------------------------------

  /**
   * The container's network config from its options (a container: mode naming the other
   * container by its id), and Docker's warnings about them.
   */
  containerConfig(opts: NetworkOptions, imageExposed: readonly string[], links: readonly LinkedContainer[] = []): NetworkDecision {
    return containerNetworkConfig(
      opts,
      imageExposed,
      {
        defaultMode: configuredMode(this.config.defaultNetwork),
        networkName: (nameOrId) => this.store.get(nameOrId).name,
      },
      links,
    );
  }

  /** The spec's namespaces for the mode (host: the host's network namespace) and its hostname. */
  adjustSpec(cfg: ContainerNetworkConfig, spec: NetworkSpecNamespaces, hostnameGiven: boolean): void {
    adjustSpec(cfg, spec, hostnameGiven);
  }

  // ---- start / stop ---------------------------------------------------------------------------

  /**
   * Make the container's network before it is cloned: sets the network namespace's path in
   * `spec` (bridge and container: modes) and writes its /etc/hosts and /etc/resolv.conf.
   */
  async setUp(record: NetworkedContainer, spec: NetworkSpecNamespaces, etc: EtcFiles, resolve: (id: string) => NetworkedContainer | undefined): Promise<void> {
    const cfg = record.network;
    if (!cfg) return; // made before networking: a private namespace with lo only
    const base = hostsBase(cfg, spec.hostname ?? record.id.slice(0, 12), () => this.plumbing.defaultGateway());
    if (setUpWithoutBridge(cfg, spec, etc, base, { resolve, netnsFile: (id) => this.plumbing.netnsFile(id) })) return;
    await this.plumbing.setUp(record, cfg, spec, etc, base);
  }

  /** Whether setUp made something for the container that tearDown has not undone. */
  holds(id: string): boolean {
    return this.plumbing.holds(id);
  }

  /** Undo what setUp made (idempotent). */
  tearDown(id: string): Promise<void> {
    return this.plumbing.tearDown(id);
  }

  // ---- network verbs --------------------------------------------------------------------------

  async create(opts: NetworkCreateOptions): Promise<NetworkRecord> {
    const network = await createNetwork(this.plumbing, opts);
    this.event('create', network);
    return network;
  }

  /** Remove a user network (refused while a container uses it); the default one: only when unused. */
  async remove(nameOrId: string, opts: { includeDefault?: boolean } = {}): Promise<void> {
    let network: NetworkRecord | undefined;
    try {
      network = this.store.get(nameOrId);
    } catch {
      network = undefined; // deleteNetwork says it is not there
    }
    await deleteNetwork(this.plumbing, nameOrId, opts);
    if (network) this.event('destroy', network);
  }

  /** `network prune`: every user network no container uses; the default bridge stays. Returns the names removed. */
  async prune(keep?: (net: NetworkRecord) => boolean): Promise<string[]> {
    const before = new Map(this.list().map((n) => [n.name, n]));
    const names = await pruneNetworks(this.plumbing, keep);
    for (const name of names) {
      const network = before.get(name);
      if (network) this.event('destroy', network);
    }
    return names;
  }

  /** `network connect`: record it; a running container gets the interface now (at `ip`, when given). */
  async connect(record: NetworkedContainer, nameOrId: string, aliases: string[], save: () => Promise<void>, ip?: string): Promise<void> {
    await this.plumbing.connect(record, nameOrId, aliases, save, ip);
    this.event('connect', this.store.get(nameOrId), record.id);
  }

  async disconnect(record: NetworkedContainer, nameOrId: string, save: () => Promise<void>, force = false): Promise<void> {
    const network = this.store.get(nameOrId);
    if (force && !record.network?.networks.includes(network.name)) return;
    await this.plumbing.disconnect(record, nameOrId, save);
    this.event('disconnect', network, record.id);
  }

  /** Docker's `network inspect` shape. */
  inspect(nameOrId: string, containerName: (id: string) => string | undefined): Record<string, unknown> {
    return inspectNetwork(this.plumbing, nameOrId, containerName);
  }

  /** The networks `network ls` shows: the predefined ones (made on first use) and the user's. */
  list(): NetworkRecord[] {
    return this.store.list();
  }

  /** Whether a container holds an address on the network (what `rm` and `prune` judge by; `--filter dangling=`). */
  inUse(net: NetworkRecord): boolean {
    return this.plumbing.users(net).length > 0;
  }

  /** Docker's NetworkSettings for inspect. */
  settings(record: NetworkedContainer): Record<string, unknown> {
    return networkSettings(this.plumbing, record);
  }

  /** inspect's NetworkSettings, and HostConfig with NetworkMode, PortBindings, Dns, ExtraHosts. */
  inspectFields(record: NetworkedContainer, hostConfig: unknown): { NetworkSettings: Record<string, unknown>; HostConfig: Record<string, unknown> } {
    return inspectFields(this.plumbing, record, hostConfig);
  }

  /** `hull port`: the published ports of a running container. */
  ports(record: NetworkedContainer): PortMapping[] {
    return publishedPorts(this.plumbing, record);
  }

  /** Test and operator clean-up: the default network (when unused), its bridge (when no other store uses it) and, with no bridges left, the nft table. */
  async removeDefault(): Promise<void> {
    if (this.store.read(DEFAULT_NETWORK)) await this.remove(DEFAULT_NETWORK, { includeDefault: true });
  }
}

/** `hull system check`'s look at networking (see Networking.orphans): what it found, removed with `repair`. */
export function networkOrphans(paths: StorePaths, opts: { repair?: boolean } = {}): Promise<NetworkOrphan[]> {
  return new Networking(paths).orphans(opts);
}
