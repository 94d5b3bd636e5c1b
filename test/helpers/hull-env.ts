// A private hull for one integration test file: its own --root, --run-root and cgroup parent, the
// busybox image loaded, a CLI runner, and a teardown that fails the test on anything left behind.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import { busyboxImageTar, hasBusybox } from './busybox-image.js';
import { runAsync } from './child-process.js';

export const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
export const HULL_BIN = path.join(PROJECT, 'bin', 'hull.cjs');

export const isRoot = process.getuid?.() === 0;
export const canRunContainers =
  isRoot && hasBusybox() && existsSync(path.join(PROJECT, 'build/Release/hull.node')) && existsSync(path.join(PROJECT, 'dist/hull-cli.cjs'));
/** Why integration tests skip here, for the suite's title ('' when they run). */
export const skipReason = canRunContainers
  ? ''
  : `; skipped: ${!isRoot ? 'needs root' : !hasBusybox() ? 'needs busybox-static' : 'needs a build (npm run build)'}`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class HullEnv {
  readonly root: string;
  readonly runRoot: string;
  readonly cgroupParent: string;
  readonly cgroupRoot: string;
  /** This env's private networking (written to <root>/network.json): interface prefix, default
   *  bridge, nft table, subnets in 10.200-249.x.0/24, the state directory of its bridges (leases,
   *  under the env's directory), and no change to the host's ip_forward. */
  readonly net: { ifPrefix: string; bridge: string; nftTable: string; subnet: string; subnetPool: string; stateDir: string };
  /** Whether the bridges and nft table are this env's to remove (not when it shares another env's networking). */
  private readonly ownsNetwork: boolean;

  /**
   * `shareNetworkWith`: use that env's networking (bridge, subnets, nft table, state directory) as a
   * second store on the same host would: destroy this env first; the other removes what they share.
   */
  constructor(opts: { shareNetworkWith?: HullEnv } = {}) {
    const base = mkdtempSync(path.join(tmpdir(), 'hull-it-'));
    this.root = path.join(base, 'root');
    this.runRoot = path.join(base, 'run');
    this.cgroupParent = `hull-test-${path.basename(base)}`;
    this.cgroupRoot = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
    const h = createHash('sha256').update(base).digest();
    const ifPrefix = `t${h.toString('hex').slice(0, 4)}`;
    this.ownsNetwork = opts.shareNetworkWith === undefined;
    this.net = opts.shareNetworkWith?.net ?? {
      ifPrefix,
      bridge: `${ifPrefix}0`,
      nftTable: `hull_test_${h.toString('hex').slice(0, 10)}`,
      subnet: this.privateSubnet(0),
      subnetPool: this.privateSubnet(1),
      stateDir: path.join(base, 'netstate'),
    };
    mkdirSync(this.root, { recursive: true });
    // Without iproute2/nftables/util-linux, and in the vm tier (its initramfs has busybox's ip, which
    // has no -batch; that tier proves cgroup limits), containers default to --network none.
    const tools =
      process.env.HULL_VM_GUEST !== '1' &&
      ['ip', 'nft', 'unshare', 'nsenter'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status === 0);
    writeFileSync(path.join(this.root, 'network.json'), JSON.stringify({ ...this.net, ipForward: false, defaultNetwork: tools ? 'bridge' : 'none' }));
  }

  /** The i-th /24 of this env's own: 10.(200 + a).b.0/24 from the env's hash, unlikely to meet another's. */
  privateSubnet(i: number): string {
    const h = createHash('sha256').update(`${this.root}:${i}`).digest();
    return `10.${200 + (h[0]! % 50)}.${h[1]!}.0/24`;
  }

  /** Links of this env on the host (veth host ends, bridges), by name prefix. */
  links(): string[] {
    return readdirSync('/sys/class/net').filter((n) => n.startsWith(this.net.ifPrefix));
  }

  /** Whether this env's nft table exists. */
  nftTable(): boolean {
    return spawnSync('nft', ['list', 'table', 'ip', this.net.nftTable], { stdio: 'ignore' }).status === 0;
  }

  /** Address leases of this env's containers (`network/ip`), on any bridge of the env's state directory. */
  leases(): string[] {
    const bridges = path.join(this.net.stateDir, 'bridges');
    const out: string[] = [];
    if (!existsSync(bridges)) return out;
    const store = path.join(this.root, 'containers');
    for (const b of readdirSync(bridges)) {
      const l = path.join(bridges, b, 'leases');
      if (!existsSync(l)) continue;
      for (const ip of readdirSync(l)) {
        let owner: { store?: string; network?: string } = {};
        try {
          owner = JSON.parse(readFileSync(path.join(l, ip), 'utf8')) as typeof owner;
        } catch {
          // unreadable: counted as this env's, so it is not missed
        }
        if (owner.store === undefined || owner.store === store) out.push(`${owner.network ?? b}/${ip}`);
      }
    }
    return out;
  }

  get base(): string {
    return path.dirname(this.root);
  }

  globalArgs(): string[] {
    return ['--root', this.root, '--run-root', this.runRoot];
  }

  /** `hull ARGS` synchronously; `run`, `create` and `build` get this env's cgroup parent. */
  cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
    const r = spawnSync(process.execPath, [HULL_BIN, ...this.globalArgs(), ...this.withParent(args)], {
      input: opts.input ?? '',
      encoding: 'utf8',
      env: opts.env ?? process.env,
      timeout: 60_000,
    });
    // No status: hull was killed by a signal or never ran; say which, since a test's message shows only `null`.
    if (r.status === null) console.error(`hull ${args.join(' ')}: no exit status (signal ${r.signal ?? 'none'}${r.error ? `, ${r.error.message}` : ''})`);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `hull ARGS` that must succeed quietly (exit 0, nothing on stderr); its stdout. Throws with both otherwise. */
  ok(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
    const r = this.cli(args, opts);
    if (r.code !== 0 || r.stderr !== '') throw new Error(`hull ${args.join(' ')}: exit ${r.code}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
    return r.stdout;
  }

  /** `hull ARGS` as a child process, for signal tests. */
  spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
    return spawn(process.execPath, [HULL_BIN, ...this.globalArgs(), ...this.withParent(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
  }

  /** `hull ARGS` as a child process whose stdin the test writes (attach, start -ai). */
  spawnCliWithStdin(args: string[]) {
    return spawn(process.execPath, [HULL_BIN, ...this.globalArgs(), ...this.withParent(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** `hull ARGS` without waiting: for many at once. */
  async cliAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
    const r = await runAsync(process.execPath, [HULL_BIN, ...this.globalArgs(), ...this.withParent(args)], opts);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  private withParent(args: string[]): string[] {
    // A pod's cgroup is under the env's parent, and its containers' under the pod's (they take no --cgroup-parent).
    if (args[0] === 'pod' && args[1] === 'create') return ['pod', 'create', '--cgroup-parent', this.cgroupParent, ...args.slice(2)];
    if (args[0] === 'kube' && args[1] === 'play' && !args.includes('--down')) return ['kube', 'play', '--cgroup-parent', this.cgroupParent, ...args.slice(2)];
    if ((args[0] === 'run' || args[0] === 'create') && args.includes('--pod')) return args;
    return args[0] === 'run' || args[0] === 'create' || args[0] === 'build' ? [args[0], '--cgroup-parent', this.cgroupParent, ...args.slice(1)] : args;
  }

  /**
   * Processes of this env: monitors (hull-monitor holding a file under this env's directory), health
   * checkers of its store and anything in this env's cgroups. Zombies do not count (they are only waiting to be reaped).
   */
  processes(): { pid: number; comm: string }[] {
    const out: { pid: number; comm: string }[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (/^\S+ \(.*\) [ZX] /.test(stat)) continue;
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        const inCgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/${this.cgroupParent}/`);
        let holdsFile = false;
        if (comm === 'hull-monitor') {
          for (const fd of readdirSync(`/proc/${entry}/fd`)) {
            try {
              if (readlinkSync(`/proc/${entry}/fd/${fd}`).startsWith(this.base)) holdsFile = true;
            } catch {
              // closed meanwhile
            }
          }
        }
        // A detached container's health checker (`hull health-monitor`) of this env's store.
        const checker = readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${this.root}\0--run-root\0${this.runRoot}\0health-monitor\0`);
        if (inCgroup || holdsFile || checker) out.push({ pid: Number(entry), comm });
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /**
   * A test image made with `hull build` (FROM busybox, or whatever the Dockerfile says), from a
   * context of `files` written under this env's directory. Returns the image id.
   */
  buildImage(tag: string, dockerfile: string, files: Record<string, string> = {}): string {
    const ctx = mkdtempSync(path.join(this.base, 'build-'));
    writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(ctx, name)), { recursive: true });
      writeFileSync(path.join(ctx, name), content);
    }
    const r = this.cli(['build', '-q', '-t', tag, ctx]);
    rmSync(ctx, { recursive: true, force: true });
    if (r.code !== 0) throw new Error(`hull build ${tag} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  async loadBusybox(): Promise<void> {
    const r = this.cli(['load', '-i', await busyboxImageTar()]);
    if (r.code !== 0) throw new Error(`hull load failed: ${r.stderr}`);
  }

  /** Everything this env's containers could leave on the host. Empty means clean. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      if (line.includes(this.base)) out.push(`mount: ${line}`);
    }
    const cg = path.join(this.cgroupRoot, this.cgroupParent);
    if (existsSync(cg))
      out.push(
        `cgroup: ${cg} (${readdirSync(cg)
          .filter((f) => !f.includes('.'))
          .join(', ')})`,
      );
    const containers = path.join(this.root, 'containers');
    if (existsSync(containers)) for (const c of readdirSync(containers)) out.push(`container dir: ${c}`);
    const runContainers = path.join(this.runRoot, 'containers');
    if (existsSync(runContainers)) for (const c of readdirSync(runContainers)) out.push(`run dir: ${c}`);
    const pods = path.join(this.root, 'pods');
    if (existsSync(pods)) for (const p of readdirSync(pods)) out.push(`pod: ${p}`);
    const names = path.join(this.root, 'names');
    if (existsSync(names)) for (const n of readdirSync(names)) out.push(`name: ${n}`);
    for (const p of this.processes()) out.push(`process: ${p.pid} ${p.comm}`);
    // A removed container's veth pair goes with its network namespace, which the kernel frees
    // asynchronously: give it a moment before calling one a leak.
    const veths = () => this.links().filter((l) => l !== this.net.bridge && !l.includes('-'));
    for (let i = 0; i < 200 && veths().length > 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    for (const l of veths()) out.push(`veth: ${l}`);
    for (const l of this.links().filter((n) => n.includes('-'))) out.push(`bridge of a network: ${l}`);
    for (const l of this.leases()) out.push(`lease: ${l}`);
    const leaseTmp = path.join(this.net.stateDir, 'tmp');
    if (this.ownsNetwork && existsSync(leaseTmp)) for (const f of readdirSync(leaseTmp)) out.push(`lease temporary file: ${f}`);
    const netns = path.join(this.runRoot, 'netns');
    if (existsSync(netns)) for (const n of readdirSync(netns)) out.push(`netns: ${n}`);
    return out;
  }

  /** `hull pod rm -f` of every pod of this env (an afterAll's first step where a file makes pods). */
  removePods(): void {
    for (const p of this.cli(['pod', 'ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) this.cli(['pod', 'rm', '-f', p]);
  }

  /** Remove the env; throws if anything of the host had to be cleaned by force. */
  destroy(): void {
    const left = this.leftovers().filter((l) => /^(mount|cgroup|process|veth|bridge of a network|netns):/.test(l));
    // What this env's tests started and left running is stopped, by pid, so a failed test leaks nothing.
    for (const p of this.processes()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // A killed process leaves its cgroup only once it is gone: wait for them (up to 5 s) before the rmdirs.
    for (let i = 0; i < 500 && this.processes().length > 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    const cg = path.join(this.cgroupRoot, this.cgroupParent);
    // Deepest first: a pod's cgroup holds its containers'.
    if (existsSync(cg)) spawnSync('find', [cg, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
    // Network namespaces of containers a failed test left behind: unmounted, so the dir can go.
    const netns = path.join(this.runRoot, 'netns');
    if (existsSync(netns)) for (const n of readdirSync(netns)) spawnSync('umount', ['-l', path.join(netns, n)]);
    // The env's default bridge and nft table are its infrastructure (as docker0 is): removed here
    // (by the env that owns them, when another shares them).
    if (this.ownsNetwork) {
      for (const l of this.links()) spawnSync('ip', ['link', 'del', l]);
      spawnSync('nft', ['delete', 'table', 'ip', this.net.nftTable], { stdio: 'ignore' });
    }
    rmSync(this.base, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`leaked on the host:\n${left.join('\n')}`);
  }
}

/** A layer directory's listing with sizes and modes, to prove it is unchanged. */
export function snapshotTree(dir: string): string {
  const r = spawnSync('find', [dir, '-printf', '%P %y %m %s %T@\\n'], { encoding: 'utf8' });
  return r.stdout.split('\n').sort().join('\n');
}
