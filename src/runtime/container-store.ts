/**
 * Containers on disk: one directory per container under `containers/<id>/` holding the bundle's
 * config.json (the runtime-spec), container.json (hull's record) and the writable layer
 * (upper/, work/); per-boot files under the run root. Names are reserved atomically as files
 * under `names/`, so two concurrent `run --name x` cannot both win.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, ContainerNotFoundError, UsageError, fromNodeError } from '../errors.js';
import type { StorePaths } from '../store/paths.js';
import type { RootfsLayers } from './plan.js';
import type { RuntimeSpec } from './spec.js';

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerState {
  status: ContainerStatus;
  pid?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** The image as the user named it, and its id. */
  image: string;
  imageId: string;
  created: string;
  command: string[];
  rootfs: RootfsLayers;
  autoRemove: boolean;
  state: ContainerState;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'nifty', 'quiet', 'sharp', 'sleepy', 'stoic', 'tender', 'vivid', 'wise', 'zen'];
const NAMES = ['babbage', 'curie', 'dijkstra', 'euler', 'hopper', 'knuth', 'lamarr', 'lovelace', 'noether', 'pike', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wirth'];

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

function randomName(): string {
  const pick = (list: readonly string[]) => list[randomBytes(1)[0]! % list.length]!;
  return `${pick(ADJECTIVES)}_${pick(NAMES)}`;
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

export class ContainerStore {
  private readonly names: string;

  constructor(private readonly paths: StorePaths) {
    this.names = path.join(paths.root, 'names');
  }

  dir(id: string): string {
    return path.join(this.paths.containers, id);
  }

  runDir(id: string): string {
    return path.join(this.paths.runContainers, id);
  }

  /** Reserve `name` (or a generated one) for `id`; ConflictError if it is taken. */
  async reserveName(id: string, name: string | undefined): Promise<string> {
    await mkdir(this.names, { recursive: true });
    if (name !== undefined) {
      const bare = name.replace(/^\//, '');
      if (!NAME_RE.test(bare)) throw new UsageError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      await this.claim(bare, id);
      return bare;
    }
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt < 8 ? randomName() : `${randomName()}${attempt}`;
      try {
        await this.claim(candidate, id);
        return candidate;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt > 64) throw err;
      }
    }
  }

  private async claim(name: string, id: string): Promise<void> {
    try {
      await writeFile(path.join(this.names, name), id, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        const owner = await readFile(path.join(this.names, name), 'utf8').catch(() => '?');
        throw new ConflictError(`the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to reuse the name`);
      }
      throw fromNodeError(err, 'create', path.join(this.names, name));
    }
  }

  /** Make the container's directories and write its record and bundle config. */
  async create(record: ContainerRecord, spec: RuntimeSpec): Promise<void> {
    const dir = this.dir(record.id);
    await mkdir(record.rootfs.upper, { recursive: true });
    await mkdir(record.rootfs.work, { recursive: true });
    await mkdir(spec.root.path, { recursive: true });
    await writeJsonAtomic(path.join(dir, 'config.json'), spec);
    await writeJsonAtomic(path.join(dir, 'container.json'), record);
  }

  async save(record: ContainerRecord): Promise<void> {
    await writeJsonAtomic(path.join(this.dir(record.id), 'container.json'), record);
  }

  async get(idOrName: string): Promise<ContainerRecord> {
    const id = await this.resolveId(idOrName);
    try {
      return JSON.parse(await readFile(path.join(this.dir(id), 'container.json'), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError(idOrName);
      throw fromNodeError(err, 'read', path.join(this.dir(id), 'container.json'));
    }
  }

  async list(): Promise<ContainerRecord[]> {
    const ids = await readdir(this.paths.containers).catch(() => [] as string[]);
    const out: ContainerRecord[] = [];
    for (const id of ids) {
      const text = await readFile(path.join(this.dir(id), 'container.json'), 'utf8').catch(() => undefined);
      if (text !== undefined) out.push(JSON.parse(text) as ContainerRecord);
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** A name, a full id, or a unique id prefix. */
  async resolveId(idOrName: string): Promise<string> {
    const bare = idOrName.replace(/^\//, '');
    const byName = await readFile(path.join(this.names, bare), 'utf8').catch(() => undefined);
    if (byName !== undefined) return byName.trim();
    if (/^[0-9a-f]+$/.test(bare)) {
      const ids = await readdir(this.paths.containers).catch(() => [] as string[]);
      const hits = ids.filter((id) => id.startsWith(bare));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new UsageError(`multiple containers match the id prefix ${bare}; give more characters`);
    }
    throw new ContainerNotFoundError(idOrName);
  }

  /** Remove every trace of the container: its name, its directories (record, writable layer), run files. */
  async remove(record: Pick<ContainerRecord, 'id' | 'name'>): Promise<void> {
    const nameFile = path.join(this.names, record.name);
    const owner = await readFile(nameFile, 'utf8').catch(() => undefined);
    if (owner?.trim() === record.id) await unlink(nameFile).catch(() => undefined);
    await rm(this.runDir(record.id), { recursive: true, force: true });
    await rm(this.dir(record.id), { recursive: true, force: true });
  }
}
