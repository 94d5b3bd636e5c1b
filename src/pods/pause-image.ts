/**
 * The image of pods' infra containers, made on demand from the built hull-pause (native/pause.c)
 * as Podman makes its `localhost/podman-pause`: one layer holding `/pause`, its entrypoint. Nothing
 * is pulled; the tag carries hull's version, so a new hull makes its own.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ImageNotFoundError } from '../errors.js';
import { encodeHeader } from '../layer/diff.js';
import { pausePath } from '../native/index.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { HULL_VERSION } from '../version.js';

export const PAUSE_IMAGE = `localhost/hull-pause:${HULL_VERSION}`;

/** A tar of one file, `/pause`, mode 0755. */
function pauseTar(binary: Buffer): Buffer {
  const header = encodeHeader({ name: 'pause', mode: 0o755, uid: 0, gid: 0, size: binary.length, mtime: 0, type: '0' });
  const padding = Buffer.alloc((512 - (binary.length % 512)) % 512);
  return Buffer.concat([header, binary, padding, Buffer.alloc(1024)]);
}

/** The pause image's reference, made first when the store lacks it. */
export async function ensurePauseImage(paths: StorePaths, images: ImageStore): Promise<string> {
  try {
    await images.resolve(PAUSE_IMAGE);
    return PAUSE_IMAGE;
  } catch (err) {
    if (!(err instanceof ImageNotFoundError)) throw err;
  }
  const { importTar } = await import('../build/commit.js');
  await images.createLayout();
  const lock = await images.lock('shared');
  try {
    await importTar(paths, images, Readable.from([pauseTar(readFileSync(pausePath()))]), {
      changes: ['ENTRYPOINT ["/pause"]', 'LABEL io.hull.pause=true'],
      message: 'hull pod infra image',
      reference: PAUSE_IMAGE,
    });
  } finally {
    lock.release();
  }
  return PAUSE_IMAGE;
}
