/**
 * A build step's layer: the diff of an upper directory (../layer/diff.ts) written once as a gzip
 * blob while both its digest and its diffID are hashed, then stored the way a loaded layer is
 * (verified and unpacked once).
 */

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { diffTar } from '../layer/diff.js';
import { uniqueName } from '../store/atomic-file.js';
import type { ImageStore } from '../store/image-store.js';
import { trace } from '../trace.js';

/** Stores the diff of `upper` as a layer (its blob made under `workDir`); its diffID, or undefined when nothing changed. */
export async function commitLayer(images: ImageStore, workDir: string, upper: string): Promise<string | undefined> {
  if (readdirSync(upper).length === 0) return undefined;
  return storeTarLayer(images, workDir, diffTar(upper), `build layer`);
}

/**
 * Stores an uncompressed layer tar (a diff, or `import`'s archive) as a layer: gzipped once into a
 * blob under `workDir` while its diffID and digest are hashed, then verified and unpacked as a
 * loaded layer is. Returns its diffID. `what` names it in errors.
 */
export async function storeTarLayer(images: ImageStore, workDir: string, tar: Readable, what: string): Promise<string> {
  const blob = path.join(workDir, uniqueName('layer'));
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const hashTar = new PassThrough();
  hashTar.on('data', (c: Buffer) => tarHash.update(c));
  const hashBlob = new PassThrough();
  hashBlob.on('data', (c: Buffer) => blobHash.update(c));
  try {
    await pipeline(tar, hashTar, createGzip(), hashBlob, createWriteStream(blob));
    const diffId = `sha256:${tarHash.digest('hex')}`;
    const digest = `sha256:${blobHash.digest('hex')}`;
    trace('build: layer diffed');
    await images.storeLayer(diffId, { open: async () => createReadStream(blob), digest, what: `${what} ${diffId}` });
    trace('build: layer stored');
    return diffId;
  } finally {
    rmSync(blob, { force: true });
  }
}
