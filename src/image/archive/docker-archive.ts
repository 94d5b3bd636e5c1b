/**
 * `docker save` archives: `manifest.json` = [{ Config, RepoTags, Layers }], with the config and
 * layer tars at the paths it names (legacy `<id>/layer.tar`, possibly symlinks to each other,
 * or `blobs/sha256/<hex>` since Docker 25). Layers may be plain or compressed tars.
 */

import path from 'node:path';
import { InvalidImageError } from '../../errors.js';
import { verifyDigest } from '../digest.js';
import { expectArray, expectObject, expectString, expectStringArray, optional, parseJson } from '../json.js';
import { parseImageConfig } from '../types.js';
import type { ArchiveDir } from './archive-dir.js';
import { normalizeArchiveReference } from './names.js';
import type { ArchiveImage, ArchiveLayer } from './types.js';

interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseDockerManifest(v: unknown): DockerArchiveEntry[] {
  return expectArray(v, 'manifest.json').map((item, i) => {
    const where = `manifest.json[${i}]`;
    const obj = expectObject(item, where);
    return {
      Config: expectString(obj.Config, `${where}.Config`),
      RepoTags: optional(obj.RepoTags, `${where}.RepoTags`, expectStringArray) ?? [],
      Layers: expectStringArray(obj.Layers, `${where}.Layers`),
    };
  });
}

/** A digest stated by a file's own name: `blobs/sha256/<hex>` or a legacy `<hex>.json` config. */
function digestFromName(name: string): string | undefined {
  const blob = /(?:^|\/)blobs\/(sha256|sha512)\/([a-f0-9]{64,128})$/.exec(name);
  if (blob) return `${blob[1]}:${blob[2]}`;
  const legacyConfig = /^([a-f0-9]{64})\.json$/.exec(path.posix.basename(name));
  return legacyConfig ? `sha256:${legacyConfig[1]}` : undefined;
}

export async function readDockerArchive(dir: ArchiveDir): Promise<ArchiveImage[]> {
  const entries = parseDockerManifest(parseJson(await dir.readBounded('manifest.json'), 'manifest.json'));
  const images: ArchiveImage[] = [];
  for (const [i, entry] of entries.entries()) {
    const what = `manifest.json[${i}]`;
    const configBytes = await dir.readBounded(entry.Config);
    const configDigest = digestFromName(entry.Config);
    if (configDigest !== undefined) verifyDigest(`${what} config ${entry.Config}`, configDigest, configBytes);
    const config = parseImageConfig(parseJson(configBytes, `${what} config`), `${what} config`);
    const references = entry.RepoTags.map((tag, j) => normalizeArchiveReference(tag, `${what}.RepoTags[${j}]`));
    const layers: ArchiveLayer[] = entry.Layers.map((name) => ({
      name,
      digest: /(?:^|\/)blobs\//.test(name) ? digestFromName(name) : undefined,
      open: () => dir.open(name),
    }));
    images.push({ references, configBytes, config, manifest: undefined, layers, what });
  }
  if (images.length === 0) throw new InvalidImageError(`docker archive ${dir.root}: manifest.json lists no images`);
  return images;
}
