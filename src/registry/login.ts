/**
 * `login` / `logout`: credentials checked against the registry (the token service's answer for
 * Bearer registries, `GET /v2/` for Basic ones) before they are stored in config.json or the
 * configured credential helper.
 */

import { RegistryAuthError, RegistryError, UsageError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../image/reference.js';
import { RegistryClient, errorText } from './client.js';
import { type Credentials, eraseCredentials, storeCredentials } from './credentials.js';
import { drain } from './http.js';
import { endpointFor, type RegistrySettings } from './settings.js';

/** `https://index.docker.io/v1/`, `registry-1.docker.io`, `localhost:5000/` → the registry as references name it. */
export function registryHost(input: string | undefined): string {
  if (input === undefined || input === '') return DEFAULT_DOMAIN;
  const host = input
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  if (host === '') throw new UsageError(`invalid registry "${input}"`);
  if (['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', 'docker.io'].includes(host)) return DEFAULT_DOMAIN;
  if (!/^(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::\d+)?$/.test(host)) throw new UsageError(`invalid registry "${input}"`);
  return host;
}

/** Credentials checked against the registry, then stored (config.json or its credential helper). */
export async function login(settings: RegistrySettings, registry: string, creds: Credentials): Promise<void> {
  await checkLogin(settings, registry, creds);
  await storeCredentials(settings.dockerConfigDir, registry, creds);
}

/** Credentials checked against the registry and not stored (the Engine API's `/auth`: the client keeps them). */
export async function checkLogin(settings: RegistrySettings, registry: string, creds: Credentials): Promise<void> {
  if (creds.username === '') throw new UsageError('login: a user name is required');
  if (creds.password === '') throw new UsageError('login: a password is required');
  const client = new RegistryClient(endpointFor(registry, settings, `login ${registry}`), settings, async () => creds);
  try {
    const res = await client.request({ method: 'GET', path: '/v2/' });
    if (res.status === 401 || res.status === 403) {
      const text = await errorText(res);
      throw new RegistryAuthError(`login to ${registry}: unauthorized: incorrect username or password${text ? ` (${text})` : ''}`, { status: res.status });
    }
    if (res.status !== 200) {
      const text = await errorText(res);
      throw new RegistryError(`login to ${registry}: GET /v2/ answered ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
    }
    await drain(res);
  } catch (err) {
    if (err instanceof RegistryAuthError && !err.message.startsWith('login')) {
      throw new RegistryAuthError(`login to ${registry}: unauthorized: incorrect username or password (${err.message})`, { status: err.status ?? 401 });
    }
    throw err;
  } finally {
    client.close();
  }
}

/** Removes stored credentials; false when there were none. */
export function logout(settings: RegistrySettings, registry: string): Promise<boolean> {
  return eraseCredentials(settings.dockerConfigDir, registry);
}
