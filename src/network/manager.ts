/**
 * Networking for containers: networks (create/ls/inspect/rm/connect/disconnect), and per
 * container the set-up at start and the tear-down at exit or removal.
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
 * one store's changes to the table never take away another's bridges or ports.
 *
 * Set-up, under the networks locks (the store's, then the host-wide one): leases → state file → one `unshare --net=FILE ip -batch -`
 * (veth made inside with its peer in hull's namespace, address, route) → the peer onto the bridge
 * and up (two ioctls, sys.bridgePortUp) → one `nft` transaction for published ports → /etc/hosts of peers.
 * Tear-down: ports, unmount of the namespace file (the kernel then deletes the veth pair with the
 * namespace), leases, hosts of peers, state file. Both are idempotent; a crashed start is undone by
 * the next start or by `rm`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { ConflictError, UsageError } from '../errors.js';
import { readText } from '../files.js';
import { sys } from '../native/index.js';
import { trace } from '../trace.js';
import type { StorePaths } from '../store/paths.js';
import { validateNetworkName } from '../runtime/validate.js';
import { ipBatch, ipBatchInNetns, ipBatchInNewNetns } from './commands.js';
import { type NetworkConfig, loadNetworkConfig } from './config.js';
import { type Peer, hostsHead, resolvConf, withPeers } from './hosts.js';
import { type Cidr, contains, formatIp, overlaps, parseCidr, parseIp, pickSubnet } from './ipv4.js';
import { BridgeLeases, type Lease, type LeaseOwner, type NetworkOrphan } from './leases.js';
import { type PortMapping, addNetwork, publish, removeNetwork, tableBridges, unpublish } from './nft.js';
import { type PortSpec, parseExpose, parsePublish, publishAllSpecs } from './ports.js';
import { DEFAULT_NETWORK, type NetworkRecord, NetworkStore } from './store.js';

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
}

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** The parts of a container record networking reads. */
export interface NetworkedContainer {
  id: string;
  name: string;
  network?: ContainerNetworkConfig;
  state: { status: string; pid?: number };
}

export interface NetworkSpecNamespaces {
  linux: { namespaces: { type: string; path?: string }[] };
  hostname?: string;
}

const SPECIAL_MODES = new Set(['none', 'host', 'bridge', 'default']);
const MNT_DETACH = 2;

export class Networking {
  readonly store: NetworkStore;
  private cfg: NetworkConfig | undefined;
  private hostLeases: BridgeLeases | undefined;

  constructor(private readonly paths: StorePaths) {
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
  private withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.store.withLock(() => this.leases.withLock(fn));
  }

  private owner(record: { id: string; name: string }, network: string, aliases: string[]): LeaseOwner {
    return { store: this.paths.containers, network, container: record.id, name: record.name, aliases };
  }

  /** This store's leases on a network's bridge. */
  private ownLeases(net: NetworkRecord): Lease[] {
    return this.leases.leases(net.bridge).filter((l) => l.store === this.paths.containers && l.network === net.name);
  }

  /** This store's containers on a network (their leases; one whose container is gone does not count). */
  private users(net: NetworkRecord): Lease[] {
    return this.ownLeases(net).filter((l) => existsSync(path.join(l.store, l.container)));
  }

  /** An older hull's leases of the network, kept in the store, move to the bridge's (once: a container started before an upgrade keeps its address). */
  private moveLegacyLeases(net: NetworkRecord): void {
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

  // ---- create ---------------------------------------------------------------------------------

  /** Check the flags and make the container's network config (`resolve` finds container:NAME's id). */
  containerConfig(opts: NetworkOptions, imageExposed: readonly string[], resolve: (idOrName: string) => string): ContainerNetworkConfig {
    let mode = opts.network ?? this.config.defaultNetwork;
    if (mode === 'default') mode = 'bridge';
    const networks: string[] = [];
    if (mode.startsWith('container:')) {
      mode = `container:${resolve(mode.slice('container:'.length))}`;
    } else if (mode === 'bridge') {
      networks.push(DEFAULT_NETWORK);
    } else if (!SPECIAL_MODES.has(mode)) {
      networks.push(this.store.get(mode).name);
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

  /** The spec's namespaces for the mode (host: the host's network namespace) and its hostname. */
  adjustSpec(cfg: ContainerNetworkConfig, spec: NetworkSpecNamespaces, hostnameGiven: boolean): void {
    if (cfg.mode === 'host') {
      spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
      if (!hostnameGiven) spec.hostname = osHostname();
    }
  }

  // ---- start / stop ---------------------------------------------------------------------------

  /**
   * Make the container's network before it is cloned: sets the network namespace's path in
   * `spec` (bridge and container: modes) and writes its /etc/hosts and /etc/resolv.conf.
   */
  async setUp(record: NetworkedContainer, spec: NetworkSpecNamespaces, etc: EtcFiles, resolve: (id: string) => NetworkedContainer | undefined): Promise<void> {
    const cfg = record.network;
    if (!cfg) return; // made before networking: a private namespace with lo only
    const hostname = spec.hostname ?? record.id.slice(0, 12);
    const base = { hostname, ips: [] as string[], extra: this.extraHosts(cfg) };
    if (cfg.mode === 'none') {
      this.writeEtc(etc, hostsHead(base), cfg);
      return;
    }
    if (cfg.mode === 'host') {
      writeFileSync(etc.hosts, readText('/etc/hosts') ?? hostsHead(base));
      writeFileSync(etc.resolvConf, resolvConfOf(cfg, false));
      return;
    }
    if (cfg.mode.startsWith('container:')) {
      const otherId = cfg.mode.slice('container:'.length);
      const other = resolve(otherId);
      const live = other !== undefined && (other.state.status === 'running' || other.state.status === 'restarting');
      // Its namespace file (bridge modes; it outlives a restart), or its process's namespace.
      const file = live && existsSync(this.netnsPath(otherId)) && this.readState(otherId) ? this.netnsPath(otherId) : undefined;
      if (!file && (other?.state.status !== 'running' || other.state.pid === undefined)) {
        throw new ConflictError(`cannot join network of a non running container: ${otherId}`);
      }
      const ns = file ?? `/proc/${other!.state.pid}/ns/net`;
      setNetnsPath(spec, ns);
      const otherRun = path.join(path.dirname(etc.hosts), '..', otherId);
      for (const f of ['hosts', 'resolv.conf'] as const) {
        const text = readText(path.join(otherRun, f));
        if (text !== undefined) writeFileSync(f === 'hosts' ? etc.hosts : etc.resolvConf, text);
      }
      return;
    }
    await this.withLock(async () => {
      trace('network lock taken');
      if (existsSync(this.statePath(record.id)) || existsSync(this.netnsPath(record.id))) await this.tearDownLocked(record.id);
      const nets = cfg.networks.map((n) => (n === DEFAULT_NETWORK ? this.defaultNetwork() : this.store.get(n)));
      for (const net of nets) {
        this.ensureBridge(net);
        this.moveLegacyLeases(net);
      }
      const netns = this.netnsPath(record.id);
      const state: NetworkState = { netns, interfaces: [], ports: [] };
      const statePath = this.statePath(record.id);
      try {
        nets.forEach((net, i) => {
          const aliases = net.isDefault ? [] : (cfg.aliases[net.name] ?? []);
          const ip = this.leases.allocate(net, this.owner(record, net.name, aliases), i === 0 ? cfg.ip : undefined);
          state.interfaces.push({
            network: net.name, networkId: net.id, ifname: `eth${i}`, veth: this.vethName(record.id, i), ip,
            prefix: parseCidr(net.subnet).prefix, gateway: net.gateway, bridge: net.bridge,
          });
        });
        writeFileSync(statePath, JSON.stringify(state) + '\n'); // before anything is made: tear-down's list
        mkdirSync(path.dirname(netns), { recursive: true });
        writeFileSync(netns, '');
        const inside: string[] = ['link set lo up'];
        for (const it of state.interfaces) {
          inside.push(`link add ${it.ifname} type veth peer name ${it.veth} netns ${process.pid}`,
            `addr add ${it.ip}/${it.prefix} dev ${it.ifname}`, `link set ${it.ifname} up`);
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
      this.writeEtc(etc, hostsHead({ ...base, ips: own }), cfg);
      if (nets.some((n) => !n.isDefault)) this.refreshHosts(new Set([record.id]), state.interfaces.map((it) => it.network));
    });
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

  private writeEtc(etc: EtcFiles, hosts: string, cfg: ContainerNetworkConfig): void {
    writeFileSync(etc.hosts, hosts);
    writeFileSync(etc.resolvConf, resolvConfOf(cfg, true));
  }

  private extraHosts(cfg: ContainerNetworkConfig): string[] {
    return cfg.addHosts.map((h) => {
      const i = h.lastIndexOf(':');
      return h.slice(i + 1) === 'host-gateway' ? `${h.slice(0, i)}:${this.defaultGateway()}` : h;
    });
  }

  private defaultGateway(): string {
    return formatIp(parseCidr(this.config.subnet).network + 1);
  }

  /** Whether setUp made something for the container that tearDown has not undone. */
  holds(id: string): boolean {
    return existsSync(this.statePath(id)) || existsSync(this.netnsPath(id));
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
    rmSync(this.statePath(id), { force: true });
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
    const touched = new Set(also);
    for (const n of networks) for (const l of leases.get(n) ?? []) touched.add(l.container);
    for (const id of touched) {
      const file = path.join(this.paths.runContainers, id, 'hosts');
      const current = readText(file);
      if (current === undefined) continue;
      const peers: Peer[] = [];
      for (const [, list] of leases) {
        if (!list.some((l) => l.container === id)) continue;
        for (const l of list) {
          if (l.container === id) continue;
          peers.push({ ip: l.ip, names: [...new Set([l.name, ...l.aliases, l.container.slice(0, 12)])] });
        }
      }
      const next = withPeers(current, peers);
      if (next !== current) writeFileSync(file, next); // in place (O_TRUNC): the container has it bind-mounted
    }
  }

  vethName(id: string, index: number): string {
    return `${this.config.ifPrefix}${id.slice(0, 8)}${index}`;
  }

  // ---- bridges --------------------------------------------------------------------------------

  /** The default network's record, made on first use from the configuration. */
  private defaultNetwork(): NetworkRecord {
    const existing = this.store.read(DEFAULT_NETWORK);
    const c = this.config;
    if (existing && existing.bridge === c.bridge && existing.subnet === formatSubnet(c.subnet)) return existing;
    if (existing) this.store.removeRecord(DEFAULT_NETWORK); // the configuration changed
    const record: NetworkRecord = {
      name: DEFAULT_NETWORK, id: randomBytes(32).toString('hex'), driver: 'bridge', subnet: formatSubnet(c.subnet),
      gateway: this.defaultGateway(), bridge: c.bridge, created: new Date().toISOString(), isDefault: true,
    };
    this.store.add(record);
    return record;
  }

  /**
   * The bridge with its gateway address, up, in hull's nft table (made once per boot; the locks are
   * held). Another store may have made it: then it must have the same address, or this store's
   * containers would get addresses the bridge does not route.
   */
  private ensureBridge(net: NetworkRecord): void {
    const rec = this.leases.record(net.bridge);
    if (linkExists(net.bridge)) {
      if (rec && (rec.subnet !== net.subnet || rec.gateway !== net.gateway)) {
        throw new ConflictError(`bridge ${net.bridge} exists with ${rec.subnet} (gateway ${rec.gateway}), made by another hull store on this host; ` +
          `network ${net.name} of this store wants ${net.subnet} (gateway ${net.gateway}): configure the same subnet, or another bridge name`);
      }
      if (!rec) this.leases.setRecord({ bridge: net.bridge, subnet: net.subnet, gateway: net.gateway }); // made by an older hull
      return;
    }
    const cidr = parseCidr(net.subnet);
    const clash = this.leases.records().find((b) => b.bridge !== net.bridge && linkExists(b.bridge) && overlaps(parseCidr(b.subnet), cidr));
    if (clash) {
      throw new ConflictError(`subnet ${net.subnet} of network ${net.name} overlaps ${clash.subnet} of bridge ${clash.bridge} (another hull network on this host)`);
    }
    ipBatch([`link add ${net.bridge} type bridge`, `addr add ${net.gateway}/${cidr.prefix} dev ${net.bridge}`, `link set ${net.bridge} up`],
      `bridge ${net.bridge} of network ${net.name}`);
    try {
      // Published ports on 127.0.0.1 are DNATed to the bridge: its own route_localnet, not the host's.
      writeFileSync(`/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`, '1');
      addNetwork(this.config.nftTable, net.bridge, net.subnet, this.otherBridges(net));
      if (this.config.ipForward && readText('/proc/sys/net/ipv4/ip_forward')?.trim() !== '1') {
        writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
      }
      this.leases.setRecord({ bridge: net.bridge, subnet: net.subnet, gateway: net.gateway });
    } catch (err) {
      ipBatch([`link del ${net.bridge}`], `remove bridge ${net.bridge}`);
      throw err;
    }
  }

  /** Remove a network's bridge, unless a container of any store is still on it (a bridge shared by stores stays for the others). */
  private removeBridge(net: NetworkRecord): void {
    if (this.leases.live(net.bridge).length > 0) return;
    if (linkExists(net.bridge)) ipBatch([`link del ${net.bridge}`], `remove bridge ${net.bridge}`);
    removeNetwork(this.config.nftTable, net.bridge, net.subnet, this.otherBridges(net));
    this.leases.forget(net.bridge);
  }

  /** The other bridges in hull's nft table that exist now: this store's and every other store's that shares the table. */
  private otherBridges(net: NetworkRecord): string[] {
    const mine = this.store.list().map((n) => n.bridge);
    return [...new Set([...tableBridges(this.config.nftTable), ...mine])].filter((b) => b !== net.bridge && linkExists(b));
  }

  // ---- network verbs --------------------------------------------------------------------------

  async create(opts: { name: string; subnet?: string; gateway?: string; labels?: Record<string, string> }): Promise<NetworkRecord> {
    validateNetworkName(opts.name);
    return this.withLock(() => {
      // Under the host-wide lock: two stores creating networks at once do not pick the same subnet.
      const mine = this.store.list();
      const others = this.leases.records().filter((b) => !mine.some((n) => n.bridge === b.bridge) && linkExists(b.bridge));
      const taken = [...mine.map((n) => parseCidr(n.subnet)), parseCidr(this.config.subnet), ...others.map((b) => parseCidr(b.subnet)), ...hostRoutes()];
      const subnet = opts.subnet !== undefined ? formatSubnet(opts.subnet) : pickSubnet(this.config.subnetPool, taken);
      const cidr = parseCidr(subnet);
      if (opts.subnet !== undefined) {
        const clash = mine.find((n) => overlaps(parseCidr(n.subnet), cidr));
        if (clash) throw new ConflictError(`subnet ${subnet} overlaps with network ${clash.name} (${clash.subnet})`);
        const foreign = others.find((b) => overlaps(parseCidr(b.subnet), cidr));
        if (foreign) throw new ConflictError(`subnet ${subnet} overlaps ${foreign.subnet} of bridge ${foreign.bridge} (a network of another hull store on this host)`);
      }
      const gateway = opts.gateway ?? formatIp(cidr.network + 1);
      if (!contains(cidr, parseIp(gateway)) || parseIp(gateway) === cidr.network) throw new UsageError(`gateway ${gateway} is not in subnet ${subnet}`);
      // A bridge name no network of any store has (8 hex digits of the id: a clash is rare, but a bridge is host-wide).
      let id: string;
      do id = randomBytes(32).toString('hex');
      while (linkExists(`${this.config.ifPrefix}-${id.slice(0, 8)}`) || this.leases.record(`${this.config.ifPrefix}-${id.slice(0, 8)}`));
      const record: NetworkRecord = {
        name: opts.name, id, driver: 'bridge', subnet, gateway, bridge: `${this.config.ifPrefix}-${id.slice(0, 8)}`,
        created: new Date().toISOString(), ...(opts.labels ? { labels: opts.labels } : {}),
      };
      this.store.add(record);
      try {
        this.ensureBridge(record);
      } catch (err) {
        this.store.removeRecord(record.name);
        throw err;
      }
      return record;
    });
  }

  /** Remove a user network (refused while a container uses it); the default one: only when unused. */
  async remove(nameOrId: string, opts: { includeDefault?: boolean } = {}): Promise<void> {
    await this.withLock(() => {
      const net = this.store.get(nameOrId);
      if (net.isDefault && !opts.includeDefault) throw new ConflictError(`bridge is a pre-defined network and cannot be removed`);
      this.moveLegacyLeases(net);
      const users = this.users(net);
      if (users.length > 0) {
        throw new ConflictError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${users.map((u) => u.name).join(', ')})`);
      }
      this.removeBridge(net);
      this.store.removeRecord(net.name);
    });
  }

  /**
   * `network prune`: removes every user network no container uses (as `remove` judges it: no
   * container holds an address there). The default bridge stays. Returns the names removed.
   */
  async prune(): Promise<string[]> {
    return this.withLock(() => {
      const removed: string[] = [];
      for (const net of this.store.list()) {
        if (net.isDefault) continue;
        this.moveLegacyLeases(net);
        if (this.users(net).length > 0) continue;
        this.removeBridge(net);
        this.store.removeRecord(net.name);
        removed.push(net.name);
      }
      return removed;
    });
  }

  /** `network connect`: record it; a running container gets the interface now. */
  async connect(record: NetworkedContainer, nameOrId: string, aliases: string[], save: () => Promise<void>): Promise<void> {
    const cfg = record.network;
    if (!cfg || cfg.networks.length === 0) throw new ConflictError(`container ${record.name} is not on a bridge network (network mode ${cfg?.mode ?? 'none'})`);
    const net = this.store.get(nameOrId);
    if (cfg.networks.includes(net.name)) throw new ConflictError(`endpoint with name ${record.name} already exists in network ${net.name}`);
    await this.withLock(async () => {
      cfg.networks.push(net.name);
      cfg.aliases[net.name] = aliases;
      const state = this.readState(record.id);
      if (state && record.state.status === 'running') {
        this.ensureBridge(net);
        this.moveLegacyLeases(net);
        const index = Math.max(-1, ...state.interfaces.map((it) => Number(it.ifname.slice(3)))) + 1;
        const ip = this.leases.allocate(net, this.owner(record, net.name, aliases));
        const it: InterfaceState = { network: net.name, networkId: net.id, ifname: `eth${index}`, veth: this.vethName(record.id, index), ip,
          prefix: parseCidr(net.subnet).prefix, gateway: net.gateway, bridge: net.bridge };
        state.interfaces.push(it);
        writeFileSync(this.statePath(record.id), JSON.stringify(state) + '\n');
        ipBatch([`link add ${it.veth} type veth peer name ${it.ifname} netns ${state.netns}`, `link set ${it.veth} master ${it.bridge} up`], `connect ${record.name} to ${net.name}`);
        ipBatchInNetns(state.netns, [`addr add ${ip}/${it.prefix} dev ${it.ifname}`, `link set ${it.ifname} up`], `connect ${record.name} to ${net.name}`);
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
      delete cfg.aliases[net.name];
      if (cfg.mode === net.name) cfg.mode = cfg.networks[0] ?? 'none';
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

  /** Docker's `network inspect` shape. */
  inspect(nameOrId: string, containerName: (id: string) => string | undefined): Record<string, unknown> {
    const net = this.store.get(nameOrId);
    const containers: Record<string, unknown> = {};
    for (const l of this.ownLeases(net)) {
      const state = this.readState(l.container);
      const it = state?.interfaces.find((i) => i.network === net.name);
      containers[l.container] = { Name: containerName(l.container) ?? l.name, EndpointID: '', MacAddress: '', IPv4Address: `${l.ip}/${it?.prefix ?? parseCidr(net.subnet).prefix}`, IPv6Address: '' };
    }
    return {
      Name: net.name, Id: net.id, Created: net.created, Scope: 'local', Driver: net.driver, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
      Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Containers: containers, Options: { 'com.docker.network.bridge.name': net.bridge }, Labels: net.labels ?? {},
    };
  }

  /** The networks `network ls` shows: the predefined ones (made on first use) and the user's. */
  list(): NetworkRecord[] {
    return this.store.list();
  }

  /** Docker's NetworkSettings for inspect. */
  settings(record: NetworkedContainer): Record<string, unknown> {
    const state = record.state.status === 'running' || record.state.status === 'restarting' ? this.readState(record.id) : undefined;
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
    for (const e of record.network?.exposed ?? []) ports[e] = null;
    for (const p of state?.ports ?? []) {
      const key = `${p.containerPort}/${p.proto}`;
      (ports[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
    }
    const networks: Record<string, unknown> = {};
    for (const name of record.network?.networks ?? []) {
      const it = state?.interfaces.find((i) => i.network === name);
      networks[name] = {
        Aliases: record.network?.aliases[name] ?? null, NetworkID: it?.networkId ?? '', Gateway: it?.gateway ?? '',
        IPAddress: it?.ip ?? '', IPPrefixLen: it?.prefix ?? 0, MacAddress: '',
      };
    }
    const first = state?.interfaces[0];
    return {
      SandboxKey: state?.netns ?? '', Ports: ports, Networks: networks,
      Gateway: first?.gateway ?? '', IPAddress: first?.ip ?? '', IPPrefixLen: first?.prefix ?? 0, MacAddress: '',
    };
  }

  /** inspect's NetworkSettings, and HostConfig with NetworkMode, PortBindings, Dns, ExtraHosts. */
  inspectFields(record: NetworkedContainer, hostConfig: unknown): { NetworkSettings: Record<string, unknown>; HostConfig: Record<string, unknown> } {
    const cfg = record.network;
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of cfg?.ports ?? []) {
      (bindings[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort === 0 ? '' : String(p.hostPort) });
    }
    return {
      NetworkSettings: this.settings(record),
      HostConfig: {
        ...(hostConfig as Record<string, unknown>),
        NetworkMode: cfg?.mode ?? 'none', PortBindings: bindings, PublishAllPorts: cfg?.publishAll ?? false,
        Dns: cfg?.dns ?? [], DnsSearch: cfg?.dnsSearch ?? [], DnsOptions: cfg?.dnsOptions ?? [], ExtraHosts: cfg?.addHosts ?? null,
      },
    };
  }

  /** `hull port`: the published ports of a running container. */
  ports(record: NetworkedContainer): PortMapping[] {
    if (record.state.status !== 'running') return [];
    return this.readState(record.id)?.ports ?? [];
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

function resolvConfOf(cfg: ContainerNetworkConfig, ownNamespace: boolean): string {
  const host = readText('/etc/resolv.conf') ?? '';
  if (!ownNamespace && cfg.dns.length === 0 && cfg.dnsSearch.length === 0 && cfg.dnsOptions.length === 0) return host;
  return resolvConf(host, { dns: cfg.dns, search: cfg.dnsSearch, options: cfg.dnsOptions });
}

function setNetnsPath(spec: NetworkSpecNamespaces, file: string): void {
  const ns = spec.linux.namespaces.find((n) => n.type === 'network');
  if (ns) ns.path = file;
  else spec.linux.namespaces.push({ type: 'network', path: file });
}

/** Unmount and remove a namespace file; the kernel frees the namespace (and its veths) once unused. */
function releaseNetns(file: string): void {
  try {
    sys.umount2(file, MNT_DETACH);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
  rmSync(file, { force: true });
}

function formatSubnet(text: string): string {
  const c = parseCidr(text);
  return `${formatIp(c.network)}/${c.prefix}`;
}

/** The host's IPv4 routes other than the default one (/proc/net/route: little-endian hex). */
function hostRoutes(): Cidr[] {
  const out: Cidr[] = [];
  for (const line of (readText('/proc/net/route') ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
    const dest = le(f[1]!);
    const m = le(f[7]!);
    if (m === 0) continue;
    out.push({ network: (dest & m) >>> 0, prefix: Math.clz32(~m >>> 0) }); // leading ones of the mask
  }
  return out;
}

/** Whether a link exists in hull's own network namespace (/sys shows the namespace /sys was mounted in; /proc/sys/net the caller's). */
function linkExists(name: string): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${name}`);
}
