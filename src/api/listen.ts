/**
 * Where the Engine API listens: `unix:///run/hull/docker.sock` (the default; mode 0660 root:root,
 * `--group` to let a group in), a socket systemd passed (socket activation: LISTEN_PID and
 * LISTEN_FDS, the first fd is 3), or `tcp://ADDRESS:PORT`. Whoever reaches the API is root on this
 * host, so TCP is served on any address only with TLS client certificates (Docker's --tlsverify:
 * a client must show a certificate the given CA signed); without them, on a loopback address only
 * and with a warning (with or without --tls), and never on another address.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConflictError, UsageError } from '../errors.js';

export const DEFAULT_HOST = 'unix:///run/hull/docker.sock';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'fd'; fd: number };

/** `unix:///path`, `tcp://host:port` (Docker's -H forms; a bare path is a unix socket). */
export function parseHost(text: string): ListenAddress {
  if (text.startsWith('unix://')) {
    const p = text.slice('unix://'.length);
    if (!path.isAbsolute(p)) throw new UsageError(`invalid --host ${text}: the socket's path must be absolute`);
    return { kind: 'unix', path: p };
  }
  if (text.startsWith('/')) return { kind: 'unix', path: text };
  if (text.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)?(?::(\d+))?\/?$/.exec(text);
    if (!m) throw new UsageError(`invalid --host ${text}: use tcp://ADDRESS:PORT`);
    const port = m[2] === undefined ? 2375 : Number(m[2]);
    if (port < 1 || port > 65535) throw new UsageError(`invalid --host ${text}: bad port`);
    return { kind: 'tcp', host: (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port };
  }
  if (text.startsWith('fd://')) throw new UsageError(`--host ${text}: for socket activation start hull under its systemd socket unit (it passes LISTEN_FDS)`);
  throw new UsageError(`invalid --host ${text}: use unix:///PATH or tcp://ADDRESS:PORT`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** TLS on a TCP address: the server's certificate and key, and with verifyClients the CA a client's certificate must be signed by. */
export interface ApiTls {
  cert: Buffer;
  key: Buffer;
  /** Docker's --tlsverify: only clients with a certificate signed by `ca` get in. */
  verifyClients: boolean;
  ca?: Buffer;
}

/**
 * The checks on where to listen with which TLS: TLS applies to TCP only; TCP on an address other
 * than loopback needs client certificates; loopback without them is served with a warning
 * (returned: the library never prints).
 */
export function checkTcp(address: ListenAddress, tls: { verifyClients: boolean } | undefined): string[] {
  if (address.kind !== 'tcp') {
    if (tls) throw new UsageError('the TLS options apply to a tcp:// host only');
    return [];
  }
  if (tls?.verifyClients) return [];
  const how = tls ? 'with TLS but without client certificates (--tlsverify)' : 'without TLS';
  if (!isLoopback(address.host)) {
    throw new UsageError(
      `refusing to serve the Engine API on tcp://${address.host}:${address.port} ${how}: whoever reaches it is root on this host. Use a unix socket, --tlsverify with a CA, or a loopback address (127.0.0.1)`,
    );
  }
  return [`the Engine API is served on tcp://${address.host}:${address.port} ${how}: every local user and process that can connect to it is root on this host`];
}

/** The socket systemd passed (LISTEN_PID is this process, LISTEN_FDS at least 1): fd 3. */
export function activationFd(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return undefined;
  const n = Number(env.LISTEN_FDS ?? '0');
  return Number.isInteger(n) && n >= 1 ? 3 : undefined;
}

/** A group name or number → its gid (from /etc/group). */
export function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new UsageError(`--group ${group}: no such group`);
}

/** Whether a server answers at the socket `file` (a stale socket file refuses). */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Listens on `address`; a unix socket is made 0660, ours and `gid`'s (root:root by default), before anyone can connect (umask around bind). */
export async function listenOn(server: net.Server, address: ListenAddress, gid = process.getgid?.() ?? 0): Promise<void> {
  if (address.kind === 'unix') {
    mkdirSync(path.dirname(address.path), { recursive: true, mode: 0o755 });
    let existing;
    try {
      existing = lstatSync(address.path);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (!existing.isSocket()) throw new UsageError(`${address.path} exists and is not a socket`);
      if (await answers(address.path)) throw new ConflictError(`another server is listening at ${address.path}`);
      unlinkSync(address.path); // left by a server that died
    }
    const umask = process.umask(0o177);
    try {
      await bind(server, { path: address.path });
    } finally {
      process.umask(umask);
    }
    chownSync(address.path, process.getuid?.() ?? 0, gid);
    chmodSync(address.path, 0o660);
    return;
  }
  if (address.kind === 'fd') return bind(server, { fd: address.fd });
  return bind(server, { host: address.host, port: address.port });
}

/** `options`: an address, or a handle (`{ fd }`: a listening socket passed to this process). */
function bind(server: net.Server, options: net.ListenOptions | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new UsageError(`cannot listen: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
