/**
 * `--network MODE` → a NetworkMode (Docker's HostConfig.NetworkMode string), `--add-host NAME:IP`
 * → an ExtraHost (an ExtraHosts entry).
 */
import { UsageError } from '../errors.js';
import type { NetworkMode } from '../network/container-config.js';
import type { ExtraHost } from '../network/hosts.js';
import { parseIp } from '../network/ipv4.js';

/** bridge (or default), none, host, container:NAME|ID, or a user network's name or id. */
export function parseNetworkMode(text: string): NetworkMode {
  if (text === 'bridge' || text === 'default') return { mode: 'bridge' };
  if (text === 'none' || text === 'host') return { mode: text };
  if (text.startsWith('container:')) {
    const container = text.slice('container:'.length);
    if (container === '') throw new UsageError(`invalid network mode ${text}: container: needs a container's name or id`);
    return { mode: 'container', container };
  }
  return { mode: 'network', network: text };
}

/**
 * `--link NAME[:ALIAS]` (moby's ParseLink): the container and the name it is known by in this one
 * (default its own name); Docker's `/NAME:/THIS/ALIAS` form (inspect's HostConfig.Links) too.
 */
export function parseLink(text: string): { container: string; alias: string } {
  if (text === '') throw new UsageError('invalid argument "" for "--link" flag: empty string specified for links');
  const parts = text.split(':');
  if (parts.length > 2) throw new UsageError(`invalid argument "${text}" for "--link" flag: bad format for links: ${text}`);
  if (parts.length === 1) return { container: text, alias: text };
  const [container, alias] = parts as [string, string];
  if (container.startsWith('/')) return { container: container.slice(1), alias: alias.slice(alias.lastIndexOf('/') + 1) };
  return { container, alias };
}

/** NAME:IP (the last colon separates them); IP an IPv4 address or host-gateway (the default bridge's address). */
export function parseExtraHost(text: string): ExtraHost {
  const i = text.lastIndexOf(':');
  if (i <= 0) throw new UsageError(`invalid --add-host ${text}: want NAME:IP`);
  const ip = text.slice(i + 1);
  if (ip !== 'host-gateway') parseIp(ip);
  return { host: text.slice(0, i), ip };
}
