/**
 * Image archives written by `hull save`, streamed (never a whole layer in memory):
 *
 * docker-archive (what `docker save` writes since Docker 25, minus the OCI index):
 *   manifest.json                [{ Config, RepoTags, Layers }]
 *   blobs/sha256/<config hex>    the config, byte for byte as loaded (so the image id is the same)
 *   blobs/sha256/<diffID hex>    each layer as an uncompressed tar (its digest is its diffID)
 *
 * oci (an OCI image layout as a tar):
 *   oci-layout, index.json       one index entry per name (io.containerd.image.name + ref.name)
 *   blobs/sha256/<hex>           manifest, config and layer blobs exactly as they were loaded
 *
 * Layer bytes come from the blobs kept at load time (see store/layers.ts), never from re-packing
 * the unpacked directories: a regenerated tar is not byte-identical (header format, entry order,
 * padding, PAX records) and its digest would not match the config's diffIDs.
 */

import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import { DigestStream, parseDigest } from '../digest.js';
import { familiar, parseReference } from '../reference.js';
import { Annotation, MediaType } from '../types.js';
import { TarWriter } from './tar-writer.js';

export type SaveFormat = 'docker-archive' | 'oci';

export interface SaveLayer {
  readonly diffId: string;
  /** The kept blob: its digest, bytes and compression. */
  readonly blobDigest: string;
  readonly blobSize: number;
  readonly compression: 'none' | 'gzip' | 'zstd';
  /** Bytes of the uncompressed tar. */
  readonly tarSize: number;
  open(): Readable;
}

export interface SaveImage {
  readonly id: string;
  readonly configBytes: Buffer;
  /** Normalised names to record (`docker.io/library/busybox:latest`); empty for none. */
  readonly names: readonly string[];
  /** The manifest as loaded, when it describes exactly these blobs (emitted verbatim). */
  readonly manifest: { readonly digest: string; readonly bytes: Buffer } | undefined;
  readonly layers: readonly SaveLayer[];
}

const blobName = (digest: string): string => {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
};

function layerMediaType(compression: SaveLayer['compression']): string {
  return compression === 'gzip' ? MediaType.OciLayerGzip : compression === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

/** The OCI manifest of an image, as loaded when possible, else made from its kept blobs. */
export function ociManifestOf(image: SaveImage): { digest: string; bytes: Buffer } {
  if (image.manifest) return image.manifest;
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: image.id, size: image.configBytes.length },
    layers: image.layers.map((l) => ({ mediaType: layerMediaType(l.compression), digest: l.blobDigest, size: l.blobSize })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** The media type a manifest states (OCI when it states none). */
export function manifestMediaType(bytes: Buffer): string {
  try {
    const mt = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof mt === 'string' ? mt : MediaType.OciManifest;
  } catch {
    return MediaType.OciManifest;
  }
}

/** The layer's uncompressed tar, verified against its diffID while it streams. */
async function uncompressedLayer(layer: SaveLayer, what: string): Promise<AsyncIterable<Buffer>> {
  const { decompress } = await import('../../layer/compression.js');
  const { output } = await decompress(layer.open(), what);
  return pipeline(output, new DigestStream({ expected: layer.diffId, what: `${what} diffID` }), () => undefined) as AsyncIterable<Buffer>;
}

export async function writeDockerArchive(images: readonly SaveImage[], out: Writable): Promise<void> {
  const tar = new TarWriter(out);
  await tar.addDirectory('blobs');
  await tar.addDirectory('blobs/sha256');
  const written = new Set<string>();
  const entries: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  for (const image of images) {
    if (!written.has(image.id)) {
      written.add(image.id);
      await tar.addFile(blobName(image.id), image.configBytes);
    }
    const layerNames: string[] = [];
    for (const layer of image.layers) {
      const name = blobName(layer.diffId);
      layerNames.push(name);
      if (written.has(name)) continue;
      written.add(name);
      const what = `layer ${layer.diffId} of ${image.id}`;
      await tar.addStream(name, layer.tarSize, await uncompressedLayer(layer, what), what);
    }
    const tags = image.names.filter((n) => parseReference(n).digest === undefined).map((n) => familiar(n));
    entries.push({ Config: blobName(image.id), RepoTags: tags.length > 0 ? tags : null, Layers: layerNames });
  }
  await tar.addFile('manifest.json', Buffer.from(`${JSON.stringify(entries)}\n`));
  await tar.finish();
}

export async function writeOciArchive(images: readonly SaveImage[], out: Writable): Promise<void> {
  const tar = new TarWriter(out);
  await tar.addFile('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await tar.addDirectory('blobs');
  await tar.addDirectory('blobs/sha256');
  const written = new Set<string>();
  const index: { schemaVersion: 2; mediaType: string; manifests: Record<string, unknown>[] } = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [],
  };
  for (const image of images) {
    const manifest = ociManifestOf(image);
    const put = async (digest: string, write: () => Promise<void>) => {
      if (written.has(digest)) return;
      written.add(digest);
      await write();
    };
    await put(image.id, () => tar.addFile(blobName(image.id), image.configBytes));
    for (const layer of image.layers) {
      const what = `layer blob ${layer.blobDigest} of ${image.id}`;
      await put(layer.blobDigest, async () => {
        const body = pipeline(layer.open(), new DigestStream({ expected: layer.blobDigest, what }), () => undefined) as AsyncIterable<Buffer>;
        await tar.addStream(blobName(layer.blobDigest), layer.blobSize, body, what);
      });
    }
    await put(manifest.digest, () => tar.addFile(blobName(manifest.digest), manifest.bytes));
    const descriptor = { mediaType: manifestMediaType(manifest.bytes), digest: manifest.digest, size: manifest.bytes.length };
    const tagged = image.names.filter((n) => parseReference(n).tag !== undefined);
    if (tagged.length === 0) index.manifests.push(descriptor);
    for (const name of tagged) {
      index.manifests.push({
        ...descriptor,
        annotations: { [Annotation.ContainerdImageName]: name, [Annotation.RefName]: parseReference(name).tag as string },
      });
    }
  }
  await tar.addFile('index.json', Buffer.from(`${JSON.stringify(index)}\n`));
  await tar.finish();
}
