// A private hull for one integration test file: its own --root, --run-root and cgroup parent, the
// busybox image loaded, a CLI runner, and a teardown that fails the test on anything left behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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

  /** `hull ARGS` synchronously; `run` gets this env's cgroup parent. */
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

  private withParent(args: string[]): string[] {
    return args[0] === 'run' ? ['run', '--cgroup-parent', this.cgroupParent, ...args.slice(1)] : args;
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
    return out;
  }

  /** Remove the env; throws if anything of the host had to be cleaned by force. */
  destroy(): void {
    const left = this.leftovers().filter((l) => l.startsWith('mount:') || l.startsWith('cgroup:'));
    rmSync(this.base, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`leaked on the host:\n${left.join('\n')}`);
  }
}

/** A layer directory's listing with sizes and modes, to prove it is unchanged. */
export function snapshotTree(dir: string): string {
  const r = spawnSync('find', [dir, '-printf', '%P %y %m %s %T@\\n'], { encoding: 'utf8' });
  return r.stdout.split('\n').sort().join('\n');
}
