/**
 * HTTP(S) for the registry client, on Node's own `http`/`https` modules rather than `fetch`:
 * a registry's CA files and client certificates (certs.d) and "insecure" are per-host TLS
 * settings, which `https.Agent` takes directly (fetch/undici would need the undici package for
 * a per-host dispatcher); a response body is an IncomingMessage that pipes straight into the
 * layer unpacker with backpressure; and an idle-socket timeout catches a stalled transfer at
 * any point, headers or body.
 */

import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { RegistryError } from '../errors.js';
import { proxyFor, type ProxySettings } from './proxy.js';

export interface TlsSettings {
  /** Extra CA certificates (PEM), added to Node's default roots. */
  ca?: Buffer[];
  /** Client certificate and key (PEM), for registries that ask for one. */
  cert?: Buffer;
  key?: Buffer;
  /** Skip certificate verification (registries the user marked insecure). */
  insecure?: boolean;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** A body: bytes, or a stream (give Content-Length in headers for a stream). */
  body?: Buffer | Readable;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, unread: read it, or destroy it. */
  body: IncomingMessage;
  url: URL;
}

/**
 * No byte in either direction for this long ends the request with a RegistryError (code
 * ETIMEDOUT). With `proxy`, requests go through the proxy the environment names for them
 * (./proxy.ts): https ones in a CONNECT tunnel with the registry's TLS settings, http ones as
 * absolute-form requests.
 */
export class Transport {
  private readonly agent: http.Agent | https.Agent;
  /** The registry's TLS settings as request options (they go with each request through a tunnel). */
  private readonly tlsOptions: Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;
  private readonly proxy: ProxySettings | undefined;
  private readonly proxyAgents = new Map<string, http.Agent>();
  readonly timeoutMs: number;
  readonly secure: boolean;

  constructor(options: { secure: boolean; tls?: TlsSettings; timeoutMs: number; proxy?: ProxySettings }) {
    this.secure = options.secure;
    this.timeoutMs = options.timeoutMs;
    this.proxy = options.proxy;
    if (options.secure) {
      const tls = options.tls ?? {};
      // Passing `ca` replaces Node's bundled roots: keep them, and add the registry's.
      const ca = tls.ca && tls.ca.length > 0 ? [...rootCertificates, ...tls.ca] : undefined;
      this.tlsOptions = {
        ...(ca ? { ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        rejectUnauthorized: !tls.insecure,
      };
      this.agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...this.tlsOptions });
    } else {
      this.tlsOptions = {};
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    }
  }

  /** One agent per proxy and target scheme, kept for the connections it pools. */
  private proxyAgent(proxy: URL, targetProtocol: string): http.Agent {
    const key = `${targetProtocol} ${proxy.href}`;
    let agent = this.proxyAgents.get(key);
    if (agent === undefined) {
      agent =
        targetProtocol === 'https:'
          ? new HttpsProxyAgent(proxy, { keepAlive: true, maxSockets: 8 })
          : new HttpProxyAgent(proxy, { keepAlive: true, maxSockets: 8 });
      this.proxyAgents.set(key, agent);
    }
    return agent;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const mod = req.url.protocol === 'https:' ? https : http;
    // A redirect to another host (a CDN) gets a plain agent with the default roots.
    const sameOrigin = (req.url.protocol === 'https:') === this.secure;
    const proxy = this.proxy === undefined ? undefined : proxyFor(req.url, this.proxy);
    const connection =
      proxy !== undefined
        ? { agent: this.proxyAgent(proxy, req.url.protocol), ...(sameOrigin ? this.tlsOptions : {}) }
        : sameOrigin
          ? { agent: this.agent }
          : {};
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = mod.request(req.url, {
        method: req.method,
        headers: { 'User-Agent': 'hull/0.1', ...req.headers },
        ...connection,
      });
      let response: IncomingMessage | undefined;
      r.setTimeout(this.timeoutMs, () => {
        const err = new RegistryError(
          `${req.method} ${req.url.host}${req.url.pathname}: no data for ${Math.round(this.timeoutMs / 1000)} s (connection stalled)`,
          { code: 'ETIMEDOUT' },
        );
        if (response) response.destroy(err);
        else r.destroy(err);
      });
      r.once('error', (err) => {
        if (response) response.destroy(err);
        else reject(err);
      });
      r.once('response', (res) => {
        response = res;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
      });
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        const body = req.body;
        body.once('error', (err) => r.destroy(err));
        body.pipe(r);
      }
    });
  }

  close(): void {
    this.agent.destroy();
    for (const agent of this.proxyAgents.values()) agent.destroy();
  }
}

/** Reads a response body fully, refusing more than `max` bytes. */
export async function readBody(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw new RegistryError(`${what}: ${declared} bytes is more than the ${max} allowed`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += (chunk as Buffer).length;
    if (n > max) {
      res.body.destroy();
      throw new RegistryError(`${what}: more than the ${max} bytes allowed`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and discards a body (so the connection can be reused); errors are ignored. */
export async function drain(res: HttpResponse): Promise<void> {
  try {
    for await (const _ of res.body) {
      // discard
    }
  } catch {
    // the connection is gone anyway
  }
}
