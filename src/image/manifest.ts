/**
 * What a manifest document is, from its bytes and the Content-Type it came with: an image
 * index / manifest list, an image manifest, or something hull refuses (Docker schema 1, which
 * Docker itself stopped pulling in v28, and anything else).
 */

import { InvalidImageError } from '../errors.js';
import { isObject, parseJson } from './json.js';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, parseIndex, parseManifest, type Index, type Manifest } from './types.js';

export const SCHEMA1_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/** What a registry is asked for, best first (schema 1 listed last so it can be named when refused). */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest, ...SCHEMA1_MEDIA_TYPES].join(
  ', ',
);

/** Manifests larger than this are refused before they are read whole (Docker's bound: 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export type ParsedManifestDocument = { kind: 'index'; mediaType: string; index: Index } | { kind: 'manifest'; mediaType: string; manifest: Manifest };

export function parseManifestDocument(bytes: Buffer, contentType: string | undefined, what: string): ParsedManifestDocument {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (SCHEMA1_MEDIA_TYPES.has(ct)) throw schema1(what);
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new InvalidImageError(`${what}: expected a JSON object`);
  if (doc.schemaVersion === 1) throw schema1(what);
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  // The document's own mediaType wins; else the Content-Type; else its shape.
  const mediaType =
    declared ??
    (INDEX_MEDIA_TYPES.has(ct) || MANIFEST_MEDIA_TYPES.has(ct) ? ct : undefined) ??
    (Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest);
  if (SCHEMA1_MEDIA_TYPES.has(mediaType)) throw schema1(what);
  if (INDEX_MEDIA_TYPES.has(mediaType)) return { kind: 'index', mediaType, index: parseIndex(doc, what) };
  if (MANIFEST_MEDIA_TYPES.has(mediaType)) return { kind: 'manifest', mediaType, manifest: parseManifest(doc, what) };
  throw new InvalidImageError(`${what}: unsupported manifest media type ${mediaType}`);
}

function schema1(what: string): InvalidImageError {
  return new InvalidImageError(
    `${what}: Docker image manifest schema 1 is not supported (deprecated since 2017): ` +
      'push the image again with a current Docker, podman or skopeo to convert it to schema 2 or OCI',
  );
}
