// What the networking test files share: whether the host has the network tools, a free port, an
// HTTP GET from the host, and retrying a check until it holds (a server in a container takes a
// moment to listen).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** iproute2, nftables and util-linux's unshare/nsenter, which the network tests look through. */
export const hasNetTools = ['ip', 'nft', 'unshare', 'nsenter'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
export const NET_TOOLS_SKIP = '; skipped: needs iproute2, nftables and util-linux';

/** A TCP port on 127.0.0.1 nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The body of `GET /` on host:port; an answer other than 200, a refusal or no answer in time rejects. */
export function httpGet(port: number, opts: { host?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: opts.host ?? '127.0.0.1', port, path: '/', timeout: opts.timeoutMs ?? 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** fn's value once it stops throwing, retried every 50 ms; its last error after `ms`. */
export async function eventually<T>(fn: () => Promise<T> | T, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const FORWARDING_LOCK = '/tmp/hull-test-ip-forward.lock';

/**
 * Runs `fn` with the host's net.ipv4.ip_forward on, and puts back what it was. Test files run side
 * by side and each would put back what it saw: one holder at a time (a directory made atomically,
 * holding its pid; a holder that died is stepped over), so none turns it off under another.
 */
export async function withIpForwarding<T>(fn: () => Promise<T> | T): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(FORWARDING_LOCK);
      writeFileSync(`${FORWARDING_LOCK}/pid`, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(`${FORWARDING_LOCK}/pid`, 'utf8'));
      } catch {
        // being made or removed: try again
      }
      if (Number.isInteger(holder) && holder > 0 && !existsSync(`/proc/${holder}`)) rmSync(FORWARDING_LOCK, { recursive: true, force: true });
      if (i > 1200) throw new Error(`${FORWARDING_LOCK} held for 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const before = readFileSync(IP_FORWARD, 'utf8').trim();
  try {
    writeFileSync(IP_FORWARD, '1');
    return await fn();
  } finally {
    writeFileSync(IP_FORWARD, before);
    rmSync(FORWARDING_LOCK, { recursive: true, force: true });
  }
}
