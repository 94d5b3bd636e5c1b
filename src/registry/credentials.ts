/**
 * Registry credentials as Docker keeps them, in `config.json` (`$DOCKER_CONFIG` or ~/.docker):
 *
 *   { "auths": { "HOST": { "auth": base64("user:password") [, "identitytoken": "…"] } },
 *     "credsStore": "NAME",                  all hosts through docker-credential-NAME
 *     "credHelpers": { "HOST": "NAME" } }    one host through docker-credential-NAME
 *
 * A helper is run as `docker-credential-NAME get|store|erase` with the server on stdin (JSON for
 * store), as docker/docker-credential-helpers defines. Docker Hub's key is
 * `https://index.docker.io/v1/`. Other keys in the file are kept as they are when hull writes it.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RegistryAuthError, UsageError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../image/reference.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { DOCKER_HUB_AUTH_KEY } from './settings.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token (Docker's identitytoken), used instead of the password for tokens. */
  identityToken?: string;
}

export interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** The config.json key for a registry: Docker Hub's legacy URL, else the host. */
export function authKey(registry: string): string {
  return registry === DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : registry;
}

/** `https://host/v2/`, `http://host`, `host/` → `host` (keys written by other tools). */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

export function readDockerConfig(dir: string): DockerConfig {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${file}: expected a JSON object`);
  return parsed as DockerConfig;
}

export async function writeDockerConfig(dir: string, config: DockerConfig): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(dir, path.join(dir, 'config.json'), `${JSON.stringify(config, null, '\t')}\n`, 0o600);
}

/** The helper for a registry: credHelpers first, then credsStore. */
export function helperFor(config: DockerConfig, registry: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  return helpers[authKey(registry)] ?? helpers[registry] ?? config.credsStore ?? undefined;
}

function fromAuthEntry(entry: { auth?: string; identitytoken?: string; username?: string; password?: string }, where: string): Credentials | undefined {
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new UsageError(`${where}: "auth" is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (username === '' && !entry.identitytoken) return undefined;
  return { username, password, ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}) };
}

/** Runs `docker-credential-NAME VERB` with `input` on stdin; its stdout. */
export function runHelper(name: string, verb: 'get' | 'store' | 'erase', input: string): Promise<{ code: number; stdout: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(new UsageError(`credential helper name "${name}" is not valid`));
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RegistryAuthError(`credential helper ${program}: ${err.code === 'ENOENT' ? 'not found in PATH' : err.message}`)),
    );
    child.once('close', (code) => {
      if (code !== 0 && !(verb !== 'store' && /credentials not found/i.test(stdout + stderr))) {
        reject(new RegistryAuthError(`credential helper ${program} ${verb}: ${(stdout + stderr).trim() || `exit status ${code}`}`));
      } else resolve({ code: code ?? 1, stdout });
    });
    child.stdin.end(input);
  });
}

/** The stored credentials for a registry, or undefined (anonymous). */
export async function getCredentials(dir: string, registry: string): Promise<Credentials | undefined> {
  const config = readDockerConfig(dir);
  const helper = helperFor(config, registry);
  if (helper !== undefined) {
    const { code, stdout } = await runHelper(helper, 'get', authKey(registry));
    if (code !== 0) return undefined;
    let parsed: { Username?: unknown; Secret?: unknown };
    try {
      parsed = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
    } catch {
      throw new RegistryAuthError(`credential helper docker-credential-${helper} get: output is not JSON`);
    }
    if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string') {
      throw new RegistryAuthError(`credential helper docker-credential-${helper} get: expected {"Username","Secret"}`);
    }
    // Docker's convention: the user name <token> means the secret is an identity token.
    return parsed.Username === '<token>'
      ? { username: '', password: '', identityToken: parsed.Secret }
      : { username: parsed.Username, password: parsed.Secret };
  }
  const auths = config.auths ?? {};
  const key = authKey(registry);
  const where = `${path.join(dir, 'config.json')} auths["${key}"]`;
  if (auths[key]) return fromAuthEntry(auths[key], where);
  for (const [k, entry] of Object.entries(auths)) {
    if (keyHost(k) === registry || (registry === DEFAULT_DOMAIN && /(^|\.)docker\.io$/.test(keyHost(k)))) {
      return fromAuthEntry(entry, `${path.join(dir, 'config.json')} auths["${k}"]`);
    }
  }
  return undefined;
}

/** Stores credentials (through the registry's helper when config.json names one). */
export async function storeCredentials(dir: string, registry: string, creds: Credentials): Promise<void> {
  const config = readDockerConfig(dir);
  const helper = helperFor(config, registry);
  const key = authKey(registry);
  if (helper !== undefined) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }));
    // An entry with no secret tells Docker (and hull) that credentials exist for the host.
    config.auths = { ...(config.auths ?? {}), [key]: {} };
  } else {
    const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    config.auths = { ...(config.auths ?? {}), [key]: { auth } };
  }
  await writeDockerConfig(dir, config);
}

/** Removes stored credentials; false when there were none. */
export async function eraseCredentials(dir: string, registry: string): Promise<boolean> {
  const config = readDockerConfig(dir);
  const helper = helperFor(config, registry);
  const key = authKey(registry);
  let found = false;
  if (helper !== undefined) {
    const { code } = await runHelper(helper, 'erase', key);
    found = code === 0;
  }
  const all = Object.entries(config.auths ?? {});
  const auths = Object.fromEntries(all.filter(([k]) => k !== key && keyHost(k) !== registry));
  if (Object.keys(auths).length < all.length) found = true;
  if (found) await writeDockerConfig(dir, { ...config, auths });
  return found;
}
