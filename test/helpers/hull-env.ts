// A private hull for one integration test file: its own --root, --run-root and cgroup parent, the
// busybox image loaded, a CLI runner, and a teardown that fails the test on anything left behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import { busyboxImageTar, hasBusybox } from './busybox-image.js';

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

  constructor() {
    const base = mkdtempSync(path.join(tmpdir(), 'hull-it-'));
    this.root = path.join(base, 'root');
    this.runRoot = path.join(base, 'run');
    this.cgroupParent = `hull-test-${path.basename(base)}`;
    this.cgroupRoot = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
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
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `hull ARGS` as a child process, for signal tests. */
  spawnCli(args: string[]) {
    return spawn(process.execPath, [HULL_BIN, ...this.globalArgs(), ...this.withParent(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `hull ARGS` without waiting: for many at once. */
  cliAsync(args: string[]): Promise<CliResult> {
    const child = this.spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  private withParent(args: string[]): string[] {
    return args[0] === 'run' || args[0] === 'create' || args[0] === 'build' ? [args[0], '--cgroup-parent', this.cgroupParent, ...args.slice(1)] : args;
  }

  /**
   * Processes of this env: monitors (hull-monitor holding a file under this env's directory) and
   * anything in this env's cgroups. Zombies do not count (they are only waiting to be reaped).
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
        if (inCgroup || holdsFile) out.push({ pid: Number(entry), comm });
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
    if (existsSync(cg)) out.push(`cgroup: ${cg} (${readdirSync(cg).filter((f) => !f.includes('.')).join(', ')})`);
    const containers = path.join(this.root, 'containers');
    if (existsSync(containers)) for (const c of readdirSync(containers)) out.push(`container dir: ${c}`);
    const runContainers = path.join(this.runRoot, 'containers');
    if (existsSync(runContainers)) for (const c of readdirSync(runContainers)) out.push(`run dir: ${c}`);
    const names = path.join(this.root, 'names');
    if (existsSync(names)) for (const n of readdirSync(names)) out.push(`name: ${n}`);
    for (const p of this.processes()) out.push(`process: ${p.pid} ${p.comm}`);
    return out;
  }

  /** Remove the env; throws if anything of the host had to be cleaned by force. */
  destroy(): void {
    const left = this.leftovers().filter((l) => l.startsWith('mount:') || l.startsWith('cgroup:') || l.startsWith('process:'));
    // What this env's tests started and left running is stopped, by pid, so a failed test leaks nothing.
    for (const p of this.processes()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const cg = path.join(this.cgroupRoot, this.cgroupParent);
    if (existsSync(cg)) {
      for (const c of readdirSync(cg).filter((f) => !f.includes('.'))) spawnSync('rmdir', [path.join(cg, c)]);
      spawnSync('rmdir', [cg]);
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
