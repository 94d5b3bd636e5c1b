// A real containerd for the tests (Debian's containerd 1.6 package, CRI plugin off), started by pid with
// everything private: config, root, state, sockets and logs under one mkdtemp directory, and its own
// mount namespace, because containerd 1.6 hard-codes /run/containerd for what its config cannot move
// (the shims' sockets in /run/containerd/s, ctr's stdio FIFOs in /run/containerd/fifo, runc's state in
// /run/containerd/runc). In that namespace /run is a fresh tmpfs with /run/containerd bound to <dir>/run,
// so the host's /run, /var/lib/containerd and /opt/containerd are never touched, and every mount it makes
// (overlay rootfs of the containers) dies with the namespace. ctr runs in the same namespace (nsenter),
// so `ctr run`/`ctr task exec` without --fifo-dir stay private too.
//
//   const ctd = await startContainerd();           // a private one (or sharedContainerd(): the run's one)
//   await ctd.importImage(await busyboxImageTar()); // docker.io/library/busybox:latest
//   const r = await ctd.ctr(['run', '--rm', '--runc-binary', '/usr/sbin/runc', BUSYBOX_REF, 'id1', 'echo', 'hi']);
//   expect(await ctd.leftovers('id')).toEqual([]);
//   await ctd.stop();                                // by pid; returns what was still there ([] when clean)
//
// One containerd serves the whole test run: test/helpers/global-setup.ts starts it (when containerd is
// installed and we are root), hands its ContainerdInfo to the test files with provide('containerd'),
// and stops it at teardown; test files call sharedContainerd() (shared-containerd.ts). Containers go to
// the cgroup /<namespace>/<id> in every hierarchy (v1 controllers, name=systemd and the cgroup2 at
// /sys/fs/cgroup/unified on this hybrid host): runc removes /<namespace>/<id> on delete, stop() removes
// the /<namespace> parents runc made. The namespace is unique per daemon, so no cgroup of anyone else's
// is ever written. Container ids must be unique across the files of a run: give each file a prefix.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's containerd (test/helpers/global-setup.ts), null when containerd is not usable here. */
    containerd: ContainerdInfo | null;
  }
}

/** What a test process needs to reach a running containerd: plain data (it crosses to the workers). */
export interface ContainerdInfo {
  /** the private directory: config.toml, root/, state/, run/ (its /run/containerd), containerd.log */
  dir: string;
  /** containerd's gRPC socket (ctr --address) */
  address: string;
  /** the containerd namespace the tests use (ctr --namespace); also the first element of the containers' cgroups */
  namespace: string;
  pid: number;
}

export interface CtrResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CtrOptions {
  /** written to ctr's stdin (else its stdin is an empty pipe) */
  input?: string;
  /** killed (SIGKILL) after this long; default 60 s */
  timeoutMs?: number;
  /** another containerd namespace than the daemon's */
  namespace?: string;
}

const isRoot = process.getuid?.() === 0;
const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** True when containerd, ctr, unshare and nsenter are installed (Debian: containerd, util-linux). */
export function hasContainerd(): boolean {
  return ['containerd', 'ctr', 'unshare', 'nsenter'].every(onPath);
}

/** Whether a containerd can run here: installed, and we are root. */
export const canRunContainerd = isRoot && hasContainerd();
/** Why containerd tests skip here, for a suite's title ('' when they run). */
export const containerdSkipReason = canRunContainerd ? '' : `; skipped: ${!isRoot ? 'needs root' : 'needs containerd (scripts/install-deps.sh test)'}`;

/** The busybox test image's name once imported (test/helpers/busybox-image.ts names it so). */
export const BUSYBOX_REF = 'docker.io/library/busybox:latest';

// Started in its own mount namespace (unshare: private propagation). `exec` keeps one pid from unshare
// to containerd, so the pid the helper holds is the daemon's.
const NS_SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=0755,size=16m hull-containerd-run /run',
  'mkdir -m 0711 /run/containerd',
  'mount --bind "$1" /run/containerd',
  'exec containerd --config "$2"',
].join('\n');

/** TOML basic strings accept JSON's escapes for everything a path holds. */
const toml = (s: string): string => JSON.stringify(s);

// With the CRI plugin (test/helpers/cri.ts) the daemon also gets its own network, IPC and UTS namespaces
// (unshare --net --ipc --uts): the CNI bridge, the iptables chains of portmap, the pods' netns files, the
// host-network pods' sockets and the SysV segments of host-IPC pods all die with it. /var/lib is a fresh
// tmpfs there because the CNI plugins keep their state in /var/lib/cni (not configurable through CRI).
const CRI_NS_SCRIPT = [
  'set -e',
  'ip link set lo up',
  'mount -t tmpfs -o mode=0755,size=16m hull-containerd-varlib /var/lib',
  ...NS_SCRIPT.split('\n').slice(1),
].join('\n');

/** The CRI plugin's settings (test/helpers/cri.ts fills them in); the daemon's namespace is then CRI's own, k8s.io. */
export interface CriDaemonOptions {
  /** runtime handler → the OCI runtime executable the runc shim (io.containerd.runc.v2) calls */
  runtimes: Record<string, string>;
  /** the handler of a pod that names none */
  defaultRuntime: string;
  /** more of the CRI plugin's TOML, as given (a runtime's section from a file, say) */
  extraToml?: string;
  /** CNI network configurations (conf_dir); the plugins are Debian's, in /usr/lib/cni */
  cniConfDir: string;
  /** registry host configuration (hosts.toml per registry host) */
  registryConfigPath: string;
  /** the pause image */
  sandboxImage: string;
}

/** The CRI namespace (fixed in containerd): also the first element of the pods' cgroups. */
export const CRI_NAMESPACE = 'k8s.io';

function criConfig(dir: string, cri: CriDaemonOptions): string[] {
  const c = 'plugins."io.containerd.grpc.v1.cri"';
  const lines = [
    `[${c}]`,
    `  sandbox_image = ${toml(cri.sandboxImage)}`,
    // root here lacks CAP_SYS_RESOURCE: the pause container's oom_score_adj -998 would fail every pod
    '  restrict_oom_score_adj = true',
    '  disable_apparmor = true',
    '  enable_selinux = false',
    `[${c}.containerd]`,
    '  snapshotter = "overlayfs"',
    `  default_runtime_name = ${toml(cri.defaultRuntime)}`,
  ];
  for (const [handler, binary] of Object.entries(cri.runtimes)) {
    lines.push(
      `[${c}.containerd.runtimes.${handler}]`,
      '  runtime_type = "io.containerd.runc.v2"',
      `[${c}.containerd.runtimes.${handler}.options]`,
      `  BinaryName = ${toml(binary)}`,
      `  Root = ${toml(path.join(dir, 'runtime-root', handler))}`,
    );
  }
  lines.push(
    `[${c}.cni]`,
    '  bin_dir = "/usr/lib/cni"',
    `  conf_dir = ${toml(cri.cniConfDir)}`,
    `[${c}.registry]`,
    `  config_path = ${toml(cri.registryConfigPath)}`,
  );
  if (cri.extraToml !== undefined) lines.push(cri.extraToml);
  return lines;
}

function writeConfig(dir: string, cri?: CriDaemonOptions): string {
  const file = path.join(dir, 'config.toml');
  const lines = [
    'version = 2',
    `root = ${toml(path.join(dir, 'root'))}`,
    `state = ${toml(path.join(dir, 'state'))}`,
    `temp = ${toml(path.join(dir, 'tmp'))}`,
    // CRI is Kubernetes' (and would want CNI; on only for cri.ts); the other snapshotters probe for devices and modules.
    `disabled_plugins = [${cri === undefined ? '"io.containerd.grpc.v1.cri", ' : ''}"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",`,
    '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    '[grpc]',
    `  address = ${toml(path.join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${toml(path.join(dir, 'containerd.sock.ttrpc'))}`,
    // the opt plugin would create /opt/containerd
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml(path.join(dir, 'opt'))}`,
    ...(cri === undefined ? [] : criConfig(dir, cri)),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie (a process not our child is reaped by someone else, maybe later). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function cmdline(pid: number | string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
}

/** Pids of /proc, as numbers. */
function pids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** A process's mount namespace ('mnt:[inode]'), '' when gone. */
function nsOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return '';
  }
}

async function waitGone(list: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = list.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(alive);
  }
  return left;
}

/** Mount points of every cgroup hierarchy of this host (v1 controllers, named ones, cgroup2), from mountinfo. */
export function cgroupRoots(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const fstype = post.split(' ')[0];
    const f = pre.split(' ');
    // only hierarchies mounted at their root: a bind of a sub-cgroup is not where runc creates ours
    if ((fstype === 'cgroup' || fstype === 'cgroup2') && f[3] === '/' && f[4] !== undefined) out.push(f[4]);
  }
  return out;
}

/** Child cgroups (directories) of `dir`, deepest first; [] if it does not exist. */
function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

/** Start a containerd in `dir` (config already written) and wait until ctr gets an answer. */
async function launch(dir: string, namespace: string, env: NodeJS.ProcessEnv, cri = false): Promise<Containerd> {
  const config = path.join(dir, 'config.toml');
  const log = openSync(path.join(dir, 'containerd.log'), 'a');
  const ns = cri ? ['--mount', '--net', '--ipc', '--uts'] : ['--mount'];
  // Its own session: a Ctrl-C to the test run must not reach it before teardown stops it.
  const child = spawn('unshare', [...ns, '--propagation', 'private', '--', 'sh', '-c', cri ? CRI_NS_SCRIPT : NS_SCRIPT, 'sh', path.join(dir, 'run'), config], {
    detached: true,
    stdio: ['ignore', log, log],
    env,
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('containerd: spawn failed (unshare not found?)');
  let exited: string | undefined;
  child.once('exit', (code, sig) => (exited = `exited ${code ?? sig}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const ctd = new Containerd({ dir, address: path.join(dir, 'containerd.sock'), namespace, pid });
  const deadline = Date.now() + 20_000;
  const logTail = (): string => readFileSync(path.join(dir, 'containerd.log'), 'utf8').split('\n').slice(-15).join('\n');
  for (;;) {
    if (exited !== undefined) throw new Error(`containerd ${exited} before it answered:\n${logTail()}`);
    if (Date.now() > deadline) {
      const tail = logTail();
      await ctd.stop();
      throw new Error(`containerd did not answer on ${ctd.address} within 20 s:\n${tail}`);
    }
    if (await connects(ctd.address)) break;
    await sleep(20);
  }
  const v = await ctd.ctr(['version'], { timeoutMs: 10_000 });
  if (v.code !== 0) {
    const tail = logTail();
    await ctd.stop();
    throw new Error(`ctr version failed: ${v.stderr}\n${tail}`);
  }
  return ctd;
}

function connects(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * A new private containerd. The namespace (ctr --namespace, and the containers' cgroup parent) is
 * unique to it: `hull-ctd-<random>`.
 */
export async function startContainerd(opts: { env?: NodeJS.ProcessEnv; cri?: CriDaemonOptions } = {}): Promise<Containerd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hull-ctd-'));
  try {
    for (const d of ['run', 'tmp']) mkdirSync(path.join(dir, d), { mode: 0o711 });
    writeConfig(dir, opts.cri);
    const namespace = opts.cri !== undefined ? CRI_NAMESPACE : `hull-ctd-${path.basename(dir).slice('hull-ctd-'.length)}`;
    return await launch(dir, namespace, opts.env ?? process.env, opts.cri !== undefined);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export class Containerd implements ContainerdInfo {
  readonly dir: string;
  readonly address: string;
  readonly namespace: string;
  readonly pid: number;

  constructor(info: ContainerdInfo) {
    this.dir = info.dir;
    this.address = info.address;
    this.namespace = info.namespace;
    this.pid = info.pid;
  }

  /** Plain data for provide()/inject(). */
  get info(): ContainerdInfo {
    return { dir: this.dir, address: this.address, namespace: this.namespace, pid: this.pid };
  }

  /** The daemon is ours (pid not reused) and running. */
  running(): boolean {
    return alive(this.pid) && cmdline(this.pid).includes(path.join(this.dir, 'config.toml'));
  }

  /** The command line that runs `ctr ARGS` against this daemon, inside its mount namespace. */
  ctrCommand(args: string[], opts: { namespace?: string } = {}): string[] {
    // nsenter -m would leave ctr in / (setns resets the working directory): keep the caller's.
    return [
      'nsenter',
      `--mount=/proc/${this.pid}/ns/mnt`,
      `--wd=${process.cwd()}`,
      '--',
      'ctr',
      '--address',
      this.address,
      '--namespace',
      opts.namespace ?? this.namespace,
      ...args,
    ];
  }

  /** `ctr ARGS` as a child process (stdout/stderr piped), for tasks a test signals or waits on itself. */
  spawnCtr(args: string[], opts: { namespace?: string; stdin?: 'ignore' | 'pipe' } = {}): ChildProcess {
    if (!this.running()) throw new Error(`containerd ${this.pid} is not running`);
    const [cmd, ...rest] = this.ctrCommand(args, opts);
    return spawn(cmd!, rest, { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  }

  /** `ctr ARGS`, collected: exit code (ctr's own, or the task's for `run`/`task exec`), stdout, stderr. */
  ctr(args: string[], opts: CtrOptions = {}): Promise<CtrResult> {
    const child = this.spawnCtr(args, { ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), stdin: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => signal(child.pid!, 'SIGKILL'), opts.timeoutMs ?? 60_000);
    return new Promise((resolve, reject) => {
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code, signal: sig, stdout, stderr });
      });
    });
  }

  /**
   * `ctr images import` of a docker-archive or an OCI layout tar (what test/helpers/busybox-image.ts
   * makes: its index carries io.containerd.image.name, so the image keeps its full name). With `ref`,
   * the imported image is also tagged `ref`. Returns the names imported (and `ref`).
   */
  async importImage(archive: string, ref?: string): Promise<string[]> {
    const r = await this.ctr(['images', 'import', path.resolve(archive)]);
    if (r.code !== 0) throw new Error(`ctr images import ${archive}: ${r.stderr.trim()}`);
    // "unpacking docker.io/library/busybox:latest (sha256:…)...done"
    const names = [...r.stdout.matchAll(/^unpacking (\S+) \(sha256:[0-9a-f]+\)/gm)].map((m) => m[1]!);
    if (names.length === 0) throw new Error(`ctr images import ${archive}: no image named in its output:\n${r.stdout}${r.stderr}`);
    if (ref !== undefined && !names.includes(ref)) {
      const t = await this.ctr(['images', 'tag', '--force', names[0]!, ref]);
      if (t.code !== 0) throw new Error(`ctr images tag ${names[0]!} ${ref}: ${t.stderr.trim()}`);
      names.push(ref);
    }
    return names;
  }

  /** Lines of `ctr LIST -q` (containers, tasks, snapshots' keys …). */
  private async list(args: string[]): Promise<string[]> {
    const r = await this.ctr([...args], { timeoutMs: 20_000 });
    if (r.code !== 0) return [`(ctr ${args.join(' ')} failed: ${r.stderr.trim()})`];
    return r.stdout.split('\n').filter((l) => l.trim() !== '');
  }

  /** Containerd's shims serving this daemon (containerd-shim-runc-v2 … -address <our socket>). */
  shims(): number[] {
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      const argv = cmdline(e);
      const i = argv.indexOf('-address');
      if (i >= 0 && argv[i + 1] === this.address && alive(Number(e))) out.push(Number(e));
    }
    return out;
  }

  /** Processes in this daemon's containers' cgroups (/<namespace>/… in any hierarchy), optionally of ids starting with `prefix`. */
  containerProcesses(prefix = ''): number[] {
    const out: number[] = [];
    const mark = `:/${this.namespace}/${prefix}`;
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        if (readFileSync(`/proc/${e}/cgroup`, 'utf8').includes(mark) && alive(Number(e))) out.push(Number(e));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /** Mounts under this daemon's directory, seen from its mount namespace (the rootfs of a live container). */
  mounts(): string[] {
    let text = '';
    try {
      text = readFileSync(`/proc/${this.pid}/mountinfo`, 'utf8');
    } catch {
      return [];
    }
    // field 5 is the mount point; /run/containerd (bound to <dir>/run) is the daemon's own
    return text.split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${this.dir}/`));
  }

  /**
   * What containers whose id starts with `prefix` (all when '') left behind: containers, tasks,
   * snapshots (a container's active snapshot is keyed by its id), runc state, overlay mounts, cgroups,
   * processes and shims. Empty means clean. The images and their committed snapshots are not counted.
   */
  async leftovers(prefix = ''): Promise<string[]> {
    const mine = (id: string): boolean => id.startsWith(prefix);
    const out: string[] = [];
    for (const c of (await this.list(['containers', 'ls', '-q'])).filter(mine)) out.push(`container: ${c}`);
    for (const t of (await this.list(['tasks', 'ls', '-q'])).filter(mine)) out.push(`task: ${t}`);
    for (const row of (await this.list(['snapshots', 'ls'])).slice(1)) {
      // KEY PARENT KIND; a committed layer's key is its chain id (sha256:…), a container's its id
      const cols = row.trim().split(/\s+/);
      const key = cols[0]!;
      if (!key.startsWith('sha256:') && mine(key)) out.push(`snapshot: ${key} (${cols.at(-1)!})`);
    }
    const runcState = path.join(this.dir, 'run', 'runc', this.namespace);
    if (existsSync(runcState)) for (const id of readdirSync(runcState).filter(mine)) out.push(`runc state: ${id}`);
    for (const m of this.mounts()) {
      const id = /\/io\.containerd\.runtime\.v2\.task\/[^/]+\/([^/]+)\//.exec(m.split(' ')[4] ?? '')?.[1];
      if (id === undefined || mine(id)) out.push(`mount: ${m}`);
    }
    for (const root of cgroupRoots()) {
      const ns = path.join(root, this.namespace);
      if (!existsSync(ns)) continue;
      for (const id of readdirSync(ns, { withFileTypes: true }).filter((e) => e.isDirectory() && mine(e.name))) out.push(`cgroup: ${path.join(ns, id.name)}`);
    }
    for (const pid of this.containerProcesses(prefix)) out.push(`process: ${pid} ${cmdline(pid).join(' ')}`);
    for (const pid of this.shims()) {
      const argv = cmdline(pid);
      const id = argv[argv.indexOf('-id') + 1] ?? '';
      if (mine(id)) out.push(`shim: ${pid} ${argv.join(' ')}`);
    }
    return out;
  }

  /**
   * Stop the daemon by pid (SIGTERM, SIGKILL after 5 s), then what it leaves: its shims and the
   * containers' processes (SIGKILL, by pid), mounts under its directory, the cgroups /<namespace>
   * runc made (only those), and the directory. Returns what was still there when stop() began
   * (containers, tasks, live shims …; images are not counted): a test run that cleaned up returns [].
   * Throws if something could not be removed.
   */
  async stop(): Promise<string[]> {
    const running = this.running();
    const found = running ? await this.leftovers() : [];
    // Everything in the daemon's mount namespace is this daemon's (its shims, ctr and runtime calls
    // still under way): its mounts live as long as one of them does.
    const mntns = running ? readlinkSync(`/proc/${this.pid}/ns/mnt`) : '';
    const inNamespace = (): number[] => (mntns === '' ? [] : pids().filter((pid) => pid !== this.pid && nsOf(pid) === mntns));
    if (running) {
      const others = inNamespace().filter((pid) => !this.shims().includes(pid));
      for (const pid of others) found.push(`process in its mount namespace: ${pid} ${cmdline(pid).join(' ')}`);
      signal(this.pid, 'SIGTERM');
      if ((await waitGone([this.pid], 5_000)).length > 0) {
        signal(this.pid, 'SIGKILL');
        await waitGone([this.pid], 5_000);
      }
    }
    // A shim outlives its containerd on purpose (containers survive a daemon restart): ours do not.
    // Container processes go first, then their shims (which would otherwise reap and report them).
    const procs = this.containerProcesses();
    for (const pid of procs) signal(pid, 'SIGKILL');
    const shims = [...new Set([...this.shims(), ...inNamespace()])];
    for (const pid of shims) signal(pid, 'SIGKILL');
    const stuck = await waitGone([...procs, ...shims], 10_000);
    const failures: string[] = stuck.map((pid) => `process still running: ${pid} ${cmdline(pid).join(' ')}`);
    // The mount namespace went with its last process; anything under our directory in the host's own
    // mount table would be a mount that escaped it.
    const hostMounts = (): string[] =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m === this.dir || m.startsWith(`${this.dir}/`))
        .reverse();
    for (const m of hostMounts()) {
      failures.push(`mount on the host: ${m}`);
      spawnSync('umount', ['-l', m]);
    }
    for (const root of cgroupRoots()) {
      for (const cg of cgroupTree(path.join(root, this.namespace))) {
        try {
          // rmdir of a cgroup: the kernel refuses one with processes or children
          rmdirSync(cg);
        } catch (err) {
          failures.push(`cgroup not removable: ${cg} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
      }
    }
    if (hostMounts().length === 0) rmSync(this.dir, { recursive: true, force: true });
    else failures.push(`directory kept (mounts under it): ${this.dir}`);
    if (failures.length > 0) throw new Error(`containerd ${this.pid}: could not clean up:\n${failures.join('\n')}`);
    return found;
  }
}

/**
 * An executable that runs `node script ARGS…`, for --runc-binary when the shim's PATH may not find
 * `node` for a `#!/usr/bin/env node` script (it inherits containerd's environment: the test run's).
 * Written into `dir` (a test's temp directory), returned as an absolute path.
 */
export function nodeRuntimeWrapper(dir: string, script: string, name = 'runtime'): string {
  const file = path.join(dir, name);
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  writeFileSync(file, `#!/bin/sh\nexec ${q(process.execPath)} ${q(path.resolve(script))} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}
