/**
 * The library's build entry: the context (a directory, or a tar or a lone Dockerfile on a
 * stream, as `docker build -` takes stdin), the Dockerfile, the store lock, then ./builder.ts.
 */

import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildError, fromNodeError } from '../errors.js';
import type { Credentials } from '../registry/credentials.js';
import type { PullEvent } from '../registry/pull.js';
import type { Runtime } from '../runtime/runtime.js';
import { uniqueName } from '../store/atomic-file.js';
import { cleanTmp } from '../store/gc.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { Builder, type BuildOptions, type BuildResult } from './builder.js';

export type { BuildResult } from './builder.js';

export interface BuildRequest extends Omit<BuildOptions, 'contextDir' | 'dockerfile' | 'dockerfileName'> {
  /** A directory, or a stream holding a tar of the context (plain or gzip) or just a Dockerfile. */
  context: string | Readable;
  /** The Dockerfile's path (default: `Dockerfile` in the context; inside the tar for a tar context). */
  dockerfile?: string;
  /** The Dockerfile's text (`-f -`): overrides `dockerfile`. */
  dockerfileText?: string;
  /** Progress of pulling base images (Hull.build pulls those not stored, and all with `pull`). */
  onPullProgress?: (event: PullEvent) => void;
  /** Credentials for pulling base images, by registry as references name it (`docker.io`, `host:port`): the Engine API's X-Registry-Config. */
  registryCredentials?: Readonly<Record<string, Credentials>>;
}

const MAX_DOCKERFILE = 16 * 1024 * 1024;

function readDockerfile(file: string): string {
  try {
    if (statSync(file).size > MAX_DOCKERFILE) throw new BuildError(`${file}: a Dockerfile larger than 16 MiB`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BuildError(`unable to prepare context: the Dockerfile ${file} does not exist`);
    throw fromNodeError(err, 'read', file);
  }
}

export async function buildImage(paths: StorePaths, images: ImageStore, runtime: Runtime, req: BuildRequest): Promise<BuildResult> {
  await images.ensureLayout();
  const temp = path.join(paths.tmp, uniqueName('context'));
  let contextDir: string;
  let dockerfile = req.dockerfileText;
  let dockerfileName = req.dockerfileText !== undefined ? 'Dockerfile' : (req.dockerfile ?? 'Dockerfile');
  try {
    if (typeof req.context === 'string') {
      contextDir = path.resolve(req.context);
      try {
        if (!statSync(contextDir).isDirectory()) throw new BuildError(`unable to prepare context: ${req.context} is not a directory`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BuildError(`unable to prepare context: path "${req.context}" not found`);
        throw err;
      }
      if (dockerfile === undefined) {
        const file = req.dockerfile !== undefined ? path.resolve(req.dockerfile) : path.join(contextDir, 'Dockerfile');
        dockerfile = readDockerfile(file);
        dockerfileName = req.dockerfile ?? 'Dockerfile';
      }
    } else {
      mkdirSync(temp, { recursive: true, mode: 0o700 });
      const raw = path.join(temp, 'stdin');
      await pipeline(req.context, createWriteStream(raw));
      const head = Buffer.alloc(512);
      const fd = openSync(raw, 'r');
      let n: number;
      try {
        n = readSync(fd, head, 0, 512, 0);
      } finally {
        closeSync(fd);
      }
      const isTar = (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) || (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar');
      contextDir = path.join(temp, 'context');
      if (isTar) {
        const { extractTar } = await import('../layer/unpack.js');
        await extractTar(createReadStream(raw), contextDir, { what: 'build context' });
        if (dockerfile === undefined) {
          const name = req.dockerfile ?? 'Dockerfile';
          const file = path.join(contextDir, path.posix.normalize(`/${name}`));
          if (!existsSync(file)) throw new BuildError(`unable to prepare context: the Dockerfile ${name} is not in the context`);
          dockerfile = readDockerfile(file);
        }
      } else {
        // `hull build - < Dockerfile`: the Dockerfile alone, an empty context.
        mkdirSync(contextDir);
        if (dockerfile === undefined) dockerfile = readFileSync(raw, 'utf8');
      }
      rmSync(raw, { force: true });
    }
    const lock = await images.lock('shared');
    try {
      await cleanTmp(paths, false); // what killed builds left (mounts included)
      const { context: _c, dockerfile: _d, dockerfileText: _t, ...rest } = req;
      return await new Builder(paths, images, runtime, { ...rest, contextDir, dockerfile, dockerfileName }).build();
    } finally {
      lock.release();
    }
  } catch (err) {
    if (err instanceof Error && !(err instanceof BuildError) && err.name === 'AbortError') throw new BuildError('build canceled');
    throw err;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
