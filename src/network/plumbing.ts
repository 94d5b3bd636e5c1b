/**
 * The host side of a container's bridge networking: its network namespace, veths, leased
 * addresses, published ports and the peers' /etc/hosts entries, made before the container is
 * cloned and undone at its end; and `network connect`/`disconnect` of a running one.
 *
 * A bridge-mode container's network namespace is made by hull before the container is cloned,
 * bound to `<run root>/netns/<id>`, and joined by the container's first plan step (setns). So the
 * namespace, its veths, addresses and published ports exist once per start, whatever the monitor
 * does: a restart re-clones into the same namespace; `container:NAME` and `exec` join it too.
 * They go when the container ends: `finish` (foreground), the monitor's exit command `hull
 * network release ID` (detached), `stop`, `rm`.
 *
 * Bridges, their addresses and hull's nft table are host-wide: every store on the host (each
 * --root) that is configured with the same bridge shares it and its address pool (leases.ts), and
 * one store's changes to the table never take away another's bridges or ports (bridges.ts).
 *
 * Set-up, under the networks locks (the store's, then the host-wide one): leases → state file → one `unshare --net=FILE ip -batch -`
 * (veth made inside with its peer in hull's namespace, address, route) → the peer onto the bridge
 * and up (two ioctls, sys.bridgePortUp) → one `nft` transaction for published ports → /etc/hosts of peers.
 * Tear-down: ports, unmount of the namespace file (the kernel then deletes the veth pair with the
 * namespace), leases, hosts of peers, state file. Both are idempotent; a crashed start is undone by
 * the next start or by `rm`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, UsageError } from '../errors.js';
import { readText } from '../files.js';
import { sys } from '../native/index.js';
import { trace } from '../trace.js';
import type { StorePaths } from '../store/paths.js';
import { defaultNetworkRecord, ensureBridge, linkExists } from './bridges.js';
import { ipBatch, ipBatchInNetns, ipBatchInNewNetns } from './commands.js';
import { type NetworkConfig, loadNetworkConfig } from './config.js';
import type { ContainerNetworkConfig } from './container-config.js';
import { type EtcFiles, type NetworkSpecNamespaces, type NetworkedContainer, setNetnsPath, writeEtc } from './container-spec.js';
import { type HostsInput, type Peer, hostsHead, withPeers } from './hosts.js';
import { formatIp, parseCidr } from './ipv4.js';
import { BridgeLeases, type Lease, type LeaseOwner, type NetworkOrphan } from './leases.js';
import { type PortMapping, publish, unpublish } from './nft.js';
import { type PortSpec, publishAllSpecs } from './ports.js';
import { DEFAULT_NETWORK, type NetworkRecord, NetworkStore } from './store.js';
import { removeFile } from '../files.js';

export interface InterfaceState {
  network: string;
  networkId: string;
  /** Inside the container (eth0, eth1, …) and the host end. */
  ifname: string;
  veth: string;
  ip: string;
  prefix: number;
  gateway: string;
  bridge: string;
}

/** What a start made (`<container dir>/network.json`): what tear-down undoes. */
export interface NetworkState {
  netns: string;
  interfaces: InterfaceState[];
  ports: PortMapping[];
  /** `--link`s (by the linked container's id): their names in this container's /etc/hosts. */
  links?: { container: string; alias: string }[];
}

const MNT_DETACH = 2;

export class NetworkPlumbing {
  readonly store: NetworkStore;
  private cfg: NetworkConfig | undefined;
  private hostLeases: BridgeLeases | undefined;

  constructor(readonly paths: StorePaths) {
    this.store = new NetworkStore(paths.root, paths.containers);
  }

  get config(): NetworkConfig {
    this.cfg ??= loadNetworkConfig(this.paths.root);
    return this.cfg;
  }

  /** The host-wide leases of the bridges (shared with every store configured with the same state directory). */
  get leases(): BridgeLeases {
    this.hostLeases ??= new BridgeLeases(this.config.stateDir);
    return this.hostLeases;
  }

  /** The store's networks lock, then the host-wide one of bridges, leases and the nft table (always in this order). */
  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.store.withLock(() => this.leases.withLock(fn));
  }

  private owner(record: { id: string; name: string }, network: string, aliases: string[]): LeaseOwner {
    return { store: this.paths.containers, network, container: record.id, name: record.name, aliases };
  }

  /** This store's leases on a network's bridge. */
  ownLeases(net: NetworkRecord): Lease[] {
    return this.leases.leases(net.bridge).filter((l) => l.store === this.paths.containers && l.network === net.name);
  }

  /** This store's containers on a network (their leases; one whose container is gone does not count). */
  users(net: NetworkRecord): Lease[] {
    return this.ownLeases(net).filter((l) => existsSync(path.join(l.store, l.container)));
  }

  /** An older hull's leases of the network, kept in the store, move to the bridge's (once: a container started before an upgrade keeps its address). */
  moveLegacyLeases(net: NetworkRecord): void {
    for (const old of this.store.takeLegacyLeases(net.name)) {
      try {
        this.leases.allocate(net, this.owner({ id: old.container, name: old.name }, net.name, old.aliases), old.ip);
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof UsageError)) throw err; // taken meanwhile, or no longer in the subnet: nothing to keep
      }
    }
  }

  /**
   * Leases whose container does not exist in its store (of every store sharing the state
   * directory), and stray temporary files of leases and network records; removed with `repair`.
   * For `hull system check`.
   */
  async orphans(opts: { repair?: boolean } = {}): Promise<NetworkOrphan[]> {
    const repair = opts.repair ?? false;
    return this.withLock(() => [...this.leases.orphans(repair), ...this.store.orphans(repair)]);
  }

  netnsPath(id: string): string {
    return path.join(this.paths.runRoot, 'netns', id);
  }

  private statePath(id: string): string {
    return path.join(this.paths.containers, id, 'network.json');
  }

  readState(id: string): NetworkState | undefined {
    const text = readText(this.statePath(id));
    return text === undefined ? undefined : (JSON.parse(text) as NetworkState);
  }

  /** A container's namespace file, when set-up made one and has not been undone (another container may join it). */
  netnsFile(id: string): string | undefined {
    return existsSync(this.netnsPath(id)) && this.readState(id) ? this.netnsPath(id) : undefined;
  }

  /** Whether setUp made something for the container that tearDown has not undone. */
  holds(id: string): boolean {
    return existsSync(this.statePath(id)) || existsSync(this.netnsPath(id));
  }

  vethName(id: string, index: number): string {
    return `${this.config.ifPrefix}${id.slice(0, 8)}${index}`;
  }

  /** The container's `index`th interface (eth<index>), on `net` with address `ip`. */
  private interfaceOn(net: NetworkRecord, id: string, index: number, ip: string): InterfaceState {
    return {
      network: net.name,
      networkId: net.id,
      ifname: `eth${index}`,
      veth: this.vethName(id, index),
      ip,
      prefix: parseCidr(net.subnet).prefix,
      gateway: net.gateway,
      bridge: net.bridge,
    };
  }

  /** The default bridge's address (`--add-host NAME:host-gateway`). */
  defaultGateway(): string {
    return formatIp(parseCidr(this.config.subnet).network + 1);
  }

  // ---- start / stop ---------------------------------------------------------------------------

  /**
   * A bridge-mode container's network before it is cloned: the namespace and its interfaces, the
   * published ports, the namespace's path in `spec`, its /etc/hosts and /etc/resolv.conf.
   */
  async setUp(record: NetworkedContainer, cfg: ContainerNetworkConfig, spec: NetworkSpecNamespaces, etc: EtcFiles, base: HostsInput): Promise<void> {
    await this.withLock(async () => {
      trace('network lock taken');
      if (existsSync(this.statePath(record.id)) || existsSync(this.netnsPath(record.id))) await this.tearDownLocked(record.id);
      const nets = cfg.networks.map((n) => (n === DEFAULT_NETWORK ? defaultNetworkRecord(this) : this.store.get(n)));
      for (const net of nets) {
        ensureBridge(this, net);
        this.moveLegacyLeases(net);
      }
      const netns = this.netnsPath(record.id);
      const state: NetworkState = {
        netns,
        interfaces: [],
        ports: [],
        ...(cfg.links?.length ? { links: cfg.links.map((l) => ({ container: l.id, alias: l.alias })) } : {}),
      };
      if (cfg.links?.length && cfg.networks.includes(DEFAULT_NETWORK)) this.checkLegacyLinks(record, cfg);
      const statePath = this.statePath(record.id);
      try {
        nets.forEach((net, i) => {
          const aliases = net.isDefault ? [] : (cfg.aliases[net.name] ?? []);
          const ip = this.leases.allocate(net, this.owner(record, net.name, aliases), i === 0 && cfg.ip !== undefined ? cfg.ip : cfg.ips?.[net.name]);
          state.interfaces.push(this.interfaceOn(net, record.id, i, ip));
        });
        writeFileSync(statePath, JSON.stringify(state) + '\n'); // before anything is made: tear-down's list
        mkdirSync(path.dirname(netns), { recursive: true });
        writeFileSync(netns, '');
        const inside: string[] = ['link set lo up'];
        for (const [i, it] of state.interfaces.entries()) {
          const mac = i === 0 && cfg.macAddress !== undefined ? ` address ${cfg.macAddress}` : ''; // --mac-address: the first network's
          inside.push(
            `link add ${it.ifname}${mac} type veth peer name ${it.veth} netns ${process.pid}`,
            `addr add ${it.ip}/${it.prefix} dev ${it.ifname}`,
            `link set ${it.ifname} up`,
          );
        }
        if (state.interfaces[0]) inside.push(`route add default via ${state.interfaces[0].gateway}`);
        trace('leases taken');
        ipBatchInNewNetns(netns, inside, `network namespace of ${record.name}`);
        trace('netns made (unshare + ip)');
        for (const it of state.interfaces) sys.bridgePortUp(it.bridge, it.veth); // two ioctls: no `ip` process here
        trace('veths on the bridge (ip)');
        setNetnsPath(spec, netns);
        const first = state.interfaces[0];
        const specs = [...cfg.ports, ...(cfg.publishAll ? publishAllSpecs(cfg.exposed) : [])];
        if (first && specs.length > 0) {
          state.ports = this.publishPorts(specs, first.ip);
          writeFileSync(statePath, JSON.stringify(state) + '\n');
        }
      } catch (err) {
        await this.tearDownLocked(record.id, state);
        throw err;
      }
      const own = state.interfaces.map((it) => it.ip);
      writeEtc(etc, hostsHead({ ...base, ips: own }), cfg);
      if (nets.some((n) => !n.isDefault) || state.links)
        this.refreshHosts(
          new Set([record.id]),
          state.interfaces.map((it) => it.network),
        );
    });
  }

  /** A container's `--link`s as its state file has them (none when it cannot be read: a crash's half-written file must not fail another's start). */
  private linksOf(id: string): { container: string; alias: string }[] {
    try {
      return this.readState(id)?.links ?? [];
    } catch {
      return [];
    }
  }

  /**
   * Docker's legacy links on the default network: the linked container must be running there
   * (it has an address on it) when this one starts.
   */
  private checkLegacyLinks(record: NetworkedContainer, cfg: ContainerNetworkConfig): void {
    const onDefault = this.ownLeases(defaultNetworkRecord(this));
    for (const link of cfg.links ?? []) {
      if (!onDefault.some((l) => l.container === link.id)) {
        throw new ConflictError(`Cannot link to a non running container: /${link.name} AS /${record.name}/${link.alias}`);
      }
    }
  }

  private publishPorts(specs: PortSpec[], containerIp: string): PortMapping[] {
    const fixed = specs.filter((s) => s.hostPort !== 0).map((s) => ({ ...s, containerIp }));
    const out: PortMapping[] = [...fixed];
    publish(this.config.nftTable, fixed);
    for (const s of specs.filter((p) => p.hostPort === 0)) {
      // An ephemeral host port (Docker's range); another hull's mapping of it makes nft refuse, so try another.
      for (let attempt = 0; ; attempt++) {
        const m: PortMapping = { ...s, hostPort: 32768 + (randomBytes(2).readUInt16LE() % (60999 - 32768)), containerIp };
        try {
          publish(this.config.nftTable, [m]);
          out.push(m);
          break;
        } catch (err) {
          if (attempt > 8) {
            unpublish(this.config.nftTable, out);
            throw err;
          }
        }
      }
    }
    return out;
  }

  /** Undo what setUp made (idempotent). */
  async tearDown(id: string): Promise<void> {
    if (!this.holds(id)) return;
    await this.withLock(() => this.tearDownLocked(id));
  }

  private async tearDownLocked(id: string, known?: NetworkState): Promise<void> {
    const state = known ?? this.readState(id);
    if (state) unpublish(this.config.nftTable, state.ports);
    trace('network: ports withdrawn');
    releaseNetns(this.netnsPath(id));
    trace('network: namespace unmounted');
    if (!state) return;
    for (const it of state.interfaces) this.leases.release(it.bridge, it.ip, this.paths.containers, id);
    removeFile(this.statePath(id));
    const user = state.interfaces.map((it) => it.network).filter((n) => n !== DEFAULT_NETWORK);
    if (user.length > 0) this.refreshHosts(new Set(), user);
  }

  /**
   * Rewrite the peers' part of /etc/hosts of every container on `networks` (user networks only:
   * the default network has no name resolution, as Docker's) and of `also`.
   */
  private refreshHosts(also: Set<string>, networks: string[]): void {
    const user = this.store.list().filter((n) => !n.isDefault);
    const leases = new Map(user.map((n) => [n.name, this.ownLeases(n)]));
    let onDefault: Lease[] | undefined;
    const touched = new Set(also);
    for (const n of networks) for (const l of leases.get(n) ?? []) touched.add(l.container);
    for (const id of touched) {
      const file = path.join(this.paths.runContainers, id, 'hosts');
      const current = readText(file);
      if (current === undefined) continue;
      const peers: Peer[] = [];
      const links = this.linksOf(id);
      const linkedAs = (container: string): string[] => links.filter((k) => k.container === container).map((k) => k.alias);
      for (const [, list] of leases) {
        if (!list.some((l) => l.container === id)) continue;
        for (const l of list) {
          if (l.container === id) continue;
          // A link's alias is this container's name for the other one (Docker: resolvable from the linking container only).
          peers.push({ ip: l.ip, names: [...new Set([l.name, ...l.aliases, ...linkedAs(l.container), l.container.slice(0, 12)])] });
        }
      }
      if (links.length > 0) {
        // The default network has no names, only legacy links' entries (alias, short id, name: Docker's order).
        onDefault ??= this.ownLeases(defaultNetworkRecord(this));
        if (onDefault.some((l) => l.container === id)) {
          for (const l of onDefault) {
            const aliases = linkedAs(l.container);
            if (aliases.length > 0) peers.push({ ip: l.ip, names: [...new Set([...aliases, l.container.slice(0, 12), l.name])] });
          }
        }
      }
      const next = withPeers(current, peers);
      if (next !== current) writeFileSync(file, next); // in place (O_TRUNC): the container has it bind-mounted
    }
  }

  // ---- connect / disconnect -------------------------------------------------------------------

  /** `network connect`: record it; a running container gets the interface now. */
  async connect(record: NetworkedContainer, nameOrId: string, aliases: string[], save: () => Promise<void>, ip?: string): Promise<void> {
    const cfg = record.network;
    // A bridged container stays one with its last network disconnected (its mode names that network, as Docker's NetworkMode does): docker-compose
    // disconnects a created container from its network and connects it again with the aliases it wants.
    if (!cfg || cfg.mode === 'none' || cfg.mode === 'host' || cfg.mode.startsWith('container:'))
      throw new ConflictError(`container ${record.name} is not on a bridge network (network mode ${cfg?.mode ?? 'none'})`);
    const net = this.store.get(nameOrId);
    if (cfg.networks.includes(net.name)) throw new ConflictError(`endpoint with name ${record.name} already exists in network ${net.name}`);
    await this.withLock(async () => {
      // The address is checked now (in the subnet, not the gateway), and taken when the interface is made.
      if (ip !== undefined) this.leases.checkWanted(net, ip);
      cfg.networks.push(net.name);
      cfg.aliases[net.name] = aliases;
      if (ip !== undefined) cfg.ips = { ...cfg.ips, [net.name]: ip };
      const state = this.readState(record.id);
      if (state && record.state.status === 'running') {
        ensureBridge(this, net);
        this.moveLegacyLeases(net);
        const index = Math.max(-1, ...state.interfaces.map((it) => Number(it.ifname.slice(3)))) + 1;
        const addr = this.leases.allocate(net, this.owner(record, net.name, aliases), ip);
        const it = this.interfaceOn(net, record.id, index, addr);
        state.interfaces.push(it);
        writeFileSync(this.statePath(record.id), JSON.stringify(state) + '\n');
        ipBatch(
          [`link add ${it.veth} type veth peer name ${it.ifname} netns ${state.netns}`, `link set ${it.veth} master ${it.bridge} up`],
          `connect ${record.name} to ${net.name}`,
        );
        ipBatchInNetns(state.netns, [`addr add ${addr}/${it.prefix} dev ${it.ifname}`, `link set ${it.ifname} up`], `connect ${record.name} to ${net.name}`);
        this.refreshHosts(new Set([record.id]), [net.name]);
      }
      await save();
    });
  }

  async disconnect(record: NetworkedContainer, nameOrId: string, save: () => Promise<void>): Promise<void> {
    const cfg = record.network;
    const net = this.store.get(nameOrId);
    if (!cfg || !cfg.networks.includes(net.name)) throw new ConflictError(`container ${record.name} is not connected to network ${net.name}`);
    await this.withLock(async () => {
      cfg.networks = cfg.networks.filter((n) => n !== net.name);
      cfg.aliases = Object.fromEntries(Object.entries(cfg.aliases).filter(([n]) => n !== net.name));
      if (cfg.ips) cfg.ips = Object.fromEntries(Object.entries(cfg.ips).filter(([n]) => n !== net.name));
      // `--ip` was the first network's; the mode moves to the next network (none left: it stays, and a connect brings one back).
      if (cfg.mode === net.name) {
        delete cfg.ip;
        if (cfg.networks[0] !== undefined) cfg.mode = cfg.networks[0];
      }
      const state = this.readState(record.id);
      const it = state?.interfaces.find((i) => i.network === net.name);
      if (state && it) {
        if (linkExists(it.veth)) ipBatch([`link del ${it.veth}`], `disconnect ${record.name} from ${net.name}`);
        this.leases.release(it.bridge, it.ip, this.paths.containers, record.id);
        state.interfaces = state.interfaces.filter((i) => i !== it);
        writeFileSync(this.statePath(record.id), JSON.stringify(state) + '\n');
        this.refreshHosts(new Set([record.id]), [net.name]);
      }
      await save();
    });
  }
}

/** Unmount and remove a namespace file; the kernel frees the namespace (and its veths) once unused. */
function releaseNetns(file: string): void {
  try {
    sys.umount2(file, MNT_DETACH);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
  removeFile(file);
}
