/**
 * Bridges and the network verbs: `network create/rm/prune`, the default network made on first
 * use, and each network's bridge with its gateway address and its part of hull's nft table.
 * A bridge is host-wide: another store configured with the same bridge shares it, so a bridge
 * is made once per boot and removed only when no container of any store is on it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { ConflictError, UsageError } from '../errors.js';
import { readText } from '../files.js';
import { validateNetworkName } from '../runtime/validate.js';
import { ipBatch } from './commands.js';
import { type Cidr, contains, formatIp, overlaps, parseCidr, parseIp, pickSubnet } from './ipv4.js';
import { addNetwork, removeNetwork, tableBridges } from './nft.js';
import type { NetworkPlumbing } from './plumbing.js';
import { DEFAULT_NETWORK, NETWORK_OPTIONS, type NetworkRecord } from './store.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The default network's record, made on first use from the configuration. */
export function defaultNetworkRecord(p: NetworkPlumbing): NetworkRecord {
  const existing = p.store.read(DEFAULT_NETWORK);
  const c = p.config;
  if (existing && existing.bridge === c.bridge && existing.subnet === formatSubnet(c.subnet)) return existing;
  if (existing) p.store.removeRecord(DEFAULT_NETWORK); // the configuration changed
  const record: NetworkRecord = {
    name: DEFAULT_NETWORK,
    id: randomBytes(32).toString('hex'),
    driver: 'bridge',
    subnet: formatSubnet(c.subnet),
    gateway: p.defaultGateway(),
    bridge: c.bridge,
    created: new Date().toISOString(),
    isDefault: true,
  };
  p.store.add(record);
  return record;
}

/**
 * The bridge with its gateway address, up, in hull's nft table (made once per boot; the locks are
 * held). Another store may have made it: then it must have the same address, or this store's
 * containers would get addresses the bridge does not route.
 */
export function ensureBridge(p: NetworkPlumbing, net: NetworkRecord): void {
  const rec = p.leases.record(net.bridge);
  if (linkExists(net.bridge)) {
    if (rec && (rec.subnet !== net.subnet || rec.gateway !== net.gateway)) {
      throw new ConflictError(
        `bridge ${net.bridge} exists with ${rec.subnet} (gateway ${rec.gateway}), made by another hull store on this host; ` +
          `network ${net.name} of this store wants ${net.subnet} (gateway ${net.gateway}): configure the same subnet, or another bridge name`,
      );
    }
    if (!rec) p.leases.setRecord({ bridge: net.bridge, subnet: net.subnet, gateway: net.gateway }); // made by an older hull
    return;
  }
  const cidr = parseCidr(net.subnet);
  const clash = p.leases.records().find((b) => b.bridge !== net.bridge && linkExists(b.bridge) && overlaps(parseCidr(b.subnet), cidr));
  if (clash) {
    throw new ConflictError(
      `subnet ${net.subnet} of network ${net.name} overlaps ${clash.subnet} of bridge ${clash.bridge} (another hull network on this host)`,
    );
  }
  ipBatch(
    [`link add ${net.bridge} type bridge`, `addr add ${net.gateway}/${cidr.prefix} dev ${net.bridge}`, `link set ${net.bridge} up`],
    `bridge ${net.bridge} of network ${net.name}`,
  );
  try {
    // Published ports on 127.0.0.1 are DNATed to the bridge: its own route_localnet, not the host's.
    writeFileSync(`/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`, '1');
    addNetwork(p.config.nftTable, net.bridge, net.subnet, otherBridges(p, net), net.internal === true);
    if (p.config.ipForward && readText(IP_FORWARD)?.trim() !== '1') {
      writeFileSync(IP_FORWARD, '1');
      p.leases.markForwardingEnabled();
    }
    p.leases.setRecord({ bridge: net.bridge, subnet: net.subnet, gateway: net.gateway });
  } catch (err) {
    ipBatch([`link del ${net.bridge}`], `remove bridge ${net.bridge}`);
    throw err;
  }
}

/** Remove a network's bridge, unless a container of any store is still on it (a bridge shared by stores stays for the others). */
function removeBridge(p: NetworkPlumbing, net: NetworkRecord): void {
  if (p.leases.live(net.bridge).length > 0) return;
  if (linkExists(net.bridge)) ipBatch([`link del ${net.bridge}`], `remove bridge ${net.bridge}`);
  const others = otherBridges(p, net);
  removeNetwork(p.config.nftTable, net.bridge, net.subnet, others, net.internal === true);
  p.leases.forget(net.bridge);
  // The last bridge gone: forwarding goes back off if hull turned it on.
  if (others.length === 0 && p.leases.takeForwardingMark()) writeFileSync(IP_FORWARD, '0');
}

/** The other bridges in hull's nft table that exist now: this store's and every other store's that shares the table. */
function otherBridges(p: NetworkPlumbing, net: NetworkRecord): string[] {
  const mine = p.store.list().map((n) => n.bridge);
  return [...new Set([...tableBridges(p.config.nftTable), ...mine])].filter((b) => b !== net.bridge && linkExists(b));
}

// ---- network verbs --------------------------------------------------------------------------

/** What `network create` takes: Docker's flags of a bridge network. */
export interface NetworkCreateOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  /** `--ip-range`: inside the subnet. */
  ipRange?: string;
  labels?: Record<string, string>;
  internal?: boolean;
  attachable?: boolean;
  /** Driver options: only NETWORK_OPTIONS's, with their values. */
  options?: Record<string, string>;
}

/** `network create`: a bridge network (a /24 of the configured pool unless `subnet` is given). */
export async function createNetwork(p: NetworkPlumbing, opts: NetworkCreateOptions): Promise<NetworkRecord> {
  for (const [k, v] of Object.entries(opts.options ?? {})) {
    const honoured = NETWORK_OPTIONS[k];
    if (honoured === undefined) throw new UsageError(`network option ${k} is not supported by hull`);
    if (v !== honoured) throw new UsageError(`network option ${k}=${v} is not supported by hull (only ${honoured})`);
  }
  validateNetworkName(opts.name);
  return p.withLock(() => {
    // Under the host-wide lock: two stores creating networks at once do not pick the same subnet.
    const mine = p.store.list();
    const others = p.leases.records().filter((b) => !mine.some((n) => n.bridge === b.bridge) && linkExists(b.bridge));
    const taken = [...mine.map((n) => parseCidr(n.subnet)), parseCidr(p.config.subnet), ...others.map((b) => parseCidr(b.subnet)), ...hostRoutes()];
    const subnet = opts.subnet !== undefined ? formatSubnet(opts.subnet) : pickSubnet(p.config.subnetPool, taken);
    const cidr = parseCidr(subnet);
    if (opts.subnet !== undefined) {
      const clash = mine.find((n) => overlaps(parseCidr(n.subnet), cidr));
      if (clash) throw new ConflictError(`subnet ${subnet} overlaps with network ${clash.name} (${clash.subnet})`);
      const foreign = others.find((b) => overlaps(parseCidr(b.subnet), cidr));
      if (foreign)
        throw new ConflictError(`subnet ${subnet} overlaps ${foreign.subnet} of bridge ${foreign.bridge} (a network of another hull store on this host)`);
    }
    const gateway = opts.gateway ?? formatIp(cidr.network + 1);
    if (!contains(cidr, parseIp(gateway)) || parseIp(gateway) === cidr.network) throw new UsageError(`gateway ${gateway} is not in subnet ${subnet}`);
    const ipRange = opts.ipRange === undefined ? undefined : formatSubnet(opts.ipRange);
    if (ipRange !== undefined && (opts.subnet === undefined || !contains(cidr, parseCidr(ipRange).network) || parseCidr(ipRange).prefix < cidr.prefix))
      throw new UsageError(
        `ip-range ${opts.ipRange} must be inside the network's subnet${opts.subnet === undefined ? ' (give the subnet too)' : ` ${subnet}`}`,
      );
    // A bridge name no network of any store has (8 hex digits of the id: a clash is rare, but a bridge is host-wide).
    let id: string;
    do id = randomBytes(32).toString('hex');
    while (linkExists(`${p.config.ifPrefix}-${id.slice(0, 8)}`) || p.leases.record(`${p.config.ifPrefix}-${id.slice(0, 8)}`));
    const record: NetworkRecord = {
      name: opts.name,
      id,
      driver: 'bridge',
      subnet,
      gateway,
      bridge: `${p.config.ifPrefix}-${id.slice(0, 8)}`,
      created: new Date().toISOString(),
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.internal ? { internal: true } : {}),
      ...(opts.attachable ? { attachable: true } : {}),
      ...(ipRange !== undefined ? { ipRange } : {}),
      ...(opts.options && Object.keys(opts.options).length > 0 ? { options: opts.options } : {}),
    };
    p.store.add(record);
    try {
      ensureBridge(p, record);
    } catch (err) {
      p.store.removeRecord(record.name);
      throw err;
    }
    return record;
  });
}

/** Remove a user network (refused while a container uses it); the default one: only when unused. */
export async function deleteNetwork(p: NetworkPlumbing, nameOrId: string, opts: { includeDefault?: boolean } = {}): Promise<void> {
  await p.withLock(() => {
    const net = p.store.get(nameOrId);
    if (net.isDefault && !opts.includeDefault) throw new ConflictError(`bridge is a pre-defined network and cannot be removed`);
    p.moveLegacyLeases(net);
    const users = p.users(net);
    if (users.length > 0) {
      throw new ConflictError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${users.map((u) => u.name).join(', ')})`);
    }
    removeBridge(p, net);
    p.store.removeRecord(net.name);
  });
}

/**
 * `network prune`: removes every user network no container uses (as `remove` judges it: no
 * container holds an address there), of those `keep` (the prune filters) lets through. The
 * default bridge stays. Returns the names removed.
 */
export async function pruneNetworks(p: NetworkPlumbing, keep?: (net: NetworkRecord) => boolean): Promise<string[]> {
  return p.withLock(() => {
    const removed: string[] = [];
    for (const net of p.store.list()) {
      if (net.isDefault || (keep && !keep(net))) continue;
      p.moveLegacyLeases(net);
      if (p.users(net).length > 0) continue;
      removeBridge(p, net);
      p.store.removeRecord(net.name);
      removed.push(net.name);
    }
    return removed;
  });
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
export function linkExists(name: string): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${name}`);
}
