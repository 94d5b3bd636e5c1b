/**
 * hull's nftables table (family ip; its name is configurable): all NAT for every hull network.
 *
 *   prerouting/output (nat)  fib daddr type local → ports: DNAT through two maps
 *     ports_ip   { host ip . proto . host port : container ip . container port }   (-p IP:H:C)
 *     ports_any  { proto . host port : container ip . container port }             (-p H:C)
 *   postrouting (nat)
 *     to a hull bridge from 127.0.0.0/8 → masquerade  (published ports on loopback: the bridges
 *        have route_localnet, and the container answers the bridge's address, not 127.0.0.1)
 *     to a hull bridge, DNATed, from a hull subnet → masquerade  (hairpin: a container to a
 *        published port of the host)
 *     from a hull subnet out of any other interface → masquerade  (outbound NAT)
 *
 *   forward (filter)
 *     into or out of an internal network's bridge (`internal`) from or to anything but an internal
 *        bridge → drop  (Docker's `--internal`: its containers reach each other, on the bridge, and
 *        nothing else; nor are their ports published. With br_netfilter, frames between two ports of
 *        one bridge come here too; two internal bridges are kept apart by `isolated`)
 *     a connection to a published port (DNATed) → accept
 *     from one hull bridge to another → drop  (networks are isolated from each other, as
 *        Docker's are; `isolated` holds both orders of every pair of the table's bridges)
 *
 * Networks and published ports are set and map elements: adding or removing one is one small
 * transaction, and the rules never change after the table is made. The table is host-wide: every
 * hull store on the host configured with its name shares it, so what one store adds or takes away
 * is only its own elements, and the table goes only with the last bridge in its `bridges` set.
 */
import { nft, nftQuery, tryNft } from './commands.js';

export interface PortMapping {
  proto: 'tcp' | 'udp';
  /** '' for every host address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export function tableScript(table: string): string {
  const t = `ip ${table}`;
  return (
    [
      `add table ${t}`,
      `add set ${t} bridges { type ifname; }`,
      `add set ${t} subnets { type ipv4_addr; flags interval; }`,
      `add set ${t} isolated { type ifname . ifname; }`,
      `add set ${t} internal { type ifname; }`,
      `add map ${t} ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }`,
      `add map ${t} ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }`,
      `add chain ${t} prerouting { type nat hook prerouting priority dstnat; }`,
      `add chain ${t} output { type nat hook output priority -100; }`,
      `add chain ${t} postrouting { type nat hook postrouting priority srcnat; }`,
      `add chain ${t} ports`,
      `add chain ${t} forward { type filter hook forward priority filter; }`,
      ...['prerouting', 'output', 'postrouting', 'ports', 'forward'].map((c) => `flush chain ${t} ${c}`),
      `add rule ${t} prerouting fib daddr type local jump ports`,
      `add rule ${t} output fib daddr type local jump ports`,
      `add rule ${t} ports dnat ip to ip daddr . meta l4proto . th dport map @ports_ip`,
      `add rule ${t} ports dnat ip to meta l4proto . th dport map @ports_any`,
      `add rule ${t} postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade`,
      `add rule ${t} postrouting oifname @bridges ct status dnat ip saddr @subnets masquerade`,
      `add rule ${t} postrouting ip saddr @subnets oifname != @bridges masquerade`,
      `add rule ${t} forward iifname @internal oifname != @internal drop`,
      `add rule ${t} forward oifname @internal iifname != @internal drop`,
      `add rule ${t} forward ct status dnat accept`,
      `add rule ${t} forward iifname . oifname @isolated drop`,
    ].join('\n') + '\n'
  );
}

function pairs(bridge: string, others: readonly string[]): string {
  return others.flatMap((o) => [`"${bridge}" . "${o}"`, `"${o}" . "${bridge}"`]).join(', ');
}

/** Make (or re-make) the table and add a network's bridge and subnet to it, isolated from `others` (the table's other bridges). */
export function addNetwork(table: string, bridge: string, subnet: string, others: readonly string[], internal = false): void {
  const isolate = others.length > 0 ? `add element ip ${table} isolated { ${pairs(bridge, others)} }\n` : '';
  const inside = internal ? `add element ip ${table} internal { "${bridge}" }\n` : '';
  nft(
    `${tableScript(table)}add element ip ${table} bridges { "${bridge}" }\nadd element ip ${table} subnets { ${subnet} }\n${isolate}${inside}`,
    `nftables table ${table}: add network ${bridge}`,
  );
}

/** The bridges in the table's `bridges` set (every store's); [] when there is no table. */
export function tableBridges(table: string): string[] {
  const out = nftQuery(['-j', 'list', 'set', 'ip', table, 'bridges']);
  return out === undefined ? [] : setElements(out);
}

/** The elements of a set in `nft -j list set` output. */
export function setElements(json: string): string[] {
  const doc = JSON.parse(json) as { nftables?: { set?: { elem?: unknown } }[] };
  const elem = doc.nftables?.find((e) => e.set !== undefined)?.set?.elem;
  const list = Array.isArray(elem) ? elem : elem === undefined ? [] : [elem];
  return list.filter((e): e is string => typeof e === 'string');
}

/** Take a network out of the table; the whole table goes with the last one (`others`: the table's other bridges, of every store). */
export function removeNetwork(table: string, bridge: string, subnet: string, others: readonly string[], internal = false): void {
  if (others.length === 0) {
    tryNft(`delete table ip ${table}\n`);
    return;
  }
  tryNft(`delete element ip ${table} bridges { "${bridge}" }\n`);
  if (internal) tryNft(`delete element ip ${table} internal { "${bridge}" }\n`);
  tryNft(`delete element ip ${table} subnets { ${subnet} }\n`);
  if (!tryNft(`delete element ip ${table} isolated { ${pairs(bridge, others)} }\n`)) {
    for (const o of others) tryNft(`delete element ip ${table} isolated { ${pairs(bridge, [o])} }\n`);
  }
}

function key(p: PortMapping): string {
  return p.hostIp ? `${p.hostIp} . ${p.proto} . ${p.hostPort}` : `${p.proto} . ${p.hostPort}`;
}

function element(p: PortMapping): string {
  return `${key(p)} : ${p.containerIp} . ${p.containerPort}`;
}

const mapOf = (p: PortMapping) => (p.hostIp ? 'ports_ip' : 'ports_any');

export function publishScript(table: string, ports: readonly PortMapping[]): string {
  return ports.map((p) => `add element ip ${table} ${mapOf(p)} { ${element(p)} }\n`).join('');
}

/** Publish ports: one transaction; a host port already published by hull fails it whole. */
export function publish(table: string, ports: readonly PortMapping[]): void {
  if (ports.length === 0) return;
  nft(publishScript(table, ports), 'publish ports (is a host port already published by another container?)');
}

/** Withdraw ports; ones already gone (a flushed table) are skipped. */
export function unpublish(table: string, ports: readonly PortMapping[]): void {
  if (ports.length === 0) return;
  const lines = ports.map((p) => `delete element ip ${table} ${mapOf(p)} { ${key(p)} }\n`);
  if (tryNft(lines.join(''))) return;
  for (const line of lines) tryNft(line);
}
