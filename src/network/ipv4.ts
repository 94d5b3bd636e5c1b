/** IPv4 addresses and subnets as numbers: parsing, formatting, host ranges. */
import { ConflictError, UsageError } from '../errors.js';

export interface Cidr {
  /** The network address (host bits cleared). */
  network: number;
  prefix: number;
}

export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new UsageError(`invalid IPv4 address: ${text}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m || Number(m[2]) > 32) throw new UsageError(`invalid subnet: ${text} (want A.B.C.D/N)`);
  const prefix = Number(m[2]);
  if (prefix > 30) throw new UsageError(`subnet ${text} is too small for containers (at most /30)`);
  return { network: (parseIp(m[1]!) & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.prefix)) >>> 0 === c.network;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.network & mask(p)) >>> 0 === (b.network & mask(p)) >>> 0;
}

/** The first and last usable host addresses (network and broadcast excluded). */
export function hostRange(c: Cidr): [number, number] {
  const size = 2 ** (32 - c.prefix);
  return [c.network + 1, c.network + size - 2];
}

/** The host addresses of `subnet` that `range` (Docker's `--ip-range`, inside it) holds: the range's own first and last included, the subnet's not. */
export function rangeIn(subnet: Cidr, range: Cidr): [number, number] {
  const [first, last] = hostRange(subnet);
  return [Math.max(first, range.network), Math.min(last, range.network + 2 ** (32 - range.prefix) - 1)];
}

/**
 * The first /24 of `pool` that overlaps none of `taken` (every hull network of every store on the
 * host, and the host's routes), as Docker picks a network's subnet from its default pools.
 */
export function pickSubnet(pool: string, taken: readonly Cidr[]): string {
  const p = parseCidr(pool);
  if (p.prefix > 24) throw new UsageError(`subnet pool ${pool} is smaller than a /24`);
  const count = 2 ** (24 - p.prefix);
  for (let i = 0; i < count; i++) {
    const c: Cidr = { network: p.network + i * 256, prefix: 24 };
    if (!taken.some((t) => overlaps(t, c))) return formatCidr(c);
  }
  throw new ConflictError(`no free /24 left in the subnet pool ${pool}; give --subnet`);
}
