/**
 * The library's front door: everything the CLI does, typed. `new Hull().run({ image, cmd })`.
 */
import type { Readable } from 'node:stream';
import { ImageStore } from './store/image-store.js';
import { type StorePaths, storePaths } from './store/paths.js';
import type { ContainerRecord } from './runtime/container-store.js';
import { type CreateOptions, type RunningContainer, Runtime, type StartOptions } from './runtime/runtime.js';

export interface HullOptions {
  /** Persistent state (images, layers, containers). Default /var/lib/hull. */
  root?: string;
  /** Per-boot state (container root mounts, generated /etc files). Default /run/hull. */
  runRoot?: string;
}

export interface RunOptions extends CreateOptions, StartOptions {}

export interface RunResult {
  id: string;
  name: string;
  exitCode: number;
  /** Collected output, when stdout/stderr were 'pipe'. */
  stdout?: Buffer;
  stderr?: Buffer;
}

async function collect(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class Hull {
  readonly paths: StorePaths;
  readonly images: ImageStore;
  readonly runtime: Runtime;

  constructor(opts: HullOptions = {}) {
    this.paths = storePaths(opts.root, opts.runRoot);
    this.images = new ImageStore(this.paths);
    this.runtime = new Runtime(this.paths, this.images);
  }

  /** Load an OCI image layout (directory or tar) or a `docker save` archive (path or stream). */
  load(source: string | Readable) {
    return this.images.load(source);
  }

  listImages() {
    return this.images.list();
  }

  /** Create and start a container; resolves once its command runs. */
  async start(opts: RunOptions): Promise<RunningContainer> {
    const record = await this.runtime.create(opts);
    return this.runtime.start(record, opts);
  }

  /** Run a container to completion: its exit code, and its output when piped. */
  async run(opts: RunOptions): Promise<RunResult> {
    const running = await this.start(opts);
    const [stdout, stderr, exitCode] = await Promise.all([collect(running.stdout), collect(running.stderr), running.wait()]);
    const result: RunResult = { id: running.id, name: running.name, exitCode };
    if (stdout) result.stdout = stdout;
    if (stderr) result.stderr = stderr;
    return result;
  }

  listContainers(): Promise<ContainerRecord[]> {
    return this.runtime.containers.list();
  }

  /** Remove a container that is not running. */
  removeContainer(idOrName: string): Promise<void> {
    return this.runtime.remove(idOrName);
  }
}
