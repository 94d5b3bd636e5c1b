/**
 * Where hull's networking lives on the host: the default bridge's name and subnet, the prefix of
 * every interface hull makes, the nftables table, the host-wide state directory of the bridges.
 * From `<root>/network.json` with environment overrides (HULL_BRIDGE, HULL_SUBNET,
 * HULL_SUBNET_POOL, HULL_NFT_TABLE, HULL_IF_PREFIX, HULL_NET_STATE_DIR, HULL_IP_FORWARD,
 * HULL_DEFAULT_NETWORK), so that concurrent test suites use private names and ranges.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readText } from '../files.js';
import { parseCidr } from './ipv4.js';

export interface NetworkConfig {
  /** The default network's bridge interface (Docker's docker0). */
  bridge: string;
  /** The default network's subnet. */
  subnet: string;
  /** Where `network create` without --subnet takes /24s from. */
  subnetPool: string;
  /** The nftables table (family ip) that holds all of hull's NAT. */
  nftTable: string;
  /**
   * Host-wide state of hull's bridges (leases, the lock over bridges and the nft table). Not under
   * --root or --run-root: a bridge and the nft table are host-wide, so every store on the host that
   * uses them must give addresses from the same place (src/network/leases.ts).
   */
  stateDir: string;
  /** The prefix of the bridges of user networks and of the host ends of veth pairs (≤ 5 characters). */
  ifPrefix: string;
  /** Turn net.ipv4.ip_forward on with the first bridge (outbound NAT needs it); tests turn it off. */
  ipForward: boolean;
  /** The network mode of containers run without --network: bridge, or none (hosts without iproute2/nftables). */
  defaultNetwork: string;
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  bridge: 'hull0',
  subnet: '10.88.0.0/16',
  subnetPool: '10.89.0.0/16',
  nftTable: 'hull',
  stateDir: '/run/hull-network',
  ifPrefix: 'hull',
  ipForward: true,
  defaultNetwork: 'bridge',
};

const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export function loadNetworkConfig(root: string, env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const file = path.join(root, 'network.json');
  const text = readText(file);
  let fromFile: Partial<NetworkConfig> = {};
  if (text !== undefined) {
    try {
      fromFile = JSON.parse(text) as Partial<NetworkConfig>;
    } catch (err) {
      throw new UsageError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
  }
  const c: NetworkConfig = { ...DEFAULT_NETWORK_CONFIG, ...fromFile };
  if (env.HULL_BRIDGE) c.bridge = env.HULL_BRIDGE;
  if (env.HULL_SUBNET) c.subnet = env.HULL_SUBNET;
  if (env.HULL_SUBNET_POOL) c.subnetPool = env.HULL_SUBNET_POOL;
  if (env.HULL_NFT_TABLE) c.nftTable = env.HULL_NFT_TABLE;
  if (env.HULL_IF_PREFIX) c.ifPrefix = env.HULL_IF_PREFIX;
  if (env.HULL_NET_STATE_DIR) c.stateDir = env.HULL_NET_STATE_DIR;
  if (env.HULL_DEFAULT_NETWORK) c.defaultNetwork = env.HULL_DEFAULT_NETWORK;
  if (env.HULL_IP_FORWARD !== undefined && env.HULL_IP_FORWARD !== '') c.ipForward = env.HULL_IP_FORWARD !== '0';
  if (!IFNAME.test(c.bridge)) throw new UsageError(`network config: bridge name '${c.bridge}' is not a valid interface name (1-15 of [a-zA-Z0-9_.-])`);
  if (!/^[a-zA-Z0-9]{1,5}$/.test(c.ifPrefix)) throw new UsageError(`network config: ifPrefix '${c.ifPrefix}' must be 1-5 letters or digits`);
  if (!/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/.test(c.nftTable)) throw new UsageError(`network config: nftTable '${c.nftTable}' is not a valid table name`);
  const stateDir: unknown = c.stateDir; // network.json's value, whatever its type
  if (typeof stateDir !== 'string' || !path.isAbsolute(stateDir))
    throw new UsageError(`network config: stateDir '${String(stateDir)}' must be an absolute path`);
  c.stateDir = path.normalize(c.stateDir);
  parseCidr(c.subnet);
  parseCidr(c.subnetPool);
  return c;
}
