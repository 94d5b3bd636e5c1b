// The CRI tier: Debian's containerd with its CRI plugin on (what kubelet talks to), runtime handlers
// `hull` (hull-runc's native front) and `runc` (Debian's) under the runc shim, CNI from Debian's
// containernetworking-plugins, a local docker-registry serving the images cri-images.ts makes under
// their upstream names, and crictl/critest built by scripts/peer-tests/build-cri-tools.sh.
//
//   const tier = await CriTier.start();               // about 5 s
//   const r = await tier.crictl(['runp', '--runtime', 'hull', podJson]);
//   expect(await tier.leftovers()).toEqual([]);
//   await tier.stop();                                 // returns what was still there ([] when clean)
//
// Everything is private. containerd runs in its own mount, network, IPC and UTS namespaces
// (containerd.ts): the CNI bridge (hullcri0), portmap's iptables chains, the pods' netns files,
// host-network pods, host-IPC pods' SysV segments and every mount die with it, and the registry
// listens on 127.0.0.1 inside that network namespace (so does containerd's streaming server): crictl,
// critest and skopeo run there too, through nsenter. What outlives the namespaces — the shims, the
// containers' processes and the cgroups /k8s.io/<id> in every hierarchy — stop() removes by pid and by
// name; it refuses to start when /k8s.io already exists, so it never removes a cgroup it did not make.
// One tier per test run is enough (the CRI tier's test file starts it once): CI time matters.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasBusybox } from './busybox-image.js';
import { CRI_NAMESPACE, type Containerd, cgroupRoots, containerdSkipReason, startContainerd } from './containerd.js';
import { PAUSE_IMAGE, hasStaticCc, makeCriImages } from './cri-images.js';
import { PROJECT } from './hull-env.js';

/** crictl and critest, where build-cri-tools.sh puts them. */
const CRI_TOOLS_BIN = path.join(process.env.HULL_PEER_BUILD ?? path.join(PROJECT, 'tmp', 'peer'), 'cri-tools', 'build', 'bin', 'linux', 'amd64');
export const CRICTL = path.join(CRI_TOOLS_BIN, 'crictl');
export const CRITEST = path.join(CRI_TOOLS_BIN, 'critest');
/** hull-runc's native front: what a node's containerd config names as the `hull` handler's BinaryName. */
export const HULL_RUNC = path.join(PROJECT, 'build', 'Release', 'hull-runc');
export const RUNC = '/usr/sbin/runc';
const CNI_BIN = '/usr/lib/cni';
const REGISTRY_PORT = 5000;
/** The registry hosts critest's and containerd's images come from; all of them are the local registry here. */
const MIRRORED_HOSTS = ['registry.k8s.io', 'gcr.io', 'public.ecr.aws', 'docker.io'];
export const CNI_BRIDGE = 'hullcri0';

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function why(): string {
  if (containerdSkipReason !== '') return containerdSkipReason;
  const missing: string[] = [];
  for (const cmd of ['docker-registry', 'skopeo', 'iptables', 'ip']) if (!onPath(cmd)) missing.push(cmd);
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) if (!existsSync(path.join(CNI_BIN, p))) missing.push(`${CNI_BIN}/${p}`);
  if (!existsSync(RUNC)) missing.push(RUNC);
  if (!hasBusybox()) missing.push('busybox-static');
  if (!hasStaticCc()) missing.push('cc');
  if (missing.length > 0) return `; skipped: needs ${missing.join(', ')} (scripts/install-deps.sh test)`;
  if (!existsSync(HULL_RUNC) || !existsSync(path.join(PROJECT, 'dist', 'hull-runc.cjs'))) return '; skipped: needs npm run build';
  if (!existsSync(CRICTL) || !existsSync(CRITEST)) return '; skipped: needs crictl and critest (bash scripts/peer-tests/build-cri-tools.sh)';
  return '';
}

/** Why the CRI tier skips here, for a suite's title ('' when it runs). */
export const criSkipReason = why();

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CNI network of the tier's pods: a private bridge and subnet (inside containerd's own network namespace). */
function cniConfig(): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'hull-cri',
      plugins: [
        {
          type: 'bridge',
          bridge: CNI_BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.233.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function registryConfig(storage: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    'http:',
    `  addr: 127.0.0.1:${REGISTRY_PORT}`,
    '',
  ].join('\n');
}

/** deploy/kubernetes/containerd-hull.toml (what the README ships) with another BinaryName and Root. */
export function hullRuntimeSection(binary: string, root: string): string {
  const text = readFileSync(path.join(PROJECT, 'deploy', 'kubernetes', 'containerd-hull.toml'), 'utf8');
  let replaced = 0;
  const out = text.replace(/^(\s*)(BinaryName|Root) = ".*"$/gm, (_m, indent: string, key: string) => {
    replaced++;
    return `${indent}${key} = ${JSON.stringify(key === 'BinaryName' ? binary : root)}`;
  });
  if (replaced !== 2) throw new Error('deploy/kubernetes/containerd-hull.toml: expected one BinaryName and one Root');
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Run a command line to its end, collecting its output; killed (SIGKILL) after timeoutMs. */
export function collect(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export class CriTier {
  private registry: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly containerd: Containerd,
  ) {}

  /** containerd's CRI socket (crictl --runtime-endpoint, critest --runtime-endpoint). */
  get endpoint(): string {
    return `unix://${this.containerd.address}`;
  }

  /**
   * A new tier: images made and pushed, containerd answering CRI. Handlers: `hull` (hull-runc) and
   * `runc`; `default` picks containerd's default_runtime_name (a pod without --runtime).
   */
  static async start(opts: { default?: 'hull' | 'runc' } = {}): Promise<CriTier> {
    const taken = cgroupRoots().filter((root) => existsSync(path.join(root, CRI_NAMESPACE)));
    if (taken.length > 0)
      throw new Error(`the CRI tier's cgroup /${CRI_NAMESPACE} already exists (${taken.join(', ')}): another CRI runtime, or a run that crashed; remove it`);
    const dir = mkdtempSync(path.join(tmpdir(), 'hull-cri-'));
    let ctd: Containerd | undefined;
    let tier: CriTier | undefined;
    try {
      const images = await makeCriImages(path.join(dir, 'images'));
      const cniConfDir = path.join(dir, 'cni');
      mkdirSync(cniConfDir);
      writeFileSync(path.join(cniConfDir, '10-hull-cri.conflist'), cniConfig());
      const hostsDir = path.join(dir, 'certs.d');
      for (const host of MIRRORED_HOSTS) {
        mkdirSync(path.join(hostsDir, host), { recursive: true });
        const server = `http://127.0.0.1:${REGISTRY_PORT}`;
        writeFileSync(path.join(hostsDir, host, 'hosts.toml'), `server = "${server}"\n\n[host."${server}"]\n  capabilities = ["pull", "resolve"]\n`);
      }
      // hull's handler is the section the README ships (deploy/kubernetes/), with this tier's paths
      ctd = await startContainerd({
        cri: {
          runtimes: { runc: RUNC },
          defaultRuntime: opts.default ?? 'hull',
          extraToml: hullRuntimeSection(HULL_RUNC, path.join(dir, 'hull-runc-root')),
          cniConfDir,
          registryConfigPath: hostsDir,
          sandboxImage: PAUSE_IMAGE,
        },
      });
      tier = new CriTier(dir, ctd);
      await tier.startRegistry();
      // four at a time (each skopeo is a process of its own), the tags of one repository one after
      // another: the registry answers 500 to concurrent pushes of the same blob to one repository
      const byRepo = new Map<string, typeof images>();
      for (const img of images) {
        const repo = img.name.slice(img.name.indexOf('/') + 1).replace(/:[^/:]+$/, '');
        byRepo.set(repo, [...(byRepo.get(repo) ?? []), img]);
      }
      const queue = [...byRepo.values()];
      const push = async (): Promise<void> => {
        for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
          for (const img of group) {
            const dest = `docker://127.0.0.1:${REGISTRY_PORT}/${img.name.slice(img.name.indexOf('/') + 1)}`;
            const r = await collect(
              tier!.inNamespaces(['skopeo', '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${img.ociDir}`, dest]),
              { timeoutMs: 60_000 },
            );
            if (r.code !== 0) throw new Error(`skopeo copy ${img.name}: ${r.stderr.trim()}`);
          }
        }
      };
      await Promise.all([push(), push(), push(), push()]);
      rmSync(path.join(dir, 'images'), { recursive: true, force: true });
      const v = await tier.crictl(['version']);
      if (v.code !== 0) throw new Error(`crictl version: ${v.stderr.trim()}\n${tier.logTail()}`);
      return tier;
    } catch (err) {
      if (tier !== undefined) await tier.stop().catch(() => undefined);
      else if (ctd !== undefined) await ctd.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The last lines of containerd's log (for failure messages). */
  logTail(lines = 30): string {
    try {
      return readFileSync(path.join(this.containerd.dir, 'containerd.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** A command line that runs ARGV in containerd's mount, network, IPC and UTS namespaces (in the caller's directory). */
  inNamespaces(argv: string[]): string[] {
    return ['nsenter', `--target=${this.containerd.pid}`, '--mount', '--net', '--ipc', '--uts', `--wd=${process.cwd()}`, '--', ...argv];
  }

  /** `crictl ARGS` against the tier. */
  crictl(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return collect(this.inNamespaces([CRICTL, '--runtime-endpoint', this.endpoint, '--image-endpoint', this.endpoint, '--timeout', '30s', ...args]), opts);
  }

  /** `crictl ARGS` with a terminal for its stdin and stdout (util-linux's `script`): what `crictl exec -it` needs. */
  crictlTty(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
    const line = [CRICTL, '--runtime-endpoint', this.endpoint, '--image-endpoint', this.endpoint, '--timeout', '30s', ...args].map(q).join(' ');
    return collect(this.inNamespaces(['script', '--quiet', '--return', '--command', line, '/dev/null']), opts);
  }

  /** `critest ARGS` against the tier (its own flags first, then --ginkgo.* ones). */
  critest(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    // --log_dir: its glog files would go to /tmp and stay there
    const logs = path.join(this.dir, 'critest-logs');
    mkdirSync(logs, { recursive: true });
    return collect(this.inNamespaces([CRITEST, '--runtime-endpoint', this.endpoint, '--image-endpoint', this.endpoint, `--log_dir=${logs}`, ...args]), {
      timeoutMs: opts.timeoutMs ?? 600_000,
    });
  }

  private async startRegistry(): Promise<void> {
    const storage = path.join(this.dir, 'registry');
    mkdirSync(storage);
    const config = path.join(this.dir, 'registry.yml');
    writeFileSync(config, registryConfig(storage));
    const log = openSync(path.join(this.dir, 'registry.log'), 'a');
    // nsenter execs the registry: the pid is the registry's own
    const child = spawn('nsenter', [`--target=${this.containerd.pid}`, '--net', '--', 'docker-registry', 'serve', config], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    child.unref();
    this.registry = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${readFileSync(path.join(this.dir, 'registry.log'), 'utf8')}`);
      const r = await collect(this.inNamespaces(['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${REGISTRY_PORT}`]), { timeoutMs: 5_000 }).catch(() => null);
      if (r?.code === 0) return;
      if (Date.now() > deadline) throw new Error(`docker-registry did not listen on 127.0.0.1:${REGISTRY_PORT} in containerd's network namespace`);
      await sleep(100);
    }
  }

  /** Pods and containers CRI still knows, shims, the containers' processes, mounts and cgroups of the tier. [] when clean. */
  async leftovers(): Promise<string[]> {
    const out: string[] = [];
    const pods = await this.crictl(['pods', '-q']);
    for (const id of pods.stdout.split('\n').filter((l) => l.trim() !== '')) out.push(`pod: ${id}`);
    const ctrs = await this.crictl(['ps', '-a', '-q']);
    for (const id of ctrs.stdout.split('\n').filter((l) => l.trim() !== '')) out.push(`container: ${id}`);
    if (pods.code !== 0 || ctrs.code !== 0) out.push(`(crictl failed: ${pods.stderr.trim()} ${ctrs.stderr.trim()})`);
    out.push(...(await this.containerd.leftovers()).filter((l) => !l.startsWith('(ctr')));
    return out;
  }

  /** The registry, then containerd with everything it left (containerd.ts). Returns what was still there; throws if something stayed. */
  async stop(): Promise<string[]> {
    const found = this.containerd.running() ? await this.leftovers().catch((err: unknown) => [`(leftovers: ${String(err)})`]) : [];
    const reg = this.registry?.pid;
    if (reg !== undefined && alive(reg)) {
      process.kill(reg, 'SIGKILL');
      const deadline = Date.now() + 5_000;
      while (alive(reg) && Date.now() < deadline) await sleep(20);
    }
    await this.containerd.stop();
    rmSync(this.dir, { recursive: true, force: true });
    return found;
  }
}
