/**
 * `hull system service`: the Docker Engine API (v1.41, Docker 20.10's) on a unix socket, one Node
 * process, async all the way. The server holds no container state (the store and the monitors do;
 * it is never a container's parent): restarting it leaves every container running, and the new
 * one sees them all. What it holds is about connections (src/api/sessions.ts).
 *
 * Idle exit (`idleSeconds`, Podman's `--time`, default 5): the server ends when no connection has
 * been open for that long; 0 serves until closed. Under socket activation systemd starts it again
 * on the next connection, so an idle server costs nothing.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rmSync } from 'node:fs';
import type { Hull } from '../hull.js';
import { type Exchange, HttpExchange, UpgradeExchange } from './exchange.js';
import { type ApiTls, type ListenAddress, listenOn } from './listen.js';
import { Router, splitVersion } from './router.js';
import { ApiSessions } from './sessions.js';
import { failureOf } from './status.js';
import { buildRoutes } from './routes/build.js';
import { containerRoutes } from './routes/containers.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { networkRoutes } from './routes/networks.js';
import { systemRoutes } from './routes/system.js';

export interface ApiServiceOptions {
  address: ListenAddress;
  /** Seconds without a connection before the server ends; 0: never. */
  idleSeconds: number;
  /** The unix socket's group (default: root's). */
  gid?: number;
  /** TLS on a TCP address (checked by checkTcp first). */
  tls?: ApiTls;
}

export interface ApiService {
  /** Resolves when the server has stopped (idle, or close()). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Every route of the API, in one router. */
export function apiRouter(sessions: ApiSessions): Router {
  const router = new Router();
  systemRoutes(router, sessions);
  imageRoutes(router, sessions);
  buildRoutes(router, sessions);
  containerRoutes(router, sessions);
  execRoutes(router, sessions);
  networkRoutes(router, sessions);
  return router;
}

/** Runs one exchange: its route, or Docker's 404; a failure becomes `{"message"}` with the status of status.ts. */
async function dispatch(router: Router, ex: Exchange, rawPath: string, abort: () => void): Promise<void> {
  try {
    const { path } = splitVersion(rawPath);
    const route = router.match(ex.method, path);
    if (!route) {
      ex.reply(404, { message: 'page not found' });
      return;
    }
    ex.params = route.params;
    await route.handler(ex);
  } catch (err) {
    const failure = failureOf(err);
    if (!ex.started) ex.reply(failure.status, failure.status === 304 ? undefined : { message: failure.message });
    else abort(); // the answer was under way: the client sees it cut
  }
}

function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const u = new URL(url ?? '/', 'http://hull');
  return { path: u.pathname, query: u.searchParams };
}

export async function serveApi(hull: Hull, opts: ApiServiceOptions): Promise<ApiService> {
  const sessions = new ApiSessions(hull);
  const router = apiRouter(sessions);
  const server = opts.tls
    ? https.createServer({
        cert: opts.tls.cert,
        key: opts.tls.key,
        ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
        requestCert: opts.tls.verifyClients,
        rejectUnauthorized: opts.tls.verifyClients,
        minVersion: 'TLSv1.2',
        // As node:http's own server: a hijacked client ends its side (the docker CLI does at once) and still reads the output.
        allowHalfOpen: true,
      })
    : http.createServer();
  const open = new Set<Socket | Duplex>();
  let idle: NodeJS.Timeout | undefined;
  let stopped!: () => void;
  const closed = new Promise<void>((resolve) => (stopped = resolve));

  const close = async (): Promise<void> => {
    clearTimeout(idle);
    sessions.autoRemovals.close();
    sessions.loopDelay.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of open) s.destroy();
    });
    if (opts.address.kind === 'unix') rmSync(opts.address.path, { force: true });
    stopped();
  };
  const arm = () => {
    clearTimeout(idle);
    if (opts.idleSeconds > 0 && open.size === 0) idle = setTimeout(() => void close(), opts.idleSeconds * 1000);
  };

  server.on('connection', (socket: Socket) => {
    open.add(socket);
    clearTimeout(idle);
    socket.once('close', () => {
      open.delete(socket);
      arm();
    });
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const { path, query } = splitUrl(req.url);
    const ex = new HttpExchange(req, res, path, query);
    void dispatch(router, ex, path, () => res.destroy());
  });
  // Docker's hijacked streams (attach, exec start) come as `Upgrade: tcp`: the socket is the route's.
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const { path, query } = splitUrl(req.url);
    const ex = new UpgradeExchange(req, socket, head, path, query);
    void dispatch(router, ex, path, () => socket.destroy());
  });
  // Streams (wait, logs -f, attach) stay open as long as they need.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  await listenOn(server, opts.address, opts.gid);
  arm();
  return { closed, close };
}
