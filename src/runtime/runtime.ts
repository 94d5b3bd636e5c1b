/**
 * The container lifecycle for hull's first verbs: create (image + options → record + runtime-spec
 * bundle), start (cgroup, plan, spawn, release), and the clean-up after exit. Every failure path
 * removes what was made: cgroup, run files, and for --rm the whole container.
 */
import { closeSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, HullError, fromNodeError } from '../errors.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { ContainerCgroup, HULL_CGROUP_PARENT, cgroup2Root } from './cgroups.js';
import { type ContainerRecord, ContainerStore, newContainerId } from './container-store.js';
import { readImageFile } from './image-files.js';
import { type RootfsLayers, buildPlan, namespacesOf } from './plan.js';
import { ContainerProcess, exitCodeOf } from './process.js';
import type { RuntimeSpec } from './spec.js';
import { type ProcessOptions, buildSpec } from './specconv.js';
import { type StdioOptions, type WiredStdio, wireStdio } from './stdio.js';
import type { Terminal } from './terminal.js';
import { resolveUser } from './user.js';
import { ensureInitLayer } from './init-layer.js';
import { processStartTime } from './liveness.js';
import { trace } from '../trace.js';

export interface CreateOptions extends ProcessOptions {
  /** An image reference or id. */
  image: string;
  name?: string;
  /** USER[:GROUP], names looked up in the image's /etc/passwd and /etc/group. */
  user?: string;
  groupAdd?: string[];
  hostname?: string;
  /** Remove the container when it exits (`--rm`). */
  remove?: boolean;
  /** The cgroup the container's cgroup is made in, relative to the cgroup2 root. Default 'hull'. */
  cgroupParent?: string;
}

/** Set on specs made by `create`: make the working directory if the image lacks it, as Docker does. */
export const ANNOTATION_CREATE_WORKDIR = 'io.hull.workdir.create';

export interface StartOptions extends StdioOptions {
  /** Relay the container's console to hull's own terminal (for `run -t`), with stdin when `interactive`. */
  attachTerminal?: boolean;
  interactive?: boolean;
}

export class Runtime {
  readonly containers: ContainerStore;

  constructor(
    private readonly paths: StorePaths,
    private readonly images: ImageStore,
  ) {
    this.containers = new ContainerStore(paths);
  }

  async create(opts: CreateOptions): Promise<ContainerRecord> {
    trace('create');
    const image = await this.images.resolve(opts.image);
    trace('image resolved');
    const id = newContainerId();
    const hostname = opts.hostname ?? id.slice(0, 12);
    const lowestFirst = image.layerLinks;
    const passwd = readImageFile(image.layerDirs, '/etc/passwd');
    const group = readImageFile(image.layerDirs, '/etc/group');
    trace('passwd/group read');
    const user = resolveUser(opts.user ?? image.config.config?.User ?? '', passwd, group, opts.groupAdd);
    const dir = this.containers.dir(id);
    const rootfs: RootfsLayers = {
      lower: [ensureInitLayer(this.paths), ...[...lowestFirst].reverse()],
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
    };
    const spec = buildSpec({
      ...opts,
      image: image.config,
      user,
      hostname,
      rootfsPath: path.join(this.containers.runDir(id), 'rootfs'),
      annotations: { 'io.hull.image': opts.image, 'io.hull.image.id': image.id, [ANNOTATION_CREATE_WORKDIR]: 'true' },
    });
    const name = await this.containers.reserveName(id, opts.name);
    trace('name reserved');
    const record: ContainerRecord = {
      id,
      name,
      image: opts.image,
      imageId: image.id,
      created: new Date().toISOString(),
      command: spec.process.args,
      rootfs,
      autoRemove: opts.remove ?? false,
      cgroupParent: opts.cgroupParent ?? HULL_CGROUP_PARENT,
      state: { status: 'created' },
    };
    try {
      await this.containers.create(record, spec);
      trace('container dirs and bundle written');
    } catch (err) {
      await this.containers.remove(record);
      throw fromNodeError(err, 'create container', dir);
    }
    return record;
  }

  /** Start a created container; resolves once its command is running. */
  async start(record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
    let cgroup: ContainerCgroup | undefined;
    let stdio: WiredStdio | undefined;
    let proc: ContainerProcess | undefined;
    try {
      const spec = JSON.parse(readFileSync(path.join(this.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
      if (opts.attachTerminal && spec.process.terminal && process.stdout.isTTY) {
        spec.process.consoleSize = { height: process.stdout.rows, width: process.stdout.columns };
      }
      trace('config read');
      const etcFiles = await this.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
      // Docker makes a missing working directory; a bare OCI bundle (runc's contract) must have it.
      const createCwd = spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true';
      const steps = buildPlan(spec, record.rootfs, { createCwd, etcFiles, isFile: isHostFile });
      trace('etc files written, plan built');
      cgroup = await ContainerCgroup.create(await cgroup2Root(), record.id, record.cgroupParent);
      trace('cgroup made');
      stdio = await wireStdio(spec.process.terminal ? { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' } : opts);
      const cgroupFd = cgroup.openFd();
      trace('stdio wired, cgroup opened');
      try {
        proc = ContainerProcess.spawn({
          namespaces: namespacesOf(spec),
          rootfs: spec.root.path,
          cgroupFd,
          stdio: stdio.childFds,
          steps,
          dieWithParent: true,
        });
      } finally {
        closeSync(cgroupFd);
        stdio.closeChildEnds();
      }
      trace('spawned');
      const { consoleFd } = await proc.start();
      trace('started (execve reached)');
      const terminal = consoleFd === undefined ? undefined : new (await import('./terminal.js')).Terminal(consoleFd, {
        relayToHost: opts.attachTerminal ?? false,
        interactive: opts.interactive ?? false,
      });
      record.state = { status: 'running', pid: proc.pid, pidStartTime: processStartTime(proc.pid), startedAt: new Date().toISOString() };
      await this.containers.save(record);
      trace('state saved');
      const made = cgroup;
      return new RunningContainer(record, proc, stdio, terminal, () => this.finish(record, made));
    } catch (err) {
      stdio?.stop();
      if (proc) await proc.wait();
      await cgroup?.remove();
      record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
      if (record.autoRemove) await this.containers.remove(record);
      else await this.containers.save(record);
      throw err;
    }
  }

  /** Remove a container that is not running, with whatever a killed hull left of it (its cgroup). */
  async remove(idOrName: string): Promise<void> {
    const record = await this.containers.get(idOrName);
    if (record.state.status === 'running') throw new ConflictError(`cannot remove container ${record.name}: it is running`);
    const root = await cgroup2Root();
    await ContainerCgroup.existing(root, record.id, record.cgroupParent)?.remove();
    await this.containers.remove(record);
  }

  private async finish(record: ContainerRecord, cgroup: ContainerCgroup): Promise<void> {
    trace('exited, output drained');
    await cgroup.remove();
    trace('cgroup removed');
    if (record.autoRemove) await this.containers.remove(record);
    else await this.containers.save(record);
    trace('container removed or saved');
  }

  /** /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, in its run directory. */
  private async writeEtcFiles(id: string, hostname: string): Promise<{ hostname: string; hosts: string; resolvConf: string }> {
    const dir = this.containers.runDir(id);
    mkdirSync(dir, { recursive: true });
    const files = {
      hostname: path.join(dir, 'hostname'),
      hosts: path.join(dir, 'hosts'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
    const hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      `127.0.1.1\t${hostname}`,
      '',
    ].join('\n');
    writeFileSync(files.hostname, `${hostname}\n`);
    writeFileSync(files.hosts, hosts);
    writeFileSync(files.resolvConf, containerResolvConf(hostResolvConf()));
    return files;
  }
}

function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return ''; // a host without resolv.conf: the container gets the public fallbacks
  }
}

function isHostFile(hostPath: string): boolean {
  try {
    return !statSync(hostPath).isDirectory();
  } catch {
    return false; // a missing source fails in the plan's mount step, with its path
  }
}

/** The host's resolv.conf without loopback nameservers (unreachable from the container's own
 *  network namespace); Docker's public fallbacks when nothing is left. */
export function containerResolvConf(host: string): string {
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.filter((l, i, all) => l !== '' || i < all.length - 1).join('\n') + '\n';
}

/** A started container: its streams, signals, and the promise of its exit code. */
export class RunningContainer {
  private readonly exitCode: Promise<number>;

  constructor(
    readonly record: ContainerRecord,
    private readonly proc: ContainerProcess,
    private readonly stdio: WiredStdio,
    readonly terminal: Terminal | undefined,
    finish: () => Promise<void>,
  ) {
    this.exitCode = (async () => {
      const status = await proc.wait();
      const code = exitCodeOf(status);
      this.stdio.stop();
      await Promise.all([this.stdio.drained(), this.terminal?.closed()]);
      record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
      delete record.state.pid;
      await finish();
      return code;
    })();
  }

  get id(): string {
    return this.record.id;
  }
  get name(): string {
    return this.record.name;
  }
  get pid(): number {
    return this.proc.pid;
  }
  get stdin() {
    return this.stdio.stdin;
  }
  get stdout() {
    return this.stdio.stdout;
  }
  get stderr() {
    return this.stdio.stderr;
  }

  /** Send a signal to the container's first process. */
  kill(signal: number): void {
    this.proc.signal(signal);
  }

  /** Resolves with the exit code (Docker's: 128 + signal when killed) once everything is cleaned up. */
  wait(): Promise<number> {
    return this.exitCode;
  }
}
