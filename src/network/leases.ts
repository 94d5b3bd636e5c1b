/**
 * Address leases (IPAM) of hull's bridges, host-wide. A bridge is one object on the host, whatever
 * store (--root, --run-root) puts containers on it, so its addresses are given from one place for
 * every store, keyed by the bridge's name, in the configured state directory (`stateDir`,
 * /run/hull-network by default: per boot, as bridges are):
 *
 *   lock                          flock: every change to bridges, leases and hull's nft table, by any store
 *   tmp/lease-<pid>-<rnd>         a lease being written (the writer holds the lock until it is gone:
 *                                 one found by `orphans` is a killed writer's)
 *   bridges/<bridge>/bridge.json  { bridge, subnet, gateway }: the bridge's address, as the store that made it gave it
 *   bridges/<bridge>/leases/<ip>  one file per address in use: { store, network, container, name, aliases }
 *   bridges/<bridge>/last         the last address given (the next search starts after it)
 *
 * `store` is the owning store's containers directory: a lease whose container no longer exists
 * there (a crash between lease and record, `rm` of a crashed one, a store deleted whole) is taken
 * over by the next allocation and reported by `orphans`. A lease appears whole or not at all: written
 * to a temporary file and link(2)ed to its name, which fails if the address is taken. Addresses go
 * round the subnet before one is reused, so a just-released address (whose old veth the kernel
 * may still be tearing down) is not given again at once.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, UsageError, fromNodeError } from '../errors.js';
import { listDir, readText } from '../files.js';
import { uniqueName } from '../store/atomic-file.js';
import { withExclusiveLock } from '../store/lock.js';
import { contains, formatIp, hostRange, parseCidr, parseIp, rangeIn } from './ipv4.js';
import { writeAtomic } from './store.js';

/** Who holds an address. */
export interface LeaseOwner {
  /** The owning store's containers directory: the container is `<store>/<container>`. */
  store: string;
  /** The owning store's name of the network on the bridge. */
  network: string;
  container: string;
  /** The container's name and aliases (for its peers' /etc/hosts). */
  name: string;
  aliases: string[];
}

export interface Lease extends LeaseOwner {
  ip: string;
}

/** A bridge's address as the store that made it gave it: another store may use the bridge only with the same. */
export interface BridgeRecord {
  bridge: string;
  subnet: string;
  gateway: string;
}

/** Where an address is asked for: a network record has these. */
export interface LeaseTarget {
  /** The network's name (for messages). */
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  /** Addresses are given from this part of the subnet (`--ip-range`) unless one is asked for. */
  ipRange?: string;
}

/** Something of networking left by a process or container that is gone (`system check`). */
export interface NetworkOrphan {
  /** lease: an address held for a container that does not exist; tmp: a stray temporary file. */
  kind: 'lease' | 'tmp';
  path: string;
  message: string;
  /** Whether it was removed (repair). */
  removed: boolean;
}

const BRIDGE_RE = /^[a-zA-Z0-9_.-]{1,15}$/;
const CONTAINER_RE = /^[0-9a-f]{64}$/;
const IP_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** An unreadable lease is stale once older than any set-up in progress. */
const UNREADABLE_STALE_MS = 60_000;

const FORWARDING_MARK = 'ip-forward-enabled';

export class BridgeLeases {
  constructor(readonly dir: string) {}

  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return withExclusiveLock(path.join(this.dir, 'lock'), fn);
  }

  private bridgeDir(bridge: string): string {
    if (!BRIDGE_RE.test(bridge)) throw new UsageError(`invalid bridge name '${bridge}'`);
    return path.join(this.dir, 'bridges', bridge);
  }

  leaseDir(bridge: string): string {
    return path.join(this.bridgeDir(bridge), 'leases');
  }

  private tmpDir(): string {
    return path.join(this.dir, 'tmp');
  }

  // ---- bridges --------------------------------------------------------------------------------

  record(bridge: string): BridgeRecord | undefined {
    const text = readText(path.join(this.bridgeDir(bridge), 'bridge.json'));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as BridgeRecord;
    } catch {
      return undefined; // a damaged record: the next store to make the bridge writes it again
    }
  }

  setRecord(rec: BridgeRecord): void {
    const dir = this.bridgeDir(rec.bridge);
    mkdirSync(dir, { recursive: true });
    writeAtomic(path.join(dir, 'bridge.json'), JSON.stringify(rec) + '\n');
  }

  /** Every bridge recorded here (by any store), whether or not its link exists now. */
  records(): BridgeRecord[] {
    const out: BridgeRecord[] = [];
    for (const name of listDir(path.join(this.dir, 'bridges'))) {
      if (!BRIDGE_RE.test(name)) continue;
      const r = this.record(name);
      if (r) out.push(r);
    }
    return out;
  }

  /** Remember that hull turned IPv4 forwarding on (it was off): the last bridge to go turns it off again. */
  markForwardingEnabled(): void {
    mkdirSync(this.dir, { recursive: true });
    writeAtomic(path.join(this.dir, FORWARDING_MARK), 'hull turned net.ipv4.ip_forward on\n');
  }

  /** Whether hull turned forwarding on (the mark is taken: the caller turns it off). */
  takeForwardingMark(): boolean {
    const file = path.join(this.dir, FORWARDING_MARK);
    if (!existsSync(file)) return false;
    rmSync(file, { force: true });
    return true;
  }

  /** Forget a bridge that was removed: its record, its leases (none live: the caller checked) and `last`. */
  forget(bridge: string): void {
    rmSync(this.bridgeDir(bridge), { recursive: true, force: true });
  }

  // ---- leases ---------------------------------------------------------------------------------

  /** Every lease on the bridge, of every store (a damaged one is left out: it keeps its address until `allocate` takes it over). */
  leases(bridge: string): Lease[] {
    const dir = this.leaseDir(bridge);
    const out: Lease[] = [];
    for (const ip of listDir(dir)) {
      if (!IP_RE.test(ip)) continue;
      const owner = parseOwner(readText(path.join(dir, ip)));
      if (owner) out.push({ ip, ...owner });
    }
    return out;
  }

  /** The leases on the bridge whose containers exist: the bridge is in use while there is one. */
  live(bridge: string): Lease[] {
    return this.leases(bridge).filter((l) => existsSync(path.join(l.store, l.container)));
  }

  /** Refuse an address asked for that the network cannot give (outside its subnet, or its gateway). */
  checkWanted(target: LeaseTarget, wanted: string): void {
    const ip = parseIp(wanted);
    if (!contains(parseCidr(target.subnet), ip) || ip === parseIp(target.gateway))
      throw new UsageError(`address ${wanted} is not usable in network ${target.name} (${target.subnet})`);
  }

  /** A free address on the bridge for `owner` (the caller holds the lock). */
  allocate(target: LeaseTarget, owner: LeaseOwner, wanted?: string): string {
    const cidr = parseCidr(target.subnet);
    const dir = this.leaseDir(target.bridge);
    mkdirSync(dir, { recursive: true });
    mkdirSync(this.tmpDir(), { recursive: true });
    const tmp = path.join(this.tmpDir(), uniqueName('lease'));
    writeFileSync(tmp, JSON.stringify(owner) + '\n');
    try {
      const gateway = parseIp(target.gateway);
      if (wanted !== undefined) {
        this.checkWanted(target, wanted);
        if (!this.claim(dir, tmp, wanted)) throw new ConflictError(`address ${wanted} is already in use in network ${target.name}`);
        return wanted;
      }
      const [first, last] = target.ipRange === undefined ? hostRange(cidr) : rangeIn(cidr, parseCidr(target.ipRange));
      const lastFile = path.join(this.bridgeDir(target.bridge), 'last');
      const previous = readText(lastFile);
      let start = previous ? parseIp(previous.trim()) + 1 : first;
      if (start < first || start > last) start = first;
      const size = last - first + 1;
      for (let i = 0; i < size; i++) {
        const n = first + ((start - first + i) % size);
        if (n === gateway) continue;
        const ip = formatIp(n);
        if (this.claim(dir, tmp, ip)) {
          writeAtomic(lastFile, ip + '\n');
          return ip;
        }
      }
      throw new ConflictError(`no free address left in network ${target.name} (${target.subnet})`);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  private claim(dir: string, tmp: string, ip: string): boolean {
    const file = path.join(dir, ip);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(err, 'link', file);
      }
      if (staleness(file) === undefined) return false;
      rmSync(file, { force: true });
    }
    return false;
  }

  /** Give an address back, if the container of `store` still holds it. */
  release(bridge: string, ip: string, store: string, container: string): void {
    const file = path.join(this.leaseDir(bridge), ip);
    const owner = parseOwner(readText(file));
    if (!owner || owner.container !== container || owner.store !== store) return;
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'unlink', file);
    }
  }

  /**
   * Leases whose container does not exist in its store, and stray temporary files (a writer killed
   * between writing and removing one), of every bridge here; removed with `repair`. The caller
   * holds the lock (so no temporary file is in use).
   */
  orphans(repair: boolean): NetworkOrphan[] {
    const out: NetworkOrphan[] = [];
    const found = (kind: NetworkOrphan['kind'], file: string, message: string) => {
      if (repair) rmSync(file, { force: true, recursive: true });
      out.push({ kind, path: file, message, removed: repair });
    };
    for (const name of listDir(this.tmpDir())) found('tmp', path.join(this.tmpDir(), name), `temporary lease file of a killed hull (${name})`);
    for (const bridge of listDir(path.join(this.dir, 'bridges'))) {
      if (!BRIDGE_RE.test(bridge)) continue;
      const dir = this.leaseDir(bridge);
      for (const name of listDir(dir)) {
        const file = path.join(dir, name);
        if (!IP_RE.test(name)) {
          found('tmp', file, `stray file in the leases of bridge ${bridge}`);
          continue;
        }
        const why = staleness(file);
        if (why !== undefined) found('lease', file, `address ${name} on bridge ${bridge}: ${why}`);
      }
    }
    return out;
  }
}

function parseOwner(text: string | undefined): LeaseOwner | undefined {
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as { [K in keyof LeaseOwner]?: unknown };
    if (typeof o.store !== 'string' || !path.isAbsolute(o.store) || typeof o.container !== 'string' || !CONTAINER_RE.test(o.container)) return undefined;
    const network = typeof o.network === 'string' ? o.network : '';
    const name = typeof o.name === 'string' ? o.name : '';
    return { store: o.store, network, container: o.container, name, aliases: Array.isArray(o.aliases) ? o.aliases.map(String) : [] };
  } catch {
    return undefined;
  }
}

/** Why a lease is stale (its container is gone, or it is unreadable and old), or undefined while it holds its address. */
function staleness(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'gone meanwhile'; // released meanwhile: the claim is tried again
  }
  const owner = parseOwner(text);
  if (owner)
    return existsSync(path.join(owner.store, owner.container))
      ? undefined
      : `container ${owner.container.slice(0, 12)} (${owner.name}) does not exist in ${owner.store}`;
  try {
    return Date.now() - statSync(file).mtimeMs > UNREADABLE_STALE_MS ? 'unreadable lease' : undefined;
  } catch {
    return undefined;
  }
}
