/**
 * The OCI image-spec documents hull reads (and their Docker schema2 twins): media types,
 * descriptors, manifests, indexes and image configs, with validators that turn untrusted JSON
 * into these types or throw InvalidImageError naming the bad field.
 */

import { InvalidImageError } from '../errors.js';
import { digestProblem } from './digest.js';
import { expectArray, expectInteger, expectKeySet, expectObject, expectString, expectStringArray, expectStringMap, optional, type JsonObject } from './json.js';

export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);
export const CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);
export const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayerNondistributable,
  MediaType.OciLayerNondistributableGzip,
  MediaType.OciLayerNondistributableZstd,
  MediaType.DockerLayer,
  MediaType.DockerLayerGzip,
  MediaType.DockerLayerZstd,
  MediaType.DockerForeignLayerGzip,
]);

/** Well-known annotation keys. */
export const Annotation = {
  RefName: 'org.opencontainers.image.ref.name',
  ContainerdImageName: 'io.containerd.image.name',
  DockerReferenceType: 'vnd.docker.reference.type',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The part of the image config that describes how to run a container (Docker's `config`). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  /** SHELL: what a health check's CMD-SHELL runs under (default /bin/sh -c). */
  Shell?: string[];
}

/**
 * Docker's HealthConfig (the image's HEALTHCHECK, a container's health flags): Test is `[]`
 * (inherit), `['NONE']`, `['CMD', arg…]` or `['CMD-SHELL', command]`; durations in nanoseconds,
 * 0 (or absent) meaning the default.
 */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface RootFs {
  type: 'layers';
  diff_ids: string[];
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: RootFs;
  history?: History[];
}

// ---- validators -------------------------------------------------------------------------

function expectDigest(v: unknown, where: string): string {
  const s = expectString(v, where);
  const problem = digestProblem(s);
  if (problem !== undefined) throw new InvalidImageError(`${where}: ${problem}`);
  return s;
}

function expectSchemaVersion2(obj: JsonObject, where: string): 2 {
  if (obj.schemaVersion !== 2) {
    throw new InvalidImageError(`${where}: unsupported schemaVersion ${JSON.stringify(obj.schemaVersion)} (expected 2)`);
  }
  return 2;
}

/** Copies `key` into `out` when present and valid (keeps exactOptionalPropertyTypes-style objects clean). */
function setIf<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

export function parsePlatform(v: unknown, where: string): Platform {
  const obj = expectObject(v, where);
  const p: Platform = {
    architecture: expectString(obj.architecture, `${where}.architecture`),
    os: expectString(obj.os, `${where}.os`),
  };
  setIf(p, 'variant', optional(obj.variant, `${where}.variant`, expectString));
  setIf(p, 'os.version', optional(obj['os.version'], `${where}.os.version`, expectString));
  setIf(p, 'os.features', optional(obj['os.features'], `${where}.os.features`, expectStringArray));
  return p;
}

export function parseDescriptor(v: unknown, where: string): Descriptor {
  const obj = expectObject(v, where);
  const d: Descriptor = {
    mediaType: expectString(obj.mediaType, `${where}.mediaType`),
    digest: expectDigest(obj.digest, `${where}.digest`),
    size: expectInteger(obj.size, `${where}.size`),
  };
  setIf(d, 'urls', optional(obj.urls, `${where}.urls`, expectStringArray));
  setIf(d, 'annotations', optional(obj.annotations, `${where}.annotations`, expectStringMap));
  setIf(d, 'platform', optional(obj.platform, `${where}.platform`, parsePlatform));
  setIf(d, 'artifactType', optional(obj.artifactType, `${where}.artifactType`, expectString));
  return d;
}

export function parseManifest(v: unknown, where = 'manifest'): Manifest {
  const obj = expectObject(v, where);
  const mediaType = optional(obj.mediaType, `${where}.mediaType`, expectString);
  if (mediaType !== undefined && !MANIFEST_MEDIA_TYPES.has(mediaType)) {
    throw new InvalidImageError(`${where}: unsupported media type ${mediaType}`);
  }
  const m: Manifest = {
    schemaVersion: expectSchemaVersion2(obj, where),
    config: parseDescriptor(obj.config, `${where}.config`),
    layers: expectArray(obj.layers, `${where}.layers`).map((l, i) => parseDescriptor(l, `${where}.layers[${i}]`)),
  };
  setIf(m, 'mediaType', mediaType);
  setIf(m, 'annotations', optional(obj.annotations, `${where}.annotations`, expectStringMap));
  return m;
}

export function parseIndex(v: unknown, where = 'index'): Index {
  const obj = expectObject(v, where);
  const mediaType = optional(obj.mediaType, `${where}.mediaType`, expectString);
  if (mediaType !== undefined && !INDEX_MEDIA_TYPES.has(mediaType)) {
    throw new InvalidImageError(`${where}: unsupported media type ${mediaType}`);
  }
  const idx: Index = {
    schemaVersion: expectSchemaVersion2(obj, where),
    manifests: expectArray(obj.manifests, `${where}.manifests`).map((d, i) => parseDescriptor(d, `${where}.manifests[${i}]`)),
  };
  setIf(idx, 'mediaType', mediaType);
  setIf(idx, 'annotations', optional(obj.annotations, `${where}.annotations`, expectStringMap));
  return idx;
}

function parseContainerConfig(v: unknown, where: string): ContainerConfig {
  const obj = expectObject(v, where);
  const c: ContainerConfig = {};
  setIf(c, 'User', optional(obj.User, `${where}.User`, expectString));
  setIf(c, 'ExposedPorts', optional(obj.ExposedPorts, `${where}.ExposedPorts`, expectKeySet));
  setIf(c, 'Env', optional(obj.Env, `${where}.Env`, expectStringArray));
  setIf(c, 'Entrypoint', optional(obj.Entrypoint, `${where}.Entrypoint`, expectStringArray));
  setIf(c, 'Cmd', optional(obj.Cmd, `${where}.Cmd`, expectStringArray));
  setIf(c, 'Volumes', optional(obj.Volumes, `${where}.Volumes`, expectKeySet));
  setIf(c, 'WorkingDir', optional(obj.WorkingDir, `${where}.WorkingDir`, expectString));
  setIf(c, 'Labels', optional(obj.Labels, `${where}.Labels`, expectStringMap));
  setIf(c, 'StopSignal', optional(obj.StopSignal, `${where}.StopSignal`, expectString));
  setIf(c, 'Healthcheck', optional(obj.Healthcheck, `${where}.Healthcheck`, parseHealthConfig));
  setIf(c, 'Shell', optional(obj.Shell, `${where}.Shell`, expectStringArray));
  return c;
}

function parseHealthConfig(v: unknown, where: string): HealthConfig {
  const obj = expectObject(v, where);
  const h: HealthConfig = {};
  setIf(h, 'Test', optional(obj.Test, `${where}.Test`, expectStringArray));
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const)
    setIf(h, key, optional(obj[key], `${where}.${key}`, expectInteger));
  return h;
}

function parseHistory(v: unknown, where: string): History {
  const obj = expectObject(v, where);
  const h: History = {};
  setIf(h, 'created', optional(obj.created, `${where}.created`, expectString));
  setIf(h, 'created_by', optional(obj.created_by, `${where}.created_by`, expectString));
  setIf(h, 'author', optional(obj.author, `${where}.author`, expectString));
  setIf(h, 'comment', optional(obj.comment, `${where}.comment`, expectString));
  if (obj.empty_layer !== undefined && obj.empty_layer !== null) {
    if (typeof obj.empty_layer !== 'boolean') throw new InvalidImageError(`${where}.empty_layer: expected a boolean`);
    h.empty_layer = obj.empty_layer;
  }
  return h;
}

function parseRootFs(v: unknown, where: string): RootFs {
  const obj = expectObject(v, where);
  if (obj.type !== 'layers') throw new InvalidImageError(`${where}.type: expected "layers", got ${JSON.stringify(obj.type)}`);
  const diffIds = expectArray(obj.diff_ids, `${where}.diff_ids`).map((d, i) => expectDigest(d, `${where}.diff_ids[${i}]`));
  return { type: 'layers', diff_ids: diffIds };
}

export function parseImageConfig(v: unknown, where = 'image config'): ImageConfig {
  const obj = expectObject(v, where);
  const c: ImageConfig = {
    architecture: expectString(obj.architecture, `${where}.architecture`),
    os: expectString(obj.os, `${where}.os`),
    rootfs: parseRootFs(obj.rootfs, `${where}.rootfs`),
  };
  setIf(c, 'created', optional(obj.created, `${where}.created`, expectString));
  setIf(c, 'author', optional(obj.author, `${where}.author`, expectString));
  setIf(c, 'variant', optional(obj.variant, `${where}.variant`, expectString));
  setIf(c, 'config', optional(obj.config, `${where}.config`, parseContainerConfig));
  setIf(
    c,
    'history',
    optional(obj.history, `${where}.history`, (h, w) => expectArray(h, w).map((item, i) => parseHistory(item, `${w}[${i}]`))),
  );
  return c;
}
