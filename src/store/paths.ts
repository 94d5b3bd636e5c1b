import path from 'node:path';

/** Where hull keeps things. `root` is persistent (images, layers, containers); `runRoot` is per boot. */
export interface StorePaths {
  readonly root: string;
  readonly runRoot: string;
  /** Content-addressed blobs: `${blobs}/sha256/<hex>`. */
  readonly blobs: string;
  /** One directory per unpacked layer: `${layers}/<diffid hex>/diff`, plus `link` (its short name). */
  readonly layers: string;
  /** Short symlinks `l/<ID>` → `../layers/<hex>/diff`, so 128 lowerdirs fit overlay's one-page limit. */
  readonly links: string;
  /** Image records: `${images}/<config hex>.json`. */
  readonly images: string;
  /** References: one file per normalised name, holding the image id. */
  readonly refs: string;
  /** Container records and writable layers: `${containers}/<id>/{config.json,state.json,upper,work}`. */
  readonly containers: string;
  /** Temporary work (same file system as `layers`, so renames are atomic). */
  readonly tmp: string;
  /** Per-boot container state: `${runContainers}/<id>/{rootfs,hostname,hosts,resolv.conf}`. */
  readonly runContainers: string;
}

export const DEFAULT_ROOT = '/var/lib/hull';
export const DEFAULT_RUN_ROOT = '/run/hull';

export function storePaths(root: string = DEFAULT_ROOT, runRoot: string = DEFAULT_RUN_ROOT): StorePaths {
  const r = path.resolve(root);
  const rr = path.resolve(runRoot);
  return {
    root: r,
    runRoot: rr,
    blobs: path.join(r, 'blobs'),
    layers: path.join(r, 'layers'),
    links: path.join(r, 'l'),
    images: path.join(r, 'images'),
    refs: path.join(r, 'refs'),
    containers: path.join(r, 'containers'),
    tmp: path.join(r, 'tmp'),
    runContainers: path.join(rr, 'containers'),
  };
}
