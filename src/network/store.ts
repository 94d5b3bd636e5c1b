/**
 * A store's networks on disk, under `<root>/networks/`:
 *
 *   lock                       flock: every change to this store's networks and hosts files (taken
 *                              before the host-wide lock of the bridges, src/network/leases.ts)
 *   <name>/network.json        the network (subnet, gateway, bridge interface)
 *
 * The addresses given on a network's bridge are leased host-wide (leases.ts), because another
 * store may put containers on the same bridge.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, HullError, fromNodeError } from '../errors.js';
import { listDir, readText } from '../files.js';
import { isStorableName, validateNetworkName } from '../runtime/validate.js';
import { withExclusiveLock } from '../store/lock.js';
import type { NetworkOrphan } from './leases.js';

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
  /** Docker's `--internal`: no traffic between the bridge and anything but its own containers (nft.ts's `internal` set). */
  internal?: boolean;
  /** Docker's `--attachable` (a swarm notion: every local network is attachable); kept for inspect. */
  attachable?: boolean;
  /** Docker's `--ip-range`: the part of the subnet addresses are given from when none is asked for. */
  ipRange?: string;
  /** Driver options, as given (only ones hull does anyway are accepted: see NETWORK_OPTIONS). */
  options?: Record<string, string>;
}

/** The network driver options hull accepts: each with the only value it honours (what its bridges do anyway). */
export const NETWORK_OPTIONS: Readonly<Record<string, string>> = {
  'com.docker.network.bridge.enable_icc': 'true',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
  'com.docker.network.driver.mtu': '1500',
};

export class NetworkNotFoundError extends HullError {
  constructor(name: string) {
    super(`network ${name} not found`, { code: 'NETWORK_NOT_FOUND' });
  }
}

export class NetworkStore {
  readonly dir: string;

  constructor(
    root: string,
    private readonly containersDir: string,
  ) {
    this.dir = path.join(root, 'networks');
  }

  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return withExclusiveLock(path.join(this.dir, 'lock'), fn);
  }

  private netDir(name: string): string {
    return path.join(this.dir, name);
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
    writeAtomic(path.join(dir, 'network.json'), JSON.stringify(record, null, 2) + '\n');
  }

  removeRecord(name: string): void {
    rmSync(this.netDir(name), { recursive: true, force: true });
  }

  /**
   * The leases an older hull kept in `<name>/leases/` (they are host-wide now, leases.ts), for the
   * caller to move there: those whose container still exists. The directory goes (and `last`);
   * nothing is read again once it has gone.
   */
  takeLegacyLeases(name: string): { ip: string; container: string; name: string; aliases: string[] }[] {
    const dir = path.join(this.netDir(name), 'leases');
    const files = listDir(dir);
    if (files.length === 0) return [];
    const out: { ip: string; container: string; name: string; aliases: string[] }[] = [];
    for (const ip of files) {
      if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)) continue;
      try {
        const l = JSON.parse(readFileSync(path.join(dir, ip), 'utf8')) as { container?: unknown; name?: unknown; aliases?: unknown };
        if (typeof l.container !== 'string' || !/^[0-9a-f]{64}$/.test(l.container) || !existsSync(path.join(this.containersDir, l.container))) continue;
        out.push({
          ip,
          container: l.container,
          name: typeof l.name === 'string' ? l.name : '',
          aliases: Array.isArray(l.aliases) ? l.aliases.map(String) : [],
        });
      } catch {
        // unreadable: nothing to move
      }
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(this.netDir(name), 'last'), { force: true });
    return out;
  }

  /**
   * Stray temporary files of this store's network records, and what an older hull kept here:
   * `<name>/leases/` (leases now live host-wide, src/network/leases.ts) — its temporary files, and
   * leases whose container no longer exists. Removed with `repair`; the caller holds the lock.
   */
  orphans(repair: boolean): NetworkOrphan[] {
    const out: NetworkOrphan[] = [];
    const found = (kind: NetworkOrphan['kind'], file: string, message: string) => {
      if (repair) rmSync(file, { force: true, recursive: true });
      out.push({ kind, path: file, message, removed: repair });
    };
    for (const name of listDir(this.dir)) {
      if (name === 'lock') continue;
      const dir = this.netDir(name);
      if (name.endsWith('.tmp')) {
        found('tmp', dir, 'temporary file of a killed hull');
        continue;
      }
      for (const f of listDir(dir)) if (f.endsWith('.tmp')) found('tmp', path.join(dir, f), `temporary file of a killed hull in network ${name}`);
      const legacy = path.join(dir, 'leases');
      for (const f of listDir(legacy)) {
        const file = path.join(legacy, f);
        if (f.endsWith('.tmp')) {
          found('tmp', file, `temporary lease file of a killed hull in network ${name}`);
          continue;
        }
        let owner: string | undefined;
        try {
          owner = (JSON.parse(readFileSync(file, 'utf8')) as { container?: string }).container;
        } catch {
          owner = undefined;
        }
        if (owner === undefined || !/^[0-9a-f]{64}$/.test(owner) || !existsSync(path.join(this.containersDir, owner))) {
          found(
            'lease',
            file,
            `address ${f} in network ${name} (an older hull's lease): its container ${owner?.slice(0, 12) ?? '(unreadable)'} does not exist`,
          );
        }
      }
      if (repair && existsSync(legacy) && listDir(legacy).length === 0) rmSync(legacy, { recursive: true, force: true });
    }
    return out;
  }
}

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
