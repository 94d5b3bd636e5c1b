/**
 * One registry's HTTP API (OCI distribution spec) for one or more repositories: finds the
 * scheme (HTTPS; HTTP only where the endpoint allows it and the server does not speak TLS),
 * answers the auth challenge of `GET /v2/` (Bearer tokens for the repositories' scopes from the
 * realm, anonymous or with credentials; or Basic), and retries what may be retried: connection
 * errors, 5xx and 429 (honouring Retry-After), with exponential backoff.
 */

import type { Readable } from 'node:stream';
import { RegistryAuthError, RegistryError } from '../errors.js';
import { type Challenge, parseChallenges } from './challenge.js';
import type { Credentials } from './credentials.js';
import { type HttpResponse, Transport, drain, readBody } from './http.js';
import type { Endpoint, RegistrySettings } from './settings.js';

export interface ClientRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload Location). */
  path: string;
  headers?: Record<string, string>;
  /** Makes the body; called again for each attempt. */
  body?: () => Buffer | Readable;
  /** Attempts after the first; default the settings'. */
  retries?: number;
}

const NETWORK_RETRYABLE = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'PREMATURE_END',
]);
const TLS_MISMATCH = /^(EPROTO|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_.*RECORD|ECONNRESET)$/;
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/;

export function isRetryable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NETWORK_RETRYABLE.has(code);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds or an HTTP date → milliseconds to wait (capped at 60 s), or undefined. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : undefined;
}

/** The registry's own error text (`{"errors":[{"code","message"}]}`), if it sent one. */
export async function errorText(res: HttpResponse): Promise<string> {
  if (res.body.readableEnded || res.status === 0) return '';
  let body: Buffer;
  try {
    body = await readBody(res, 64 * 1024, 'error body');
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const first = parsed.errors?.[0];
    if (first) {
      const code = first.code?.toLowerCase().replace(/_/g, ' ');
      return code && first.message && first.message.toLowerCase() !== code ? `${code}: ${first.message}` : (first.message ?? code ?? '');
    }
  } catch {
    // not JSON
  }
  return body.toString('utf8').trim().slice(0, 200);
}

const NETWORK_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the registry',
  EPIPE: 'connection closed by the registry',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  PREMATURE_END: 'connection closed before the end of the data',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the end of the data',
};

/** Why a request failed, in words (`connection refused`), looking through a wrapped error. */
export function networkReason(err: unknown): string {
  const inner = err instanceof RegistryError && err.cause !== undefined ? err.cause : err;
  if (inner instanceof RegistryError) return inner.message.replace(/^.*?: (?=no data for)/, '');
  const e = inner as NodeJS.ErrnoException;
  return NETWORK_TEXT[e.code ?? ''] ?? (e.message || String(inner));
}

/** A network error, said plainly: `cannot reach registry localhost:5000: connection refused`. */
export function networkError(err: unknown, where: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new RegistryError(`${where}: ${networkReason(err)}`, { code: code || 'REGISTRY', cause: err });
}

export class RegistryClient {
  readonly endpoint: Endpoint;
  private readonly settings: RegistrySettings;
  private readonly credentials: () => Promise<Credentials | undefined>;
  private transport: Transport | undefined;
  private base: URL | undefined;
  private challenge: Challenge | undefined;
  private readonly scopes = new Set<string>();
  private authHeader: string | undefined;
  private connecting: Promise<void> | undefined;

  constructor(endpoint: Endpoint, settings: RegistrySettings, credentials: () => Promise<Credentials | undefined>) {
    this.endpoint = endpoint;
    this.settings = settings;
    this.credentials = credentials;
  }

  /** Asks for `repository:NAME:ACTIONS` access from now on (token auth). */
  addScope(repository: string, actions: string): void {
    this.scopes.add(`repository:${repository}:${actions}`);
  }

  close(): void {
    this.transport?.close();
  }

  /**
   * `GET /v2/`: picks the scheme and reads the auth challenge, then authenticates for the
   * scopes asked for so far. Called by the first request; `login` calls it to check credentials.
   */
  connect(): Promise<void> {
    // Once per client, however many requests start at once.
    this.connecting ??= this.connectOnce().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async connectOnce(): Promise<void> {
    const { apiHost } = this.endpoint;
    const https = new Transport({ secure: true, tls: this.endpoint.tls, timeoutMs: this.settings.timeoutMs, proxy: this.settings.proxy });
    let res: HttpResponse;
    try {
      res = await this.pingWith(https, new URL(`https://${apiHost}/v2/`));
      this.transport = https;
      this.base = new URL(`https://${apiHost}`);
    } catch (err) {
      https.close();
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (CERT_ERROR.test(code)) {
        throw new RegistryError(
          `${apiHost}: TLS certificate not trusted (${code}): put the registry's CA in ${this.settings.certsDirs[0]}/${this.endpoint.registry}/ca.crt` +
            (this.endpoint.allowHttp ? '' : ', or mark the registry insecure (HULL_INSECURE_REGISTRIES)'),
          { code: 'CERTIFICATE', cause: err },
        );
      }
      // Plain HTTP only where allowed, and only when the server answered but not with TLS.
      if (!this.endpoint.allowHttp || !TLS_MISMATCH.test(code)) throw networkError(err, `cannot reach registry ${apiHost}`);
      const http = new Transport({ secure: false, timeoutMs: this.settings.timeoutMs, proxy: this.settings.proxy });
      try {
        res = await this.pingWith(http, new URL(`http://${apiHost}/v2/`));
      } catch (err2) {
        http.close();
        throw networkError(err2, `cannot reach registry ${apiHost}`);
      }
      this.transport = http;
      this.base = new URL(`http://${apiHost}`);
    }
    if (res.status === 401) {
      this.challenge = this.pickChallenge(res);
      await drain(res);
    } else if (res.status >= 200 && res.status < 300) {
      await drain(res);
    } else {
      const text = await errorText(res);
      throw new RegistryError(`${apiHost}: GET /v2/ answered ${res.status}${text ? `: ${text}` : ''} (not a registry?)`, { status: res.status });
    }
    await this.authenticate();
  }

  /** The ping, retried on connection errors other than a TLS mismatch (that decides the scheme). */
  private pingWith(transport: Transport, url: URL): Promise<HttpResponse> {
    return this.retrying(
      () => transport.request({ method: 'GET', url }),
      (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        const mismatch = url.protocol === 'https:' && TLS_MISMATCH.test(code) && code !== 'ECONNRESET';
        return !mismatch && isRetryable(err);
      },
      (err) => err,
    );
  }

  private pickChallenge(res: HttpResponse): Challenge | undefined {
    const header = headerOf(res, 'www-authenticate');
    if (header === undefined) return undefined;
    const all = parseChallenges(header);
    return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
  }

  private backoff(attempt: number): number {
    return Math.min(this.settings.backoffMs * 2 ** attempt, 8000);
  }

  /** Sets the Authorization header for the current challenge and scopes. */
  private async authenticate(): Promise<void> {
    const challenge = this.challenge;
    if (!challenge) {
      this.authHeader = undefined;
      return;
    }
    const creds = await this.credentials();
    const registry = this.endpoint.registry;
    if (challenge.scheme === 'basic') {
      if (!creds) throw new RegistryAuthError(`${registry}: authentication required: run hull login ${registry}`, { status: 401 });
      this.authHeader = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryAuthError(`${registry}: Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryAuthError(`${registry}: Bearer realm "${realm}" is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.base?.protocol === 'http:') && !this.endpoint.allowHttp) {
      throw new RegistryAuthError(`${registry}: refusing to send credentials to a plain-HTTP token realm ${realm}`);
    }
    const service = challenge.params.service;
    const scopes = [...this.scopes];
    let res: HttpResponse;
    const tokenTransport = new Transport({
      secure: url.protocol === 'https:',
      tls: this.endpoint.tls,
      timeoutMs: this.settings.timeoutMs,
      proxy: this.settings.proxy,
    });
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'hull', access_type: 'offline' });
        if (service) form.set('service', service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await this.withRetries(() =>
          tokenTransport.request({
            method: 'POST',
            url,
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: Buffer.from(form.toString()),
          }),
        );
      } else {
        if (service) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        if (creds) url.searchParams.set('account', creds.username);
        const headers: Record<string, string> = creds
          ? { Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` }
          : {};
        res = await this.withRetries(() => tokenTransport.request({ method: 'GET', url, headers }));
      }
      if (res.status === 401 || res.status === 403) {
        const text = await errorText(res);
        throw new RegistryAuthError(
          `${registry}: ${creds ? 'the token service refused the credentials' : 'authentication required'}${text ? ` (${text})` : ''}` +
            (creds ? '' : `: run hull login ${registry}`),
          { status: res.status },
        );
      }
      if (res.status !== 200) {
        const text = await errorText(res);
        throw new RegistryAuthError(`${registry}: token service ${url.host} answered ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
      }
      const body = await readBody(res, 1024 * 1024, 'token response');
      let token: unknown;
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
        token = parsed.token ?? parsed.access_token;
      } catch {
        token = undefined;
      }
      if (typeof token !== 'string' || token === '') throw new RegistryAuthError(`${registry}: token service ${url.host} sent no token`);
      this.authHeader = `Bearer ${token}`;
    } finally {
      tokenTransport.close();
    }
  }

  private withRetries(fn: () => Promise<HttpResponse>): Promise<HttpResponse> {
    return this.retrying(fn, isRetryable, (err) => networkError(err, `registry ${this.endpoint.apiHost}`));
  }

  /**
   * `fn` again, with backoff, on 5xx and 429 (Retry-After honoured) and on the connection errors
   * `retryable` accepts, up to the configured retries; other errors go through `fail`.
   */
  private async retrying(fn: () => Promise<HttpResponse>, retryable: (err: unknown) => boolean, fail: (err: unknown) => unknown): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fn();
        if ((res.status >= 500 || res.status === 429) && attempt < this.settings.retries) {
          await drain(res);
          await sleep(retryAfterMs(headerOf(res, 'retry-after')) ?? this.backoff(attempt));
          continue;
        }
        return res;
      } catch (err) {
        if (retryable(err) && attempt < this.settings.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw fail(err);
      }
    }
  }

  /** Absolute URL for a path under the registry, or an upload Location (absolute or relative). */
  url(pathOrUrl: string): URL {
    if (!this.base) throw new RegistryError('registry client used before connect()');
    return new URL(pathOrUrl, this.base);
  }

  /**
   * One request with auth, retries and redirects (GET/HEAD). A 401 is answered once by asking
   * for a new token with the scope the challenge names. The response's body is unread.
   */
  async request(req: ClientRequest): Promise<HttpResponse> {
    await this.connect();
    const transport = this.transport as Transport;
    const retries = req.retries ?? this.settings.retries;
    let url = this.url(req.path);
    let reauthenticated = false;
    let redirects = 0;
    for (let attempt = 0; ;) {
      const sameHost = url.host === this.base?.host;
      const headers: Record<string, string> = { ...req.headers };
      if (this.authHeader && sameHost) headers.Authorization = this.authHeader;
      let res: HttpResponse;
      try {
        res = await transport.request({ method: req.method, url, headers, ...(req.body ? { body: req.body() } : {}) });
      } catch (err) {
        if (isRetryable(err) && attempt < retries) {
          await sleep(this.backoff(attempt++));
          continue;
        }
        throw networkError(err, `${req.method} ${this.endpoint.apiHost}${url.pathname}`);
      }
      if (res.status === 401 && !reauthenticated) {
        reauthenticated = true;
        const challenge = this.pickChallenge(res);
        await drain(res);
        if (challenge) {
          this.challenge = challenge;
          const scope = challenge.params.scope;
          if (scope) for (const s of scope.split(' ')) this.scopes.add(s);
          await this.authenticate();
          continue;
        }
        res = await transport.request({ method: req.method, url, headers, ...(req.body ? { body: req.body() } : {}) });
      }
      if ((res.status >= 500 || res.status === 429) && attempt < retries) {
        const wait = retryAfterMs(headerOf(res, 'retry-after')) ?? this.backoff(attempt);
        await drain(res);
        attempt++;
        await sleep(wait);
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && (req.method === 'GET' || req.method === 'HEAD')) {
        const location = headerOf(res, 'location');
        await drain(res);
        if (!location || ++redirects > 5) throw new RegistryError(`${req.method} ${url.pathname}: too many or bad redirects`);
        url = new URL(location, url);
        continue;
      }
      return res;
    }
  }
}

export function headerOf(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
