/**
 * OCI whiteouts ⇄ overlayfs whiteouts.
 *
 * In a layer tar (OCI image-spec "layer.md", AUFS style):
 *   `dir/.wh.NAME`      NAME was deleted from the layers below
 *   `dir/.wh..wh..opq`  dir is opaque: nothing from the layers below shows through it
 *   `.wh..wh.*`         other AUFS metadata (hardlink dirs, …): ignored
 * On disk for overlayfs:
 *   NAME as a character device 0:0, mode 0
 *   xattr `trusted.overlay.opaque=y` on dir
 *
 * Both need privileges and the native addon (mknod and xattrs), which is loaded only when a
 * layer actually contains a whiteout.
 */

import { InvalidImageError } from '../errors.js';
import { S_IFCHR, sys } from '../native/index.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type WhiteoutKind =
  | { kind: 'none' }
  /** `.wh..wh..opq`: the directory containing it is opaque. */
  | { kind: 'opaque' }
  /** `.wh.NAME`: NAME is deleted. */
  | { kind: 'whiteout'; name: string }
  /** Other `.wh..wh.*` AUFS metadata, skipped. */
  | { kind: 'meta' };

/** What the last component of an entry name means as a whiteout. */
export function classifyWhiteout(base: string, what: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw new InvalidImageError(`${what}: invalid whiteout ${JSON.stringify(base)}`);
  }
  return { kind: 'whiteout', name };
}

/** Makes the overlay whiteout for a deleted entry: a 0:0 character device at `path`. */
export function createOverlayWhiteout(path: string): void {
  sys.mknod(path, S_IFCHR | 0o000, 0, 0);
}

/** Marks `dir` opaque for overlayfs. */
export function markOverlayOpaque(dir: string): void {
  sys.lsetxattr(dir, OVERLAY_OPAQUE_XATTR, Buffer.from('y'), 0);
}
