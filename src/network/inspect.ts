/**
 * Networking in Docker's shapes: `network inspect`, a container's NetworkSettings and the network
 * part of its HostConfig, and `hull port`. Read only.
 */
import { createHash } from 'node:crypto';
import { recordExtraHosts } from './container-config.js';
import type { NetworkedContainer } from './container-spec.js';
import { parseCidr } from './ipv4.js';
import type { PortMapping } from './nft.js';
import type { NetworkPlumbing } from './plumbing.js';

/** A container's endpoint on a network, named as Docker names one (64 hex digits): stable for the pair, the same in both inspects. */
function endpointId(container: string, networkId: string): string {
  return createHash('sha256').update(`${container}/${networkId}`).digest('hex');
}

/** Docker's `network inspect` shape. */
export function inspectNetwork(p: NetworkPlumbing, nameOrId: string, containerName: (id: string) => string | undefined): Record<string, unknown> {
  const net = p.store.get(nameOrId);
  const containers: Record<string, unknown> = {};
  for (const l of p.ownLeases(net)) {
    const state = p.readState(l.container);
    const it = state?.interfaces.find((i) => i.network === net.name);
    containers[l.container] = {
      Name: containerName(l.container) ?? l.name,
      EndpointID: endpointId(l.container, net.id),
      MacAddress: '',
      IPv4Address: `${l.ip}/${it?.prefix ?? parseCidr(net.subnet).prefix}`,
      IPv6Address: '',
    };
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: net.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: net.subnet, Gateway: net.gateway, ...(net.ipRange ? { IPRange: net.ipRange } : {}) }] },
    Internal: net.internal === true,
    Attachable: net.attachable === true,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...net.options, 'com.docker.network.bridge.name': net.bridge },
    Labels: net.labels ?? {},
  };
}

/** Docker's NetworkSettings for inspect. */
export function networkSettings(p: NetworkPlumbing, record: NetworkedContainer): Record<string, unknown> {
  const state = record.state.status === 'running' || record.state.status === 'restarting' ? p.readState(record.id) : undefined;
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const e of record.network?.exposed ?? []) ports[e] = null;
  for (const m of state?.ports ?? []) {
    const key = `${m.containerPort}/${m.proto}`;
    (ports[key] ??= []).push({ HostIp: m.hostIp || '0.0.0.0', HostPort: String(m.hostPort) });
  }
  const networks: Record<string, unknown> = {};
  for (const name of record.network?.networks ?? []) {
    const it = state?.interfaces.find((i) => i.network === name);
    const asked = (name === record.network?.networks[0] ? record.network?.ip : undefined) ?? record.network?.ips?.[name];
    networks[name] = {
      IPAMConfig: asked !== undefined ? { IPv4Address: asked } : null,
      Aliases: record.network?.aliases[name] ?? null,
      NetworkID: it?.networkId ?? '',
      EndpointID: it ? endpointId(record.id, it.networkId) : '',
      Gateway: it?.gateway ?? '',
      IPAddress: it?.ip ?? '',
      IPPrefixLen: it?.prefix ?? 0,
      MacAddress: it && it === state?.interfaces[0] ? (record.network?.macAddress ?? '') : '',
    };
  }
  const first = state?.interfaces[0];
  return {
    SandboxKey: state?.netns ?? '',
    Ports: ports,
    Networks: networks,
    Gateway: first?.gateway ?? '',
    IPAddress: first?.ip ?? '',
    IPPrefixLen: first?.prefix ?? 0,
    MacAddress: first ? (record.network?.macAddress ?? '') : '',
  };
}

/** inspect's NetworkSettings, and HostConfig with NetworkMode, PortBindings, Dns, ExtraHosts. */
export function inspectFields(
  p: NetworkPlumbing,
  record: NetworkedContainer,
  hostConfig: unknown,
): { NetworkSettings: Record<string, unknown>; HostConfig: Record<string, unknown> } {
  const cfg = record.network;
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of cfg?.ports ?? []) {
    (bindings[`${port.containerPort}/${port.proto}`] ??= []).push({ HostIp: port.hostIp, HostPort: port.hostPort === 0 ? '' : String(port.hostPort) });
  }
  return {
    NetworkSettings: networkSettings(p, record),
    HostConfig: {
      ...(hostConfig as Record<string, unknown>),
      NetworkMode: cfg?.mode ?? 'none',
      PortBindings: bindings,
      PublishAllPorts: cfg?.publishAll ?? false,
      Dns: cfg?.dns ?? [],
      DnsSearch: cfg?.dnsSearch ?? [],
      DnsOptions: cfg?.dnsOptions ?? [],
      ExtraHosts: cfg ? recordExtraHosts(cfg).map((h) => `${h.host}:${h.ip}`) : null,
    },
  };
}

/** `hull port`: the published ports of a running container. */
export function publishedPorts(p: NetworkPlumbing, record: NetworkedContainer): PortMapping[] {
  if (record.state.status !== 'running') return [];
  return p.readState(record.id)?.ports ?? [];
}
