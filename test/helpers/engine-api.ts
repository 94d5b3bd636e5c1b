// One `hull system service` for an Engine API test file: started on a private socket over a HullEnv's
// root, stopped by pid; raw HTTP requests to it, and Debian's docker CLI 20.10 (/usr/bin/docker: the
// docker first on PATH may be another version) pointed at it with a private config directory.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { HULL_BIN, type HullEnv } from './hull-env.js';

export const DOCKER = '/usr/bin/docker';
export const hasDocker = existsSync(DOCKER);
export const hasPythonSdk = spawnSync('/usr/bin/python3', ['-c', 'import docker'], { stdio: 'ignore' }).status === 0;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `message` of a Docker-shaped error answer. */
export const message = (a: Answer): string => (JSON.parse(a.body) as { message: string }).message;

export class EngineApiServer {
  readonly socket: string;
  /** Everything the server wrote to stdout and stderr, across restarts. */
  log = '';
  private child: ChildProcess | null = null;

  constructor(
    readonly env: HullEnv,
    private readonly extraArgs: string[] = [],
  ) {
    this.socket = path.join(env.base, 'api', 'docker.sock');
    mkdirSync(path.join(env.base, 'docker-config'), { recursive: true });
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('the service is not running');
    return this.child.pid;
  }

  get dockerHost(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [HULL_BIN, ...this.env.globalArgs(), 'system', 'service', '--host', this.dockerHost, '--time', '0', ...this.extraArgs],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    child.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) break;
      if (
        existsSync(this.socket) &&
        (await this.request('GET', '/_ping').then(
          () => true,
          () => false,
        ))
      )
        return;
      await sleep(25);
    }
    throw new Error(`the service did not start: ${this.log}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, 'SIGTERM');
    await exited;
    this.child = null;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  request(method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      // A connection of its own (no keep-alive agent): a pooled one may have been closed by the server's keep-alive timeout
      // while the test's synchronous docker calls held this event loop, and the next request's write on it would fail with EPIPE.
      const req = http.request({ socketPath: this.socket, method, path: urlPath, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The environment a docker client (CLI, compose, SDK) needs to reach this server, and nothing of the host's docker. */
  clientEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: this.env.base, DOCKER_CONFIG: path.join(this.env.base, 'docker-config'), DOCKER_HOST: this.dockerHost };
  }

  /** Debian's docker CLI against this server. */
  docker(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): CommandResult {
    const r = spawnSync(DOCKER, args, { input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeout ?? 60_000, env: this.clientEnv() });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `docker run` and `create` with the env's cgroup parent, so teardown finds what they made. */
  run(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): CommandResult {
    return this.docker([args[0]!, '--cgroup-parent', this.env.cgroupParent, ...args.slice(1)], opts);
  }

  /** Stop the server, force-remove what the docker CLI can see, then the env. */
  async destroy(): Promise<void> {
    const left = this.child !== null ? (this.docker(['ps', '-aq']).stdout?.split('\n').filter(Boolean) ?? []) : [];
    await this.stop();
    for (const c of left) this.env.cli(['rm', '-f', c]);
    this.env.destroy();
  }
}
