/**
 * The Engine API's paths: `/v1.NN/…` (1.12 to 1.41, Docker 20.10's range) and unversioned ones,
 * each route a method and a template whose `{name}` parts are one path segment and `{name*}`
 * parts any number (image names have slashes: `/images/library/busybox/json`).
 */
import { UsageError } from '../errors.js';
import { API_VERSION, MIN_API_VERSION } from '../present/system-info.js';
import type { Exchange } from './exchange.js';

export type Handler = (ex: Exchange) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** The version of `/v1.40/…`, and the path without it; unversioned paths are the newest version. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  const cmp = (a: string, b: string) => {
    const [am, an] = a.split('.').map(Number) as [number, number];
    const [bm, bn] = b.split('.').map(Number) as [number, number];
    return am - bm || an - bn;
  };
  // Docker's middleware words.
  if (cmp(version, MIN_API_VERSION) < 0) {
    throw new UsageError(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (cmp(version, API_VERSION) > 0) throw new UsageError(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  return { version, path: m[2]! };
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): this {
    const keys: string[] = [];
    const source = template
      .split('/')
      .map((part) => {
        const m = /^\{(\w+)(\*?)\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  /** The route for a request and its parameters; undefined: Docker's 404 "page not found". */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    // HEAD is GET without a body (node:http drops the body of a HEAD answer).
    const wanted = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    for (const m of wanted) {
      for (const r of this.routes) {
        if (r.method !== m) continue;
        const hit = r.pattern.exec(path);
        if (!hit) continue;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(hit[i + 1]!)));
        return { handler: r.handler, params };
      }
    }
    return undefined;
  }
}
