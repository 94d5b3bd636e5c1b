// Types for make-busybox-image.mjs (plain JS so it runs before the project is built).

export declare const MEDIA_TYPES: Readonly<{
  index: 'application/vnd.oci.image.index.v1+json';
  manifest: 'application/vnd.oci.image.manifest.v1+json';
  config: 'application/vnd.oci.image.config.v1+json';
  layer: 'application/vnd.oci.image.layer.v1.tar';
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip';
}>;

/** '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' */
export declare const DEFAULT_PATH: string;
export declare const BUSYBOX_PASSWD: string;
export declare const BUSYBOX_GROUP: string;

/**
 * One entry of a layer, written to the layer tar verbatim and in order: no path cleaning and no
 * implicit parent directories (so tests can write hostile archives: '/abs', '../x', …).
 * - whiteout: `path` is the deleted path; written as `DIR/.wh.NAME` (an empty file).
 * - opaque: `path` is the directory; written as `DIR/.wh..wh..opq` (an empty file).
 * - file: `content`, or `size` alone for a zero-filled file streamed without buffering
 *   (decompression-bomb tests), or `source` (a host file to copy).
 */
export interface Entry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque' | 'chardev' | 'blockdev' | 'fifo';
  content?: string | Uint8Array;
  size?: number;
  source?: string;
  /** permission bits incl. setuid/setgid/sticky; defaults: file 0644, dir 0755, symlink 0777 */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** symlink target or hardlink source (a path inside the archive) */
  linkname?: string;
  /** seconds since the epoch; default SOURCE_DATE_EPOCH or 0 */
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  /** written as PAX `SCHILY.xattr.<name>` records, e.g. { 'security.capability': Buffer } */
  xattrs?: Record<string, string | Uint8Array>;
}

export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  /** merged over { Env: [PATH=…], Cmd: ['sh'] } */
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
    [key: string]: unknown;
  };
  /** computed from the layers unless given (give a wrong one to test diffID checks) */
  rootfs?: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
  [key: string]: unknown;
}

export interface WriteOciImageOptions {
  /** one array of entries per layer, bottom layer first */
  layers: Entry[][];
  config?: ImageConfig;
  /** default 'busybox:latest'; index annotations get the tag and the full docker.io/… name */
  name?: string;
  /** OCI image layout directory (created if needed; index.json replaced) */
  outDir?: string;
  /** the same layout as a tar archive */
  outTar?: string;
  /** a `docker save` archive: manifest.json, <config>.json, <diffid>/layer.tar */
  dockerArchive?: string;
  /** layer blobs: 'gzip' (default, tar+gzip) or 'none' (plain tar media type) */
  compression?: 'gzip' | 'none';
  /** manifest annotations */
  annotations?: Record<string, string>;
  /** default mtime (seconds) for entries and `created`; default SOURCE_DATE_EPOCH or 0 */
  mtime?: number;
  /** history created_by per layer */
  createdBy?: string[];
}

export interface WriteOciImageResult {
  configDigest: string;
  manifestDigest: string;
  /** sha256 of each uncompressed layer tar */
  diffIds: string[];
  /** digest of each layer blob as stored */
  layerDigests: string[];
  config: ImageConfig & { rootfs: { type: string; diff_ids: string[] } };
  manifest: {
    schemaVersion: 2;
    mediaType: string;
    config: { mediaType: string; digest: string; size: number };
    layers: Array<{ mediaType: string; digest: string; size: number }>;
    annotations?: Record<string, string>;
  };
  index: {
    schemaVersion: 2;
    mediaType: string;
    manifests: Array<{
      mediaType: string;
      digest: string;
      size: number;
      platform: { architecture: string; os: string };
      annotations: Record<string, string>;
    }>;
  };
}

export declare function writeOciImage(opts: WriteOciImageOptions): Promise<WriteOciImageResult>;

export interface MakeBusyboxImageOptions {
  outDir?: string;
  outTar?: string;
  dockerArchive?: string;
  /** default 'busybox:latest' */
  name?: string;
  /** default /bin/busybox (then /usr/bin/busybox) */
  busybox?: string;
}

export interface MakeBusyboxImageResult {
  configDigest: string;
  manifestDigest: string;
  diffId: string;
}

export declare function makeBusyboxImage(opts?: MakeBusyboxImageOptions): Promise<MakeBusyboxImageResult>;

/** The busybox image's single layer, for tests that want to extend it. */
export declare function busyboxLayerEntries(busybox?: string | null): Entry[];
/** Applet paths relative to / from `busybox --list-full` (without bin/busybox). */
export declare function busyboxApplets(busybox: string): string[];
/** The busybox binary that would be used, or null if none is installed. */
export declare function findBusybox(candidate?: string): string | null;
export declare function hostArchitecture(): string;
export declare function sourceDateEpoch(): number;
export declare function parseImageName(name: string): { repository: string; tag: string; full: string; short: string };
