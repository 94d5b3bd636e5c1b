/**
 * Registry credentials as Docker's clients send them: the `X-Registry-Auth` header (base64url of
 * an AuthConfig JSON, on pull and push) and `/auth`'s body (the AuthConfig itself), parsed here
 * into the library's Credentials. An AuthConfig with no credentials (the CLI sends `{}` when it
 * has none) is none: the server's own stored credentials are used then.
 */
import { UsageError } from '../errors.js';
import type { Credentials } from '../registry/index.js';

export interface AuthConfig {
  credentials: Credentials | undefined;
  /** `serveraddress`: the registry the credentials are for ('' when not given). */
  serverAddress: string;
}

const text = (v: unknown, name: string): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new UsageError(`${name} must be a string`);
  return v;
};

/** An AuthConfig object (`username`, `password` or `auth` = base64 `user:password`, `identitytoken`, `serveraddress`). */
export function parseAuthConfig(value: unknown, where: string): AuthConfig {
  if (value === undefined || value === null) return { credentials: undefined, serverAddress: '' };
  if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where}: a JSON object expected`);
  const o = value as Record<string, unknown>;
  if (text(o.registrytoken, `${where}: registrytoken`) !== '')
    throw new UsageError(`${where}: registrytoken is not used by hull: send a username and password`);
  let username = text(o.username, `${where}: username`);
  let password = text(o.password, `${where}: password`);
  const auth = text(o.auth, `${where}: auth`);
  if (auth !== '' && username === '' && password === '') {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new UsageError(`${where}: auth must be base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken = text(o.identitytoken, `${where}: identitytoken`);
  const serverAddress = text(o.serveraddress, `${where}: serveraddress`);
  if (username === '' && password === '' && identityToken === '') return { credentials: undefined, serverAddress };
  return { credentials: { username, password, ...(identityToken !== '' ? { identityToken } : {}) }, serverAddress };
}

/** The credentials an `X-Registry-Auth` header carries, if any. */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  let parsed: unknown;
  try {
    // Docker's CLI writes base64url with padding; Node's decoder takes either alphabet.
    parsed = JSON.parse(Buffer.from(header.trim(), 'base64url').toString('utf8'));
  } catch {
    throw new UsageError('X-Registry-Auth: base64url-encoded JSON expected');
  }
  return parseAuthConfig(parsed, 'X-Registry-Auth').credentials;
}
