/**
 * OCI image layout (image-spec "image-layout.md"): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.
 * index.json may list manifests or nested indexes; for each entry the manifest for the wanted
 * platform is chosen. Names come from annotations: `io.containerd.image.name` (a full name, as
 * containerd and Docker write it), else `org.opencontainers.image.ref.name` when it is a full
 * reference; a bare tag (`latest`) names nothing, and the image is loaded untagged.
 */

import { InvalidImageError } from '../../errors.js';
import { parseDigest, verifyDigest } from '../digest.js';
import { expectObject, expectString, parseJson } from '../json.js';
import { formatPlatform, isAttestation, platformMatches, selectManifest } from '../platform.js';
import {
  Annotation,
  INDEX_MEDIA_TYPES,
  LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  parseImageConfig,
  parseIndex,
  parseManifest,
  type Descriptor,
  type Platform,
} from '../types.js';
import { MAX_JSON_BYTES, type ArchiveDir } from './archive-dir.js';
import { normalizeArchiveReference } from './names.js';
import type { ArchiveImage, ArchiveLayer } from './types.js';

/** Nested indexes deeper than this are refused (a cycle would never end). */
const MAX_INDEX_DEPTH = 4;

export function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/** Reads a small blob (JSON), checking its size and digest against the descriptor. */
async function readBlob(dir: ArchiveDir, d: Descriptor, what: string): Promise<Buffer> {
  if (d.size > MAX_JSON_BYTES) throw new InvalidImageError(`${what}: ${d.size} bytes is more than the ${MAX_JSON_BYTES} allowed`);
  const bytes = await dir.readBounded(blobPath(d.digest), MAX_JSON_BYTES);
  if (bytes.length !== d.size) {
    throw new InvalidImageError(`${what}: blob ${d.digest} is ${bytes.length} bytes, the descriptor says ${d.size}`);
  }
  verifyDigest(what, d.digest, bytes);
  return bytes;
}

function referencesOf(d: Descriptor, where: string): string[] {
  const containerdName = d.annotations?.[Annotation.ContainerdImageName];
  if (containerdName) return [normalizeArchiveReference(containerdName, where)];
  const refName = d.annotations?.[Annotation.RefName];
  // A bare tag (the image-layout convention) is not a name; a full reference is.
  if (refName && /[/:@]/.test(refName)) return [normalizeArchiveReference(refName, where)];
  return [];
}

/** Follows nested indexes down to the manifest for `platform`. */
async function manifestFor(dir: ArchiveDir, d: Descriptor, platform: Platform, what: string, depth = 0): Promise<Descriptor> {
  if (MANIFEST_MEDIA_TYPES.has(d.mediaType)) return d;
  if (!INDEX_MEDIA_TYPES.has(d.mediaType)) throw new InvalidImageError(`${what}: unsupported media type ${d.mediaType}`);
  if (depth >= MAX_INDEX_DEPTH) throw new InvalidImageError(`${what}: indexes nested too deeply`);
  const index = parseIndex(parseJson(await readBlob(dir, d, what), what), what);
  const chosen = selectManifest(index.manifests, platform, `${what} (${d.digest})`);
  return manifestFor(dir, chosen, platform, `${what} → ${chosen.digest}`, depth + 1);
}

async function readImage(dir: ArchiveDir, d: Descriptor, references: string[], what: string): Promise<ArchiveImage> {
  const manifestBytes = await readBlob(dir, d, `${what} manifest`);
  const manifest = parseManifest(parseJson(manifestBytes, `${what} manifest`), `${what} manifest`);
  const configBytes = await readBlob(dir, manifest.config, `${what} config`);
  const config = parseImageConfig(parseJson(configBytes, `${what} config`), `${what} config`);
  const layers: ArchiveLayer[] = manifest.layers.map((l, i) => {
    if (!LAYER_MEDIA_TYPES.has(l.mediaType)) {
      throw new InvalidImageError(`${what} manifest: layer ${i} has unsupported media type ${l.mediaType}`);
    }
    const name = blobPath(l.digest);
    return { name, digest: l.digest, open: () => dir.open(name) };
  });
  return { references, configBytes, config, manifest: { digest: d.digest, bytes: manifestBytes }, layers, what };
}

export async function readOciLayout(dir: ArchiveDir, platform: Platform): Promise<ArchiveImage[]> {
  const layout = expectObject(parseJson(await dir.readBounded('oci-layout'), 'oci-layout'), 'oci-layout');
  const version = expectString(layout.imageLayoutVersion, 'oci-layout.imageLayoutVersion');
  if (!version.startsWith('1.')) throw new InvalidImageError(`oci-layout: unsupported imageLayoutVersion ${version}`);
  const index = parseIndex(parseJson(await dir.readBounded('index.json'), 'index.json'), 'index.json');

  const images: ArchiveImage[] = [];
  for (const [i, d] of index.manifests.entries()) {
    const what = `index.json manifests[${i}]`;
    if (isAttestation(d)) continue;
    if (!MANIFEST_MEDIA_TYPES.has(d.mediaType) && !INDEX_MEDIA_TYPES.has(d.mediaType)) continue; // artifacts, signatures
    if (MANIFEST_MEDIA_TYPES.has(d.mediaType) && d.platform && !platformMatches(platform, d.platform)) continue;
    const references = referencesOf(d, what);
    const manifest = await manifestFor(dir, d, platform, what);
    images.push(await readImage(dir, manifest, references, what));
  }
  if (images.length === 0) {
    throw new InvalidImageError(`OCI layout ${dir.root}: no image for ${formatPlatform(platform)} in index.json`);
  }
  return images;
}
