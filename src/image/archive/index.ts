/**
 * Reads an unpacked image archive, whichever format it is: a `docker save` archive (its
 * manifest.json wins when both are present, as in Docker 25+ archives) or an OCI image layout.
 */

import { InvalidImageError } from '../../errors.js';
import { hostPlatform } from '../platform.js';
import type { Platform } from '../types.js';
import { ArchiveDir } from './archive-dir.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import type { ArchiveImage } from './types.js';

export type { ArchiveImage, ArchiveLayer } from './types.js';

export async function readImageArchive(root: string, platform: Platform = hostPlatform()): Promise<ArchiveImage[]> {
  const dir = new ArchiveDir(root);
  if (await dir.exists('manifest.json')) return readDockerArchive(dir);
  if (await dir.exists('oci-layout')) return readOciLayout(dir, platform);
  throw new InvalidImageError(`${root} is neither a docker save archive (no manifest.json) nor an OCI image layout (no oci-layout)`);
}
