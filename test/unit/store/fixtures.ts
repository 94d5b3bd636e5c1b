// Image archives generated on the fly: layers (node-tar packing a real directory with a symlink
// and a hardlink, plus hand-built tars), OCI image layouts (directory or tar) and `docker save`
// archives (the legacy layout, with a layer that is a symlink to another, as Docker writes it).

import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { create as createTar } from 'tar';
import { hostPlatform } from '../../../src/image/platform.js';
import { MediaType, type Platform } from '../../../src/image/types.js';
import { makeTar, type TarSpec } from '../layer/tar-builder.js';

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const hexOf = (digest: string): string => digest.slice('sha256:'.length);

export interface Layer {
  /** The blob as stored in the archive (gzipped or not). */
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}

function layerOf(tar: Buffer, gzip: boolean): Layer {
  const blob = gzip ? zlib.gzipSync(tar) : tar;
  return { blob, digest: sha256(blob), diffId: sha256(tar), mediaType: gzip ? MediaType.OciLayerGzip : MediaType.OciLayer };
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A base layer packed by node-tar from a real directory: files, a symlink, a hardlink. */
export async function baseLayer(gzip = true): Promise<Layer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hull-fixture-'));
  try {
    await mkdir(path.join(dir, 'bin'));
    await mkdir(path.join(dir, 'etc'));
    await writeFile(path.join(dir, 'bin/busybox'), '#!/bin/sh\necho busybox\n', { mode: 0o755 });
    await link(path.join(dir, 'bin/busybox'), path.join(dir, 'bin/ls'));
    await symlink('busybox', path.join(dir, 'bin/sh'));
    await writeFile(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(path.join(dir, 'etc/os-release'), 'NAME=fixture\n');
    const tar = await collect(createTar({ cwd: dir, portable: true, mtime: new Date('2020-01-01T00:00:00Z') }, ['bin', 'etc']));
    return layerOf(tar, gzip);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A small hand-built layer. */
export function tarLayer(entries: TarSpec[], gzip = false): Layer {
  return layerOf(makeTar(entries), gzip);
}

export function configFor(layers: Layer[], extra: { labels?: Record<string, string>; platform?: Platform; created?: string } = {}): Buffer {
  const platform = extra.platform ?? hostPlatform();
  return Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created: extra.created ?? '2024-01-02T03:04:05Z',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], WorkingDir: '/', Labels: extra.labels ?? null },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created_by: 'fixture' })),
    }),
  );
}

export interface OciImage {
  layers: Layer[];
  config: Buffer;
  /** Annotations on its index.json entry. */
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface BuiltManifest {
  manifest: Buffer;
  descriptor: { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: Platform };
}

async function writeBlob(dir: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  await mkdir(path.join(dir, 'blobs/sha256'), { recursive: true });
  await writeFile(path.join(dir, 'blobs/sha256', hexOf(digest)), data);
  return digest;
}

async function writeManifest(dir: string, image: OciImage): Promise<BuiltManifest> {
  for (const l of image.layers) await writeBlob(dir, l.blob);
  const configDigest = await writeBlob(dir, image.config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: image.config.length },
      layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    }),
  );
  const digest = await writeBlob(dir, manifest);
  return {
    manifest,
    descriptor: {
      mediaType: MediaType.OciManifest,
      digest,
      size: manifest.length,
      ...(image.annotations ? { annotations: image.annotations } : {}),
      ...(image.platform ? { platform: image.platform } : {}),
    },
  };
}

/** Writes an OCI image layout with one index.json entry per image. */
export async function writeOciLayout(dir: string, images: OciImage[]): Promise<BuiltManifest[]> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const built: BuiltManifest[] = [];
  for (const image of images) built.push(await writeManifest(dir, image));
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: built.map((b) => b.descriptor) }));
  return built;
}

/** Writes an OCI layout whose index.json points at a nested multi-platform index. */
export async function writeMultiPlatformLayout(dir: string, images: OciImage[], annotations: Record<string, string>): Promise<BuiltManifest[]> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const built: BuiltManifest[] = [];
  for (const image of images) built.push(await writeManifest(dir, image));
  const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: built.map((b) => b.descriptor) }));
  const nestedDigest = await writeBlob(dir, nested);
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MediaType.OciIndex, digest: nestedDigest, size: nested.length, annotations }],
    }),
  );
  return built;
}

/**
 * Writes a legacy `docker save` archive directory: manifest.json, `<config hex>.json`,
 * `<n>/layer.tar` — where a repeated layer is a symlink `../<first>/layer.tar`, as Docker does.
 */
export async function writeDockerArchive(dir: string, images: { layers: Layer[]; config: Buffer; repoTags: string[] | null }[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const manifest = [];
  const written = new Map<string, string>();
  let n = 0;
  for (const image of images) {
    const configName = `${hexOf(sha256(image.config))}.json`;
    await writeFile(path.join(dir, configName), image.config);
    const layerNames: string[] = [];
    for (const l of image.layers) {
      const name = `layer${n++}/layer.tar`;
      await mkdir(path.join(dir, path.dirname(name)));
      const first = written.get(l.diffId);
      if (first) await symlink(`../${first}`, path.join(dir, name));
      else {
        await writeFile(path.join(dir, name), l.blob);
        written.set(l.diffId, name);
      }
      layerNames.push(name);
    }
    manifest.push({ Config: configName, RepoTags: image.repoTags, Layers: layerNames });
  }
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/** Packs a directory into a tar file (as `tar -C dir -cf file .` would). */
export async function tarDirectory(dir: string, file: string): Promise<void> {
  await createTar({ cwd: dir, file, portable: true }, ['.']);
}
