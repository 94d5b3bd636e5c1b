/**
 * Where registry settings come from, and how a registry host maps to an endpoint:
 *
 * - Docker Hub (`docker.io`, the default) is served at `registry-1.docker.io`.
 * - HTTPS always, certificates verified against Node's roots plus the host's CA files in a
 *   certs.d directory laid out as Docker's: `<certs.d>/<host[:port]>/*.crt` (CAs),
 *   `*.cert` + `*.key` (a client certificate). Directories searched: `$HULL_CERTS_D` when set
 *   (colon-separated), else `/etc/hull/certs.d` then `/etc/docker/certs.d`.
 * - Plain HTTP only for loopback hosts (localhost, 127.0.0.0/8, ::1) and hosts marked insecure;
 *   those are tried over HTTPS first and fall back to HTTP when the server does not speak TLS.
 *   A host is marked insecure in `$HULL_INSECURE_REGISTRIES` (comma-separated `host[:port]`) or in
 *   `<root>/registries.json` `{"insecure": ["host:port"]}`; an insecure host's certificate is also
 *   not verified. Loopback HTTPS is verified.
 * - Blocked registries, as Podman's registries.conf `blocked = true`: nothing is pulled from,
 *   pushed to or logged into a host in `$HULL_BLOCKED_REGISTRIES` (comma-separated, `docker.io`
 *   for Docker Hub) or in `<root>/registries.json` `{"blocked": [...]}`. hull's tests block
 *   docker.io, so no test can reach Docker Hub by accident.
 * - Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, with Docker's (Go's) rules (./proxy.ts).
 * - Credentials: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
 * - `$HULL_REGISTRY_TIMEOUT` (seconds without a byte before a transfer counts as stalled, default
 *   30) and `$HULL_REGISTRY_RETRIES` (attempts after the first, default 4).
 */

import { readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { RegistryError, UsageError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../image/reference.js';
import type { TlsSettings } from './http.js';
import { hostnameOf, isLoopback } from './host.js';
import { proxySettings, type ProxySettings } from './proxy.js';

export { hostnameOf, isLoopback };

export const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';
/** The key Docker uses for Docker Hub in config.json `auths`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface RegistrySettings {
  certsDirs: string[];
  insecure: string[];
  /** Registries (as references name them: `docker.io`, `host:port`) that are never contacted. */
  blocked: string[];
  /** HTTP(S)_PROXY and NO_PROXY (./proxy.ts). */
  proxy: ProxySettings;
  dockerConfigDir: string;
  timeoutMs: number;
  retries: number;
  /** First retry's delay; doubled each time (capped at 8 s). */
  backoffMs: number;
  /** Layers downloaded (and uploaded) at once. */
  concurrency: number;
  /** Upload blobs larger than this in chunks of this size (PATCH); default 64 MiB. */
  chunkSize: number;
}

function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name}=${v}: expected a non-negative number`);
  return n;
}

/** The list `key` of `<root>/registries.json` (absent file or key: none). */
function listFromFile(root: string, key: 'insecure' | 'blocked'): string[] {
  const file = path.join(root, 'registries.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  const list = (parsed as Record<string, unknown>)[key];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) {
    throw new UsageError(`${file}: "${key}" must be a list of host[:port] strings`);
  }
  return list;
}

function listFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function registrySettings(root: string, overrides: Partial<RegistrySettings> = {}, env: NodeJS.ProcessEnv = process.env): RegistrySettings {
  const certsEnv = env.HULL_CERTS_D;
  return {
    certsDirs: certsEnv ? certsEnv.split(':').filter(Boolean) : ['/etc/hull/certs.d', '/etc/docker/certs.d'],
    insecure: [...listFromEnv(env.HULL_INSECURE_REGISTRIES), ...listFromFile(root, 'insecure')],
    blocked: [...listFromEnv(env.HULL_BLOCKED_REGISTRIES), ...listFromFile(root, 'blocked')],
    proxy: proxySettings(env),
    dockerConfigDir: env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker'),
    timeoutMs: envNumber('HULL_REGISTRY_TIMEOUT', 30, env) * 1000,
    retries: Math.floor(envNumber('HULL_REGISTRY_RETRIES', 4, env)),
    backoffMs: 250,
    concurrency: 3,
    chunkSize: envNumber('HULL_PUSH_CHUNK_SIZE', 64 * 1024 * 1024, env),
    ...overrides,
  };
}

export interface Endpoint {
  /** The registry as references name it: `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** host[:port] the API is served on: `registry-1.docker.io`, `localhost:5000`. */
  readonly apiHost: string;
  /** Plain HTTP may be used (after HTTPS is refused by the server). */
  readonly allowHttp: boolean;
  readonly tls: TlsSettings;
}

/**
 * The endpoint of a registry (domain of a reference), with its TLS material from certs.d.
 * `purpose` (`pull busybox:latest`) starts the message of the error for a blocked registry.
 */
export function endpointFor(registry: string, settings: RegistrySettings, purpose?: string): Endpoint {
  const blocked = settings.blocked.map((b) => (b === 'index.docker.io' || b === DOCKER_HUB_ENDPOINT ? DEFAULT_DOMAIN : b));
  if (blocked.includes(registry)) {
    const why = `registry ${registry} is blocked (HULL_BLOCKED_REGISTRIES or registries.json "blocked")`;
    throw new RegistryError(purpose ? `${purpose}: ${why}` : why, { code: 'REGISTRY_BLOCKED' });
  }
  const apiHost = registry === DEFAULT_DOMAIN ? DOCKER_HUB_ENDPOINT : registry;
  const insecure = settings.insecure.includes(registry) || settings.insecure.includes(hostnameOf(registry));
  const tls: TlsSettings = { insecure };
  for (const dir of settings.certsDirs) {
    const hostDir = path.join(dir, registry);
    let names: string[];
    try {
      names = readdirSync(hostDir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(hostDir, name);
      if (name.endsWith('.crt')) (tls.ca ??= []).push(readFileSync(file));
      else if (name.endsWith('.cert')) {
        const key = path.join(hostDir, `${name.slice(0, -'.cert'.length)}.key`);
        tls.cert = readFileSync(file);
        try {
          tls.key = readFileSync(key);
        } catch {
          throw new UsageError(`${file}: client certificate without its key ${key}`);
        }
      }
    }
    break; // the first directory that has the host wins, as in Docker
  }
  return { registry, apiHost, allowHttp: insecure || isLoopback(registry), tls };
}
