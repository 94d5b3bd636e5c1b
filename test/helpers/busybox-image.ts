// The busybox test image, built locally from Debian's busybox-static (no registry, no network).
//
//   const tar = await busyboxImageTar();          // OCI layout as a tar → `hull load -i tar`
//   describe.skipIf(!hasBusybox())(…)
//
// The image is deterministic, so it is built once and cached in
// $TMPDIR/hull-test-busybox-<uid>/<key>/ where key hashes the generator script and the busybox
// binary; every worker and every later run reuses it. A build goes to a private directory that is
// renamed into place, so concurrent workers never see half-written files. The cached files are
// shared: treat them as read-only (copy them before corrupting anything).

import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBusybox, makeBusyboxImage } from '../../scripts/make-busybox-image.mjs';

/** The name the image is stored under (`hull run busybox …` resolves to it). */
export const BUSYBOX_IMAGE = 'busybox:latest';
export const BUSYBOX_FULL_NAME = 'docker.io/library/busybox:latest';

export interface BusyboxImage {
  /** OCI image layout as a tar (what `hull load -i` takes) */
  ociTar: string;
  /** OCI image layout directory */
  ociDir: string;
  /** `docker save` archive of the same image */
  dockerArchive: string;
  name: string;
  configDigest: string;
  manifestDigest: string;
  diffId: string;
}

/** True when a static busybox is installed (Debian: busybox-static). */
export function hasBusybox(): boolean {
  return findBusybox() !== null;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/make-busybox-image.mjs', import.meta.url));

function cacheKey(busybox: string): string {
  const st = statSync(busybox);
  return createHash('sha256')
    .update(readFileSync(SCRIPT))
    .update(`\0${busybox}\0${st.size}\0${st.mtimeMs}\0${process.env.SOURCE_DATE_EPOCH ?? ''}\0${process.version}`)
    .digest('hex')
    .slice(0, 16);
}

/** A cache root owned by us; falls back to a fresh private directory if the shared one is not. */
function cacheRoot(): string {
  const uid = process.getuid?.() ?? 0;
  const root = join(tmpdir(), `hull-test-busybox-${uid}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const st = lstatSync(root);
    if (st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0) return root;
  } catch {
    /* fall through */
  }
  return mkdtempSync(join(tmpdir(), 'hull-test-busybox-'));
}

function readCached(dir: string): BusyboxImage | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Omit<BusyboxImage, 'ociTar' | 'ociDir' | 'dockerArchive'>;
    const image: BusyboxImage = {
      ...meta,
      ociTar: join(dir, 'busybox-oci.tar'),
      ociDir: join(dir, 'oci'),
      dockerArchive: join(dir, 'busybox-docker.tar'),
    };
    statSync(image.ociTar);
    statSync(image.dockerArchive);
    statSync(join(image.ociDir, 'index.json'));
    return image;
  } catch {
    return null;
  }
}

async function build(): Promise<BusyboxImage> {
  const busybox = findBusybox();
  if (busybox === null) throw new Error('busybox not found: install busybox-static (apt-get install busybox-static)');
  const root = cacheRoot();
  const final = join(root, cacheKey(busybox));
  const cached = readCached(final);
  if (cached) return cached;

  const work = mkdtempSync(join(root, '.build-'));
  try {
    const r = await makeBusyboxImage({
      busybox,
      name: BUSYBOX_IMAGE,
      outDir: join(work, 'oci'),
      outTar: join(work, 'busybox-oci.tar'),
      dockerArchive: join(work, 'busybox-docker.tar'),
    });
    writeFileSync(join(work, 'meta.json'), JSON.stringify({ name: BUSYBOX_IMAGE, ...r }));
    try {
      renameSync(work, final);
    } catch (err) {
      // another worker got there first: use theirs
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (readCached(final) === null) {
        // a damaged cache entry (files deleted by hand): replace it
        rmSync(final, { recursive: true, force: true });
        renameSync(work, final);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const image = readCached(final);
  if (!image) throw new Error(`busybox test image cache at ${final} is incomplete`);
  return image;
}

let pending: Promise<BusyboxImage> | undefined;

/** Build (once) and return the busybox test image in all its forms. */
export function busyboxImage(): Promise<BusyboxImage> {
  pending ??= build().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

/** Path of the busybox image as an OCI layout tar, for `hull load -i`. */
export async function busyboxImageTar(): Promise<string> {
  return (await busyboxImage()).ociTar;
}

/** Path of the busybox image as a `docker save` archive. */
export async function busyboxDockerArchive(): Promise<string> {
  return (await busyboxImage()).dockerArchive;
}

/** Path of the busybox image as an OCI layout directory (shared: do not modify). */
export async function busyboxOciDir(): Promise<string> {
  return (await busyboxImage()).ociDir;
}
