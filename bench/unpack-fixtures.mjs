// bench/unpack-fixtures.mjs — the layers bench/unpack.mjs unpacks, made locally and cached under
// /var/tmp/hull-bench/ (override with HULL_BENCH_CACHE) so reruns start at once:
//
//   debian-minbase-bookworm.tar.gz  a real root file system: `debootstrap --variant=minbase
//                                   bookworm` from the mirror in /etc/apt/sources.list.d/, run in a
//                                   private mount namespace (its /proc and /sys mounts stay off the
//                                   host), without apt's lists and .debs (as Debian's images),
//                                   packed with GNU tar (numeric owners, xattrs)
//   big-1g.tar.gz                   ~1 GiB uncompressed: 3 large files and 16,384 small ones,
//                                   generated and gzipped as a stream (never held in memory)
//
// Each is built in a temporary name next to the final one and renamed into place when complete.

import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Header } from 'tar';

export const CACHE = process.env.HULL_BENCH_CACHE ?? '/var/tmp/hull-bench';

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
  return r;
}

/** The first Debian mirror URI in /etc/apt/sources.list.d/ (deb822 or one-line format). */
export function debianMirror() {
  const dirs = ['/etc/apt/sources.list.d'];
  const files = dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []));
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) if (!/security/.test(m[1])) return m[1];
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)) if (!/security/.test(m[1])) return m[1];
  }
  throw new Error('no Debian mirror found in /etc/apt/sources.list.d/ or /etc/apt/sources.list');
}

/** The cached minbase rootfs layer (tar.gz), made with debootstrap when missing. */
export function debianMinbaseLayer() {
  mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  const out = join(CACHE, 'debian-minbase-bookworm.tar.gz');
  if (existsSync(out)) return out;
  const debootstrap = ['/usr/sbin/debootstrap', '/sbin/debootstrap'].find((p) => existsSync(p));
  if (!debootstrap) throw new Error('debootstrap is not installed (apt-get install debootstrap; scripts/install-deps.sh test)');
  const work = join(CACHE, `rootfs.${process.pid}`);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const mirror = debianMirror();
    console.error(`making the Debian minbase layer: debootstrap --variant=minbase bookworm from ${mirror} (about half a minute)`);
    sh('unshare', ['--mount', '--propagation', 'private', debootstrap, '--variant=minbase', 'bookworm', work, mirror], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // As Debian's official images do (debuerreotype): no package lists, no downloaded .debs.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const name of readdirSync(join(work, dir))) {
        if (name !== 'partial' && name !== 'lock') rmSync(join(work, dir, name), { recursive: true, force: true });
      }
    }
    sh('tar', ['--numeric-owner', '--xattrs', '--sort=name', '-C', work, '-czf', tmp, '.']);
    renameSync(tmp, out);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
}

const EPOCH = new Date('2024-01-01T00:00:00Z');

function header(fields) {
  const h = new Header({ mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, uname: '', gname: '', ...fields });
  h.encode();
  return h.block;
}

/**
 * ~1 GiB of tar: 3 files of 256 MiB, then 64 directories of 256 files of 16 KiB (268 MB), as a
 * stream. Content is pseudo-random text-like bytes (compressible about 3:1, like binaries), made
 * from a 1 MiB pool at shifting offsets so no two blocks are equal.
 */
async function* bigTar() {
  let seed = 0x9e3779b9;
  const pool = Buffer.alloc(1 << 20);
  for (let i = 0; i < pool.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    pool[i] = 0x20 + (seed % 40);
  }
  const chunk = 256 * 1024;
  let turn = 0;
  const data = (n) => {
    turn = (turn * 7919 + 104729) % (pool.length - chunk);
    return pool.subarray(turn, turn + n);
  };
  const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512);
  yield header({ path: 'big/', type: 'Directory', mode: 0o755, size: 0 });
  for (let f = 0; f < 3; f++) {
    const size = 256 * 1024 * 1024;
    yield header({ path: `big/blob${f}.bin`, type: 'File', size });
    for (let left = size; left > 0; left -= chunk) yield Buffer.from(data(Math.min(chunk, left)));
  }
  for (let d = 0; d < 64; d++) {
    yield header({ path: `small/d${d}/`, type: 'Directory', mode: 0o755, size: 0 });
    for (let f = 0; f < 256; f++) {
      const size = 16 * 1024;
      yield header({ path: `small/d${d}/f${f}`, type: 'File', size });
      yield Buffer.from(data(size));
      yield pad(size);
    }
  }
  yield Buffer.alloc(1024);
}

/** The cached ~1 GiB layer (tar.gz), generated when missing. */
export async function bigLayer() {
  mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  const out = join(CACHE, 'big-1g.tar.gz');
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  console.error('making the 1 GiB layer (streamed, gzip -1)');
  try {
    await pipeline(Readable.from(bigTar()), zlib.createGzip({ level: 1 }), createWriteStream(tmp));
    renameSync(tmp, out);
    return out;
  } finally {
    rmSync(tmp, { force: true });
  }
}
