/**
 * The Docker-shaped presentation of images, shared by the CLI and (next) the Engine API: the
 * `image inspect` shape, `history` rows, `images` rows, `system df` figures.
 * Made from what the store hands out (src/store/image-store.ts: StoredImage, ImageDetails,
 * StoreUsage); typed objects out, no printing. The CLI's templates and tables render them.
 */
import { isObject } from '../image/json.js';
import { familiar, parseReference, repositoryName } from '../image/reference.js';
import { parseImageConfig } from '../image/types.js';
import type { ImageDetails, StoredImage, StoreUsage } from '../store/image-store.js';
import { dockerTime, humanSize, shortId, timeAgo, truncate } from './human.js';

// ---- images ----------------------------------------------------------------------------

/** An image as `images` lists it. */
export interface ImageSummary {
  id: string;
  references: string[];
  /** The image's creation time (from its config). */
  created?: string;
  /** Bytes of its distinct uncompressed layers. */
  size: number;
  /** The digest of its manifest, when it came with one. */
  manifestDigest?: string;
  /** Docker's RepoDigests (familiar `repo@digest`), see repoDigests(). */
  repoDigests: string[];
}

function createdTime(image: ImageSummary): number {
  const t = image.created === undefined ? NaN : Date.parse(image.created);
  return Number.isNaN(t) ? 0 : t;
}

/** The stored images as `images` lists them: newest first (by creation time, then id). */
export function imageSummaries(images: readonly StoredImage[]): ImageSummary[] {
  return images
    .map((i): ImageSummary => ({
      id: i.id,
      references: [...i.names],
      ...(i.created !== undefined ? { created: i.created } : {}),
      size: i.size,
      ...(i.manifestDigest !== undefined ? { manifestDigest: i.manifestDigest } : {}),
      repoDigests: repoDigests(i.names, i.manifestDigest, i.pulledDigests),
    }))
    .sort((a, b) => createdTime(b) - createdTime(a) || a.id.localeCompare(b.id));
}

/**
 * Docker's RepoDigests, familiar (`busybox@sha256:…`): for each repository the image is named
 * in, the digest it was pulled with (an index's, for a multi-platform image), else its own
 * manifest's digest.
 */
export function repoDigests(names: readonly string[], manifestDigest: string | undefined, pulled: readonly string[] = []): string[] {
  const pinnedByRepo = new Map(pulled.map((p) => [repositoryOf(p), p]));
  const out = new Set<string>();
  for (const n of names) {
    const repo = repositoryOf(n);
    const pinned = pinnedByRepo.get(repo) ?? (manifestDigest !== undefined ? `${repo}@${manifestDigest}` : undefined);
    if (pinned !== undefined) out.add(familiar(pinned));
  }
  for (const pinned of pinnedByRepo.values()) out.add(familiar(pinned));
  return [...out];
}

/** The normalised repository of a reference (`docker.io/library/busybox` for `busybox@sha256:…`). */
function repositoryOf(reference: string): string {
  return repositoryName(parseReference(reference));
}

/** One row of `images`: an image under one of its names (or `<none>`). */
export interface ImageRow {
  repository: string;
  tag: string;
  image: ImageSummary;
}

function splitTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), '<none>'];
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

/** `images`: a row per name of each image (`<none>` for one without); src/filters/images.ts chooses the images and names. */
export function imageRows(images: readonly ImageSummary[]): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const refs = image.references.length > 0 ? image.references.map((r) => familiar(r)) : ['<none>:<none>'];
    for (const ref of refs) {
      const [repository, tag] = ref === '<none>:<none>' ? ['<none>', '<none>'] : splitTag(ref);
      rows.push({ repository, tag, image });
    }
  }
  return rows;
}

/** The row's digest as Docker shows it: the one its repository was pulled with, else the manifest's. */
export function imageRowDigest(r: ImageRow): string {
  const pinned = r.image.repoDigests.find((d) => d.startsWith(`${r.repository}@`));
  return pinned?.slice(r.repository.length + 1) ?? r.image.manifestDigest ?? '<none>';
}

/** The fields of an `images` row, as its templates see them and `--format json` prints them. */
export type ImageFields = {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
};

export function imageFields(r: ImageRow): ImageFields {
  return {
    Containers: 'N/A',
    CreatedAt: dockerTime(r.image.created),
    CreatedSince: timeAgo(r.image.created),
    Digest: imageRowDigest(r),
    ID: shortId(r.image.id),
    Repository: r.repository,
    SharedSize: 'N/A',
    Size: humanSize(r.image.size),
    Tag: r.tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(r.image.size),
  };
}

// ---- image inspect ---------------------------------------------------------------------

/** `hull image inspect`: Docker's shape, for the fields that apply. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  /** The legacy builder's container and its config (Docker 20.10 shows zero values when the image has none; docker-compose 1.29 reads ContainerConfig.Volumes). */
  Container: string;
  ContainerConfig: Record<string, unknown>;
  DockerVersion: string;
  Author: string;
  Config: Record<string, unknown> | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: { LowerDir?: string; UpperDir?: string } };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** Docker 20.10's ContainerConfig of an image made without its legacy builder. */
const EMPTY_CONTAINER_CONFIG: Readonly<Record<string, unknown>> = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
};

/** Docker's `image inspect` for one image. */
export function imageInspect(image: ImageDetails): ImageInspect {
  const raw = image.config;
  const dirs = [...image.layerDirs].reverse(); // top first, as overlay's lowerdir lists them
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    Id: image.id,
    RepoTags: image.names.filter((n) => parseReference(n).digest === undefined).map((n) => familiar(n)),
    RepoDigests: repoDigests(image.names, image.manifestDigest, image.pulledDigests),
    Parent: '',
    Comment: str(raw.comment),
    Created: str(raw.created),
    Container: str(raw.container),
    ContainerConfig: isObject(raw.container_config) ? { ...raw.container_config } : { ...EMPTY_CONTAINER_CONFIG },
    DockerVersion: str(raw.docker_version),
    Author: str(raw.author),
    Config: isObject(raw.config) ? { ...raw.config } : null,
    Architecture: str(raw.architecture),
    ...(typeof raw.variant === 'string' ? { Variant: raw.variant } : {}),
    Os: str(raw.os),
    Size: image.size,
    GraphDriver: {
      Name: 'overlay',
      Data: {
        ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}),
        ...(dirs.length > 0 ? { UpperDir: dirs[0] } : {}),
      },
    },
    RootFS: { Type: 'layers', Layers: [...image.diffIds] },
    Metadata: { LastTagTime: image.loaded },
  };
}

// ---- history ---------------------------------------------------------------------------

/** One row of `hull history`, newest first. */
export interface HistoryEntry {
  /** The image id on the top row, `<missing>` below (Docker's convention). */
  id: string;
  created?: string;
  createdBy: string;
  /** Bytes of the layer this step made (0 for an empty layer). */
  size: number;
  comment: string;
  emptyLayer: boolean;
}

/** The image's history, newest first, with each step's layer size. */
export function imageHistory(image: ImageDetails): HistoryEntry[] {
  const config = parseImageConfig(image.config, `config of ${image.id}`);
  const steps =
    config.history && config.history.length > 0 ? config.history : image.diffIds.map(() => ({ created: config.created, created_by: '', empty_layer: false }));
  let layer = 0;
  const rows: HistoryEntry[] = steps.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (image.layerSizes[layer++] ?? 0);
    return {
      id: '<missing>',
      ...(h.created !== undefined ? { created: h.created } : {}),
      createdBy: h.created_by ?? '',
      size,
      comment: 'comment' in h && typeof h.comment === 'string' ? h.comment : '',
      emptyLayer: empty,
    };
  });
  rows.reverse();
  if (rows[0]) rows[0].id = image.id;
  return rows;
}

/** The IMAGE column: `<missing>`, or the id (12 hex digits unless `full`). */
export function historyId(entry: HistoryEntry, full: boolean): string {
  return entry.id === '<missing>' ? entry.id : full ? entry.id : shortId(entry.id);
}

/** Go's time.RFC3339 in UTC ('' when unknown). */
function rfc3339(iso: string | undefined): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? '' : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The fields of a `history` row, as its templates see them and `--format json` prints them. */
export type HistoryFields = { Comment: string; CreatedAt: string; CreatedBy: string; CreatedSince: string; ID: string; Size: string };

export function historyFields(entry: HistoryEntry, full: boolean): HistoryFields {
  const createdBy = entry.createdBy.replace(/\t/g, ' ');
  return {
    Comment: entry.comment,
    CreatedAt: rfc3339(entry.created),
    CreatedBy: full ? createdBy : truncate(createdBy, 45),
    CreatedSince: timeAgo(entry.created),
    ID: historyId(entry, full),
    Size: humanSize(entry.size),
  };
}

/** history's default table: its columns, and the cells of one step (CREATED BY on one line, cut unless `full`). */
export const HISTORY_TABLE_COLUMNS = ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'] as const;

export function historyTableRow(entry: HistoryEntry, full: boolean): string[] {
  return [
    historyId(entry, full),
    timeAgo(entry.created),
    full ? entry.createdBy : truncate(entry.createdBy.replace(/\s+/g, ' '), 45),
    humanSize(entry.size),
    entry.comment,
  ];
}

// ---- system df -------------------------------------------------------------------------

/** One line of `system df`: how many, how many in use, bytes, bytes that could be reclaimed. */
export interface UsageFigures {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

export interface DiskUsage {
  images: UsageFigures;
  containers: UsageFigures;
  /** Build cache entries, and the bytes of the layers only the cache keeps (all reclaimable). */
  buildCache: UsageFigures;
}

/**
 * `system df`'s figures as Docker counts them: a layer shared by images once; an image is active
 * when a container uses it, and its layers (and those containers stack) are not reclaimable; a
 * container's size is its writable layer's, reclaimable when it does not run; the build cache is
 * every registered root source, sized by the layers no image has.
 */
export function diskUsage(u: StoreUsage): DiskUsage {
  const usedImages = new Set(u.containers.map((c) => c.imageId));
  const imageLayers = new Set(u.images.flatMap((i) => i.diffIds));
  const activeLayers = new Set<string>();
  for (const i of u.images) if (usedImages.has(i.id)) for (const d of i.diffIds) activeLayers.add(d);
  for (const c of u.containers) for (const d of c.diffIds) activeLayers.add(d);
  let size = 0;
  let reclaimable = 0;
  for (const d of imageLayers) {
    const n = u.layerSizes.get(d) ?? 0;
    size += n;
    if (!activeLayers.has(d)) reclaimable += n;
  }
  let containerSize = 0;
  let containerReclaimable = 0;
  for (const c of u.containers) {
    containerSize += c.upperSize;
    if (!c.running) containerReclaimable += c.upperSize;
  }
  let cacheSize = 0;
  for (const d of u.roots.diffIds) if (!imageLayers.has(d)) cacheSize += u.layerSizes.get(d) ?? 0;
  return {
    buildCache: { total: u.roots.entries, active: 0, size: cacheSize, reclaimable: cacheSize },
    images: { total: u.images.length, active: u.images.filter((i) => usedImages.has(i.id)).length, size, reclaimable },
    containers: { total: u.containers.length, active: u.containers.filter((c) => c.running).length, size: containerSize, reclaimable: containerReclaimable },
  };
}

/** The fields of a `system df` row, as its templates see them and `--format json` prints them. */
export type DiskUsageFields = { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string };

function percent(part: number, whole: number): string {
  return whole === 0 ? '0B' : `${humanSize(part)} (${Math.round((part / whole) * 100)}%)`;
}

/** `system df`'s rows, in Docker's order: Images, Containers, Local Volumes, Build Cache. */
export function diskUsageRows(df: DiskUsage, volumes: UsageFigures): DiskUsageFields[] {
  const row = (Type: string, f: UsageFigures, Reclaimable: string): DiskUsageFields => ({
    Type,
    TotalCount: String(f.total),
    Active: String(f.active),
    Size: humanSize(f.size),
    Reclaimable,
  });
  return [
    row('Images', df.images, percent(df.images.reclaimable, df.images.size)),
    row('Containers', df.containers, percent(df.containers.reclaimable, df.containers.size)),
    row('Local Volumes', volumes, percent(volumes.reclaimable, volumes.size)),
    row('Build Cache', df.buildCache, humanSize(df.buildCache.reclaimable)),
  ];
}

/** One image as the Engine API's `GET /images/json` lists it (Docker's types.ImageSummary). */
export function imageListEntry(image: ImageSummary): Record<string, unknown> {
  const tags = image.references.filter((n) => parseReference(n).digest === undefined).map((n) => familiar(n));
  return {
    Containers: -1,
    Created: Math.floor(createdTime(image) / 1000),
    Id: image.id,
    Labels: null,
    ParentId: '',
    // Docker 20.10's words for an image without names.
    RepoDigests: image.repoDigests.length > 0 ? image.repoDigests : ['<none>@<none>'],
    RepoTags: tags.length > 0 ? tags : ['<none>:<none>'],
    SharedSize: -1,
    Size: image.size,
    VirtualSize: image.size,
  };
}
