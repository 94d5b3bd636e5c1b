/**
 * HTTP proxies for registry traffic, from the environment, with the rules of Go's
 * golang.org/x/net/http/httpproxy (what Docker and containerd use), so one set of variables
 * means the same to hull as to them:
 *
 * - `HTTPS_PROXY` / `https_proxy` for https URLs, `HTTP_PROXY` / `http_proxy` for http URLs (the
 *   upper-case name first); a proxy without a scheme is `http://`; `http://` and `https://`
 *   proxies only (a `socks5://` one is an error that says so).
 * - `NO_PROXY` / `no_proxy`, comma-separated: `*` (nothing proxied), an IP address, a CIDR
 *   block, or a host name — `example.com` matches it and its subdomains, `.example.com` and
 *   `*.example.com` only its subdomains — each optionally with `:port`.
 * - Loopback (`localhost`, 127.0.0.0/8, ::1) is never proxied.
 *
 * https traffic goes through the proxy in a CONNECT tunnel (TLS end to end, with the registry's
 * certs.d material); http traffic as absolute-form requests (src/registry/http.ts).
 */

import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { isLoopback } from './host.js';

export interface ProxySettings {
  readonly http?: URL;
  readonly https?: URL;
  readonly noProxy: readonly string[];
}

function proxyUrl(name: string, value: string): URL {
  const text = value.includes('://') ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${name}=${value}: not a proxy URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${name}=${value}: only http:// and https:// proxies are supported`);
  }
  return url;
}

function fromEnv(env: NodeJS.ProcessEnv, upper: string): [string, string] | undefined {
  for (const name of [upper, upper.toLowerCase()]) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return undefined;
}

export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const http = fromEnv(env, 'HTTP_PROXY');
  const https = fromEnv(env, 'HTTPS_PROXY');
  const noProxy = fromEnv(env, 'NO_PROXY')?.[1] ?? '';
  return {
    ...(http ? { http: proxyUrl(...http) } : {}),
    ...(https ? { https: proxyUrl(...https) } : {}),
    noProxy: noProxy
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
  };
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** `host[:port]` of a NO_PROXY entry (an IPv6 address may come bracketed). */
function splitEntry(entry: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] as string, ...(bracketed[2] ? { port: bracketed[2] } : {}) };
  if (isIP(entry) === 6) return { host: entry };
  const colon = entry.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(entry.slice(colon + 1)) ? { host: entry.slice(0, colon), port: entry.slice(colon + 1) } : { host: entry };
}

/** Whether NO_PROXY exempts `host` (lower-case, no brackets) on `port`. */
function exempt(host: string, port: string, noProxy: readonly string[]): boolean {
  const ipFamily = isIP(host);
  for (const entry of noProxy) {
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const [base, bits] = entry.split('/') as [string, string];
      const family = isIP(base);
      if (family === 0 || ipFamily !== family) continue;
      const list = new BlockList();
      try {
        list.addSubnet(base, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue; // not a valid CIDR block: ignored, as Go does
      }
      if (list.check(host, family === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    const { host: name, port: entryPort } = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (isIP(name) !== 0) {
      if (name === host) return true;
      continue;
    }
    if (name.startsWith('*.') || name.startsWith('.')) {
      if (host.endsWith(name.slice(name.indexOf('.')))) return true;
    } else if (host === name || host.endsWith(`.${name}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy for `url`, or undefined to connect directly. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : url.protocol === 'http:' ? settings.http : undefined;
  if (proxy === undefined) return undefined;
  if (isLoopback(url.hostname)) return undefined;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (exempt(host, defaultPort(url), settings.noProxy)) return undefined;
  return proxy;
}
