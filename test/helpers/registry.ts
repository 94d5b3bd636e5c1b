// Real registries for the tests: Debian's docker-registry (the CNCF distribution registry)
// started by PID on 127.0.0.1 with a free port and filesystem storage in a temp directory —
// plain HTTP, htpasswd Basic auth over TLS with a CA the test makes, or Bearer tokens from the
// token issuer below — plus a loopback TCP proxy that can throttle, cut or stall transfers.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './net-checks.js';

/** Kept here too: the registry tests take it from this module. */
export { freePort };

export const hasRegistry = (): boolean =>
  spawnSync('sh', ['-c', 'command -v docker-registry && command -v htpasswd && command -v openssl && command -v skopeo']).status === 0;

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${readFileSync(log, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not listen on ${port}: ${readFileSync(log, 'utf8')}`);
}

export interface TlsFiles {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it (openssl). */
export function makeTlsFiles(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=hull test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return { dir, caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key') };
}

/** A client certificate the test CA signs (extendedKeyUsage clientAuth), for servers that verify their clients. */
export function makeClientCert(tls: TlsFiles, name = 'client'): { cert: string; key: string } {
  const f = (n: string) => path.join(tls.dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`]);
  writeFileSync(f(`${name}.cnf`), 'extendedKeyUsage=clientAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    tls.caCert,
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f(`${name}.crt`),
    '-days',
    '2',
    '-extfile',
    f(`${name}.cnf`),
  ]);
  return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
}

export interface RegistryOptions {
  tls?: TlsFiles;
  /** user → password, as a bcrypt htpasswd file (Basic auth) */
  htpasswd?: Record<string, string>;
  /** Bearer tokens from this issuer */
  token?: TokenIssuer;
}

export class Registry {
  readonly dir: string;
  readonly storage: string;
  port = 0;
  private child: ChildProcess | undefined;
  private readonly config: string;
  private readonly log: string;

  private constructor(private readonly options: RegistryOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'hull-registry-'));
    this.storage = path.join(this.dir, 'data');
    this.config = path.join(this.dir, 'config.yml');
    this.log = path.join(this.dir, 'registry.log');
  }

  static async start(options: RegistryOptions = {}): Promise<Registry> {
    const r = new Registry(options);
    r.port = await freePort();
    r.writeConfig();
    await r.spawn();
    return r;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private writeConfig(): void {
    const o = this.options;
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${this.storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${this.port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
    ];
    if (o.tls) lines.push('  tls:', `    certificate: ${o.tls.serverCert}`, `    key: ${o.tls.serverKey}`);
    if (o.htpasswd) {
      const file = path.join(this.dir, 'htpasswd');
      const text = Object.entries(o.htpasswd)
        .map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim())
        .join('\n');
      writeFileSync(file, `${text}\n`);
      lines.push('auth:', '  htpasswd:', '    realm: hull-test', `    path: ${file}`);
    }
    if (o.token) {
      lines.push(
        'auth:',
        '  token:',
        `    realm: ${o.token.realm}`,
        `    service: ${o.token.service}`,
        `    issuer: ${o.token.issuer}`,
        `    rootcertbundle: ${o.token.certFile}`,
      );
    }
    writeFileSync(this.config, `${lines.join('\n')}\n`);
  }

  private async spawn(): Promise<void> {
    const out = openSync(this.log, 'a');
    this.child = spawn('docker-registry', ['serve', this.config], { stdio: ['ignore', out, out] });
    closeSync(out);
    await waitForPort(this.port, this.child, this.log);
  }

  /** SIGKILL now (a registry dying mid-transfer); resolves once it has exited. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  /** Start again on the same port and storage. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  /** The file a blob is stored in on the registry's disk. */
  blobFile(digest: string): string {
    const hex = digest.replace(/^sha256:/, '');
    return path.join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Docker token service (docker/distribution's token auth), run as a child process by PID
 * (./token-issuer.mjs): users get every action they ask for, anonymous callers only `pull` on
 * `public/*`; RS256 JWTs with an `x5c` header holding the issuer's self-signed certificate, which
 * is the registry's rootcertbundle.
 */
export class TokenIssuer {
  readonly service = 'hull-test-registry';
  readonly issuer = 'hull-test-issuer';
  readonly certFile: string;
  private readonly keyFile: string;
  private readonly usersFile: string;
  private readonly log: string;
  private child: ChildProcess | undefined;
  port = 0;

  constructor(dir: string, users: Record<string, string>) {
    mkdirSync(dir, { recursive: true });
    this.keyFile = path.join(dir, 'token.key');
    this.certFile = path.join(dir, 'token.crt');
    this.usersFile = path.join(dir, 'users.json');
    this.log = path.join(dir, 'requests.jsonl');
    writeFileSync(this.usersFile, JSON.stringify(users));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', this.keyFile, '-out', this.certFile, '-days', '2', '-subj', '/CN=hull test token issuer'],
      { stdio: 'pipe' },
    );
  }

  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  /** Every token request so far: who asked ('' for anonymous), for which scopes. */
  requests(): { account: string; scopes: string[]; granted: boolean }[] {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { account: string; scopes: string[]; granted: boolean });
  }

  clearRequests(): void {
    writeFileSync(this.log, '');
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const script = fileURLToPath(new URL('./token-issuer.mjs', import.meta.url));
    const child = spawn(process.execPath, [script, String(this.port), this.keyFile, this.certFile, this.usersFile, this.log], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`token issuer exited ${code}`)));
    });
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * A loopback TCP proxy in front of a registry. Modes: pass; `throttle` bytes/s downstream;
 * `cutAfter` N downstream bytes (each connection that reaches it is destroyed, once); `stallAfter`
 * N downstream bytes in total (then nothing more is forwarded, connections stay open);
 * `cutUploadAfter` N upstream bytes (once).
 */
export class Proxy {
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  downstreamBytes = 0;
  throttle: number | undefined;
  stallAfter: number | undefined;
  cutAfter: number | undefined;
  /** Destroy the connection (once) that carries the upstream byte number N (an upload). */
  cutUploadAfter: number | undefined;
  upstreamBytes = 0;
  /** Request heads seen (to check for Range). */
  readonly requests: string[] = [];
  /** Called as bytes go downstream (e.g. to kill the registry mid-transfer). */
  onBytes: ((total: number) => void) | undefined;

  constructor(private readonly target: number) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = net.createServer((client) => this.connection(client));
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  private connection(client: net.Socket): void {
    const upstream = net.connect(this.target, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (d: Buffer) => {
      if (this.cutUploadAfter !== undefined && this.upstreamBytes + d.length > this.cutUploadAfter) {
        this.cutUploadAfter = undefined;
        close();
        return;
      }
      this.upstreamBytes += d.length;
      const head = d.toString('latin1');
      if (/^(GET|HEAD|PUT|POST|PATCH) /.test(head)) this.requests.push(head.split('\r\n\r\n')[0] ?? head);
      upstream.write(d);
    });
    let paused = false;
    upstream.on('data', (d: Buffer) => {
      if (this.stallAfter !== undefined && this.downstreamBytes + d.length > this.stallAfter) {
        const n = Math.max(0, this.stallAfter - this.downstreamBytes);
        if (n > 0) client.write(d.subarray(0, n));
        this.downstreamBytes += n;
        return; // swallowed: the client waits forever
      }
      if (this.cutAfter !== undefined && this.downstreamBytes + d.length > this.cutAfter) {
        this.cutAfter = undefined;
        close();
        return;
      }
      this.downstreamBytes += d.length;
      client.write(d);
      this.onBytes?.(this.downstreamBytes);
      if (this.throttle !== undefined && !paused) {
        paused = true;
        upstream.pause();
        setTimeout(
          () => {
            paused = false;
            upstream.resume();
          },
          Math.ceil((d.length / this.throttle) * 1000),
        );
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** sha256 of a file, `sha256:<hex>`. */
export function fileDigest(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/** A forward HTTP proxy run as a child process (./http-proxy.mjs); `requests()` reads its log. */
export class HttpProxy {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly log: string,
  ) {}

  /** `hosts`: names only the proxy resolves (name → address). */
  static async start(dir: string, hosts: Record<string, string>): Promise<HttpProxy> {
    mkdirSync(dir, { recursive: true });
    const log = path.join(dir, 'proxy.log');
    writeFileSync(log, '');
    const script = fileURLToPath(new URL('./http-proxy.mjs', import.meta.url));
    const child = spawn(process.execPath, [script, log, ...Object.entries(hosts).map(([k, v]) => `${k}=${v}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())?.[1])));
      child.once('exit', (code) => reject(new Error(`http proxy exited ${code}`)));
    });
    return new HttpProxy(child, `http://127.0.0.1:${port}`, log);
  }

  requests(): string[] {
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
