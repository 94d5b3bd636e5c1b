/**
 * What an image archive reader hands the store: per image, its config (bytes verified, parsed),
 * the references to tag it with, and its layers in order (lowest first), each openable as a stream.
 */

import type { Readable } from 'node:stream';
import type { ImageConfig } from '../types.js';

export interface ArchiveLayer {
  /** Where the layer is in the archive, for messages. */
  readonly name: string;
  /** The digest of the blob as stored, when the format states it (verified while unpacking). */
  readonly digest: string | undefined;
  open(): Promise<Readable>;
}

export interface ArchiveImage {
  /** Normalised references (`docker.io/library/busybox:latest`); empty for an untagged image. */
  readonly references: readonly string[];
  readonly configBytes: Buffer;
  readonly config: ImageConfig;
  /** The manifest, when the archive has one (OCI layouts); its digest was verified. */
  readonly manifest: { readonly digest: string; readonly bytes: Buffer } | undefined;
  /** From a registry: `repository@digest` of what it served for the reference (an index's digest for a multi-platform image). */
  readonly repoDigest?: string;
  readonly layers: readonly ArchiveLayer[];
  /** Names the image in messages (`manifest.json[0]`, `index.json manifests[1]`). */
  readonly what: string;
}
