/**
 * A container's /etc/hosts and /etc/resolv.conf, as Docker writes them. Names on user networks
 * are maintained /etc/hosts entries rather than an embedded DNS server: hull has no daemon to
 * host a resolver, a file needs no process per container, and every libc and busybox reads it.
 * The part after PEERS_MARKER is rewritten (in place: the file is bind-mounted, and a rename
 * would leave the container with the old inode) whenever a container joins or leaves a network.
 */
export const PEERS_MARKER = '# hull: containers on the same networks';

/** An /etc/hosts entry of `--add-host NAME:IP` (Docker's HostConfig.ExtraHosts). */
export interface ExtraHost {
  host: string;
  /** An IPv4 address, or 'host-gateway': the default bridge's address. */
  ip: string;
}

export interface HostsInput {
  hostname: string;
  /** The container's own addresses (its hostname resolves to them), first one first. */
  ips: string[];
  /** `--add-host` entries, host-gateway resolved. */
  extra: ExtraHost[];
}

export function hostsHead(input: HostsInput): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of input.extra) lines.push(`${entry.ip}\t${entry.host}`);
  if (input.ips.length > 0) for (const ip of input.ips) lines.push(`${ip}\t${input.hostname}`);
  else lines.push(`127.0.1.1\t${input.hostname}`);
  return lines.join('\n') + '\n';
}

export interface Peer {
  ip: string;
  names: string[];
}

/** The file with its peers' part replaced. */
export function withPeers(current: string, peers: readonly Peer[]): string {
  const at = current.indexOf(PEERS_MARKER);
  const head = at < 0 ? current : current.slice(0, at);
  if (peers.length === 0) return head;
  return `${head}${PEERS_MARKER}\n${peers.map((p) => `${p.ip}\t${p.names.join(' ')}`).join('\n')}\n`;
}

export interface ResolvOptions {
  dns: string[];
  search: string[];
  options: string[];
}

/** Docker's rules: --dns/--dns-search/--dns-option replace the host's; loopback nameservers are dropped. */
export function resolvConf(host: string, opts: ResolvOptions): string {
  let lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l));
  if (opts.dns.length > 0) lines = lines.filter((l) => !/^\s*nameserver\s/.test(l)).concat(opts.dns.map((d) => `nameserver ${d}`));
  if (opts.search.length > 0) lines = lines.filter((l) => !/^\s*(search|domain)\s/.test(l)).concat([`search ${opts.search.join(' ')}`]);
  if (opts.options.length > 0) lines = lines.filter((l) => !/^\s*options\s/.test(l)).concat([`options ${opts.options.join(' ')}`]);
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.filter((l) => l.trim() !== '').join('\n') + '\n';
}
