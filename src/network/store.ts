/**
 * Networks on disk and their address leases (IPAM), under `<root>/networks/`:
 *
 *   lock                       flock: every change to networks, leases, bridges and hosts files
 *   <name>/network.json        the network (subnet, gateway, bridge interface)
 *   <name>/leases/<ip>         one file per address in use: { container, name, aliases }
 *   <name>/last                the last address given (the next search starts after it)
 *
 * A lease appears whole or not at all: written to a temporary file and link(2)ed to its name,
 * which fails if the address is taken. Addresses go round the subnet before one is reused, so a
 * just-released address (whose old veth the kernel may still be tearing down) is not given again
 * at once. A lease whose container no longer exists (a crash between lease and record) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, HullError, UsageError, fromNodeError } from '../errors.js';
import { listDir, readText } from '../files.js';
import { isStorableName, validateNetworkName } from '../runtime/validate.js';
import { acquireLock, nativeFlock } from '../store/lock.js';
import { type Cidr, contains, formatCidr, formatIp, hostRange, overlaps, parseCidr, parseIp } from './ipv4.js';

export const DEFAULT_NETWORK = 'bridge';

export interface NetworkRecord {
  name: string;
  id: string;
  driver: 'bridge';
  subnet: string;
  gateway: string;
  /** The bridge interface on the host. */
  bridge: string;
  created: string;
  /** The default network (not removable, no name resolution: Docker's `bridge`). */
  isDefault?: boolean;
  labels?: Record<string, string>;
}

export interface Lease {
  ip: string;
  container: string;
  name: string;
  aliases: string[];
}

export class NetworkNotFoundError extends HullError {
  constructor(name: string) {
    super(`network ${name} not found`, { code: 'NETWORK_NOT_FOUND' });
  }
}

export class NetworkStore {
  readonly dir: string;

  constructor(root: string, private readonly containersDir: string) {
    this.dir = path.join(root, 'networks');
  }

  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    const lock = await acquireLock(path.join(this.dir, 'lock'), 'exclusive', nativeFlock);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  private netDir(name: string): string {
    return path.join(this.dir, name);
  }

  leaseDir(name: string): string {
    return path.join(this.netDir(name), 'leases');
  }

  read(name: string): NetworkRecord | undefined {
    if (!isStorableName(name)) return undefined;
    const text = readText(path.join(this.netDir(name), 'network.json'));
    return text === undefined ? undefined : (JSON.parse(text) as NetworkRecord);
  }

  list(): NetworkRecord[] {
    const out: NetworkRecord[] = [];
    for (const name of listDir(this.dir)) {
      if (name === 'lock') continue;
      const r = this.read(name);
      if (r) out.push(r);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A network by name, id or unique id prefix. */
  get(nameOrId: string): NetworkRecord {
    const byName = this.read(nameOrId);
    if (byName) return byName;
    if (/^[0-9a-f]{3,64}$/.test(nameOrId)) {
      const hits = this.list().filter((n) => n.id.startsWith(nameOrId));
      if (hits.length === 1) return hits[0]!;
    }
    throw new NetworkNotFoundError(nameOrId);
  }

  /** Write a new network's record (its directory must not exist). */
  add(record: NetworkRecord): void {
    validateNetworkName(record.name);
    if (['host', 'none', 'default'].includes(record.name) || (record.name === DEFAULT_NETWORK && !record.isDefault)) {
      throw new ConflictError(`network with name ${record.name} already exists (a predefined one)`);
    }
    const dir = this.netDir(record.name);
    try {
      mkdirSync(dir, { recursive: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`network with name ${record.name} already exists`);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'mkdir', dir);
      mkdirSync(this.dir, { recursive: true });
      mkdirSync(dir);
    }
    mkdirSync(this.leaseDir(record.name));
    writeAtomic(path.join(dir, 'network.json'), JSON.stringify(record, null, 2) + '\n');
  }

  removeRecord(name: string): void {
    rmSync(this.netDir(name), { recursive: true, force: true });
  }

  leases(name: string): Lease[] {
    const out: Lease[] = [];
    for (const ip of listDir(this.leaseDir(name))) {
      if (ip.endsWith('.tmp')) continue;
      const text = readText(path.join(this.leaseDir(name), ip));
      if (text === undefined) continue;
      try {
        out.push({ ip, ...(JSON.parse(text) as Omit<Lease, 'ip'>) });
      } catch {
        // a damaged lease keeps its address taken; `allocate` takes it over when its container is gone
      }
    }
    return out;
  }

  /** A free address of the network for `owner` (the caller holds the lock). */
  allocate(net: NetworkRecord, owner: Omit<Lease, 'ip'>, wanted?: string): string {
    const cidr = parseCidr(net.subnet);
    const dir = this.leaseDir(net.name);
    mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `${owner.container}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, JSON.stringify(owner) + '\n');
    try {
      const gateway = parseIp(net.gateway);
      if (wanted !== undefined) {
        const ip = parseIp(wanted);
        if (!contains(cidr, ip) || ip === gateway) throw new UsageError(`address ${wanted} is not usable in network ${net.name} (${net.subnet})`);
        if (!this.claim(dir, tmp, wanted)) throw new ConflictError(`address ${wanted} is already in use in network ${net.name}`);
        return wanted;
      }
      const [first, last] = hostRange(cidr);
      const lastFile = path.join(this.netDir(net.name), 'last');
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
      throw new ConflictError(`no free address left in network ${net.name} (${net.subnet})`);
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
      if (!this.isStale(file)) return false;
      rmSync(file, { force: true });
    }
    return false;
  }

  /** A lease left by a container that no longer exists (a crash between lease and record, or `rm` of a crashed one). */
  private isStale(file: string): boolean {
    let owner: string | undefined;
    try {
      owner = (JSON.parse(readFileSync(file, 'utf8')) as Partial<Lease>).container;
    } catch {
      owner = undefined;
    }
    if (owner !== undefined && /^[0-9a-f]{64}$/.test(owner)) return !existsSync(path.join(this.containersDir, owner));
    // Unreadable: stale once it is older than any set-up in progress.
    try {
      return Date.now() - statSync(file).mtimeMs > 60_000;
    } catch {
      return true;
    }
  }

  /** Give an address back, if `container` still holds it. */
  release(name: string, ip: string, container: string): void {
    const file = path.join(this.leaseDir(name), ip);
    const text = readText(file);
    if (text === undefined) return;
    try {
      if ((JSON.parse(text) as Partial<Lease>).container !== container) return;
    } catch {
      return;
    }
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'unlink', file);
    }
  }

  /** A /24 of the pool that no hull network and no host route uses. */
  pickSubnet(pool: string, taken: readonly Cidr[]): string {
    const p = parseCidr(pool);
    if (p.prefix > 24) throw new UsageError(`subnet pool ${pool} is smaller than a /24`);
    const count = 2 ** (24 - p.prefix);
    for (let i = 0; i < count; i++) {
      const c: Cidr = { network: p.network + i * 256, prefix: 24 };
      if (!taken.some((t) => overlaps(t, c))) return formatCidr(c);
    }
    throw new ConflictError(`no free /24 left in the subnet pool ${pool}; give --subnet`);
  }
}

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
