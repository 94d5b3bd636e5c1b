#!/usr/bin/env node
// make-busybox-image.mjs — build small OCI images locally, with no registry and no network.
//
//   node scripts/make-busybox-image.mjs --oci-dir DIR | --oci-tar FILE | --docker-archive FILE
//                                       [--name busybox:latest] [--busybox /bin/busybox]
//
// makeBusyboxImage() wraps a static busybox (Debian's busybox-static) into a one-layer image:
// /bin/busybox, one symlink per applet (paths from `busybox --list-full`), /etc/passwd and
// /etc/group with root, nobody and `app` (1000:1000, also in `staff` 50), /tmp (1777),
// /root, /home/app, and empty /proc /sys /dev. Every mtime is SOURCE_DATE_EPOCH (default 0)
// and owners are numeric, so the layer's diffID is reproducible; the compressed digest is
// reproducible for a given Node (zlib) build.
//
// writeOciImage() is the generic writer behind it, for tests: each layer is a list of tar
// entries written VERBATIM, in the order given (no path cleaning, no implicit parent
// directories), so tests can also build hostile layers ("../x", "/abs", symlink-then-write…).
//
// Outputs: an OCI image layout directory (outDir), the same layout as a tar (outTar, what
// `skopeo copy … oci-archive:` makes) and/or a `docker save` archive (dockerArchive:
// manifest.json + config + uncompressed layer tars).
//
// Plain ESM JavaScript on purpose: it runs with `node` before anything is built.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

export const MEDIA_TYPES = Object.freeze({
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
});

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const GOARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The image architecture for this host, in Go/OCI spelling (x64 → amd64). */
export function hostArchitecture() {
  return GOARCH[process.arch] ?? process.arch;
}

/** SOURCE_DATE_EPOCH if set (seconds), else 0. */
export function sourceDateEpoch() {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  return 0;
}

/**
 * Split an image name into the forms the outputs need.
 * 'busybox' → { tag: 'latest', full: 'docker.io/library/busybox:latest', short: 'busybox:latest' }
 */
export function parseImageName(name) {
  let rest = name;
  let tag = 'latest';
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '' || tag === '') throw new Error(`invalid image name: ${JSON.stringify(name)}`);
  const first = rest.split('/')[0];
  const hasDomain = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let full = hasDomain ? rest : `docker.io/${rest.includes('/') ? rest : `library/${rest}`}`;
  full = `${full}:${tag}`;
  let short = full;
  if (short.startsWith('docker.io/library/')) short = short.slice('docker.io/library/'.length);
  else if (short.startsWith('docker.io/')) short = short.slice('docker.io/'.length);
  return { repository: full.slice(0, full.length - tag.length - 1), tag, full, short };
}

// ---------------------------------------------------------------------------------------------
// tar writer (ustar + PAX extended headers). Entries are streamed, so big files cost no memory.

const BLOCK = 512;
const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6' };

function octal(value, width) {
  // width includes the terminating NUL
  const s = Math.trunc(value).toString(8);
  if (s.length > width - 1) return null;
  return s.padStart(width - 1, '0') + '\0';
}

function paxRecord(key, value) {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(String(value)), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function encodeHeader(h) {
  const buf = Buffer.alloc(BLOCK, 0);
  const put = (off, width, str) => {
    Buffer.from(str, 'utf8').copy(buf, off, 0, width);
  };
  put(0, 100, h.name);
  put(100, 8, octal(h.mode & 0o7777, 8));
  put(108, 8, octal(h.uid, 8) ?? octal(0, 8));
  put(116, 8, octal(h.gid, 8) ?? octal(0, 8));
  put(124, 12, octal(h.size, 12) ?? octal(0, 12));
  put(136, 12, octal(h.mtime, 12) ?? octal(0, 12));
  buf.fill(0x20, 148, 156); // checksum placeholder: spaces
  put(156, 1, h.typeflag);
  put(157, 100, h.linkname ?? '');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, h.uname ?? '');
  put(297, 32, h.gname ?? '');
  put(329, 8, octal(h.devmajor ?? 0, 8));
  put(337, 8, octal(h.devminor ?? 0, 8));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i];
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return buf;
}

function isAsciiFitting(str, width) {
  return /^[\x20-\x7e]*$/.test(str) && Buffer.byteLength(str) <= width;
}

function toBuffer(content) {
  if (content === undefined || content === null) return Buffer.alloc(0);
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (Buffer.isBuffer(content)) return content;
  if (content instanceof Uint8Array) return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  throw new TypeError('tar entry content must be a string, Buffer or Uint8Array');
}

/** Headers (PAX + ustar) for one normalized entry. */
function entryHeaders(e) {
  const pax = [];
  const name = e.name;
  if (!isAsciiFitting(name, 100)) pax.push(paxRecord('path', name));
  const linkname = e.linkname ?? '';
  if (!isAsciiFitting(linkname, 100)) pax.push(paxRecord('linkpath', linkname));
  if (octal(e.uid, 8) === null) pax.push(paxRecord('uid', e.uid));
  if (octal(e.gid, 8) === null) pax.push(paxRecord('gid', e.gid));
  if (octal(e.size, 12) === null) pax.push(paxRecord('size', e.size));
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, toBuffer(v)));
  const out = [];
  if (pax.length > 0) {
    const body = Buffer.concat(pax);
    const base = name.replace(/\/+$/, '').split('/').pop() || 'entry';
    out.push(encodeHeader({ name: `PaxHeaders/${base}`.slice(0, 99), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: e.mtime, typeflag: 'x' }));
    out.push(body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) out.push(Buffer.alloc(pad));
  }
  out.push(encodeHeader(e)); // names longer than the field are cut there; the PAX record wins
  return out;
}

/**
 * Stream a tar archive. Each entry: { name, typeflag, mode, uid, gid, mtime, size, linkname?,
 * devmajor?, devminor?, xattrs?, uname?, gname?, data?: Buffer, source?: file path, zeros?: true }.
 */
export async function* tarStream(entries) {
  for (const e of entries) {
    for (const b of entryHeaders(e)) yield b;
    if (e.size > 0) {
      if (e.data) {
        yield e.data;
      } else if (e.source) {
        let n = 0;
        for await (const chunk of createReadStream(e.source)) {
          n += chunk.length;
          yield chunk;
        }
        if (n !== e.size) throw new Error(`${e.source} changed size while archiving (${n} != ${e.size})`);
      } else {
        const zero = Buffer.alloc(Math.min(e.size, 1 << 20));
        for (let left = e.size; left > 0; left -= zero.length) yield left >= zero.length ? zero : zero.subarray(0, left);
      }
      const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
      if (pad) yield Buffer.alloc(pad);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

/**
 * A test-friendly layer entry → the tar entry that represents it.
 * { path, type: 'file'|'dir'|'symlink'|'hardlink'|'whiteout'|'opaque'|'chardev'|'blockdev'|'fifo',
 *   content?, size?, mode?, uid?, gid?, linkname?, mtime?, devmajor?, devminor?, xattrs? }
 */
export function layerEntryToTar(entry, defaultMtime = sourceDateEpoch()) {
  const { path, type = 'file' } = entry;
  if (typeof path !== 'string' || path === '') throw new TypeError(`layer entry needs a path: ${JSON.stringify(entry)}`);
  const common = {
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? defaultMtime,
    xattrs: entry.xattrs,
    uname: entry.uname,
    gname: entry.gname,
  };
  const slash = path.lastIndexOf('/', path.endsWith('/') ? path.length - 2 : path.length);
  const parent = slash >= 0 ? path.slice(0, slash + 1) : '';
  const base = path.slice(slash + 1).replace(/\/+$/, '');
  switch (type) {
    case 'file': {
      if (entry.source !== undefined) {
        const size = statSync(entry.source).size;
        return { ...common, name: path, typeflag: '0', mode: entry.mode ?? 0o644, size, source: entry.source };
      }
      if (entry.content === undefined && entry.size !== undefined) {
        return { ...common, name: path, typeflag: '0', mode: entry.mode ?? 0o644, size: entry.size, zeros: true };
      }
      const data = toBuffer(entry.content);
      return { ...common, name: path, typeflag: '0', mode: entry.mode ?? 0o644, size: data.length, data };
    }
    case 'dir':
      return { ...common, name: path.endsWith('/') ? path : `${path}/`, typeflag: '5', mode: entry.mode ?? 0o755, size: 0 };
    case 'symlink':
    case 'hardlink':
      if (typeof entry.linkname !== 'string') throw new TypeError(`${type} ${path} needs a linkname`);
      return { ...common, name: path, typeflag: TYPEFLAG[type], mode: entry.mode ?? (type === 'symlink' ? 0o777 : 0o644), size: 0, linkname: entry.linkname };
    case 'chardev':
    case 'blockdev':
    case 'fifo':
      return {
        ...common,
        name: path,
        typeflag: TYPEFLAG[type],
        mode: entry.mode ?? 0o644,
        size: 0,
        devmajor: entry.devmajor ?? 0,
        devminor: entry.devminor ?? 0,
      };
    case 'whiteout':
      return { ...common, name: `${parent}.wh.${base}`, typeflag: '0', mode: entry.mode ?? 0o644, size: 0 };
    case 'opaque':
      return { ...common, name: `${path.replace(/\/+$/, '')}/.wh..wh..opq`, typeflag: '0', mode: entry.mode ?? 0o644, size: 0 };
    default:
      throw new TypeError(`unknown layer entry type ${JSON.stringify(type)} for ${path}`);
  }
}

// ---------------------------------------------------------------------------------------------
// hashing / blob helpers

function hashingTransform(state) {
  const h = createHash('sha256');
  return new Transform({
    transform(chunk, _enc, cb) {
      h.update(chunk);
      state.size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      state.digest = `sha256:${h.digest('hex')}`;
      cb();
    },
  });
}

function sha256(buf) {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

const hex = (digest) => digest.slice('sha256:'.length);

async function writeTarFile(file, tarEntries) {
  const st = { size: 0, digest: '' };
  await pipeline(Readable.from(tarStream(tarEntries)), hashingTransform(st), createWriteStream(file));
  return st;
}

async function gzipFile(src, dst) {
  const st = { size: 0, digest: '' };
  await pipeline(createReadStream(src), createGzip({ level: 6 }), hashingTransform(st), createWriteStream(dst));
  return st;
}

// ---------------------------------------------------------------------------------------------
// generic image writer

/**
 * Write an OCI image made of the given layers. See make-busybox-image.d.mts for the types.
 * @returns {Promise<{configDigest:string, manifestDigest:string, diffIds:string[], layerDigests:string[],
 *   config:object, manifest:object, index:object}>}
 */
export async function writeOciImage(opts) {
  const { layers, name = 'busybox:latest', outDir, outTar, dockerArchive, compression = 'gzip', annotations } = opts;
  if (!Array.isArray(layers)) throw new TypeError('writeOciImage: layers must be an array of entry arrays');
  if (!outDir && !outTar && !dockerArchive) throw new TypeError('writeOciImage: give outDir, outTar and/or dockerArchive');
  const epoch = opts.mtime ?? sourceDateEpoch();
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const ref = parseImageName(name);

  const stage = await mkdtemp(join(tmpdir(), 'hull-image-'));
  try {
    const layerInfo = [];
    for (let i = 0; i < layers.length; i++) {
      const tarPath = join(stage, `layer-${i}.tar`);
      const entries = layers[i].map((e) => layerEntryToTar(e, epoch));
      const raw = await writeTarFile(tarPath, entries);
      let blobPath = tarPath;
      let blob = raw;
      let mediaType = MEDIA_TYPES.layer;
      if (compression === 'gzip') {
        blobPath = join(stage, `layer-${i}.tar.gz`);
        blob = await gzipFile(tarPath, blobPath);
        mediaType = MEDIA_TYPES.layerGzip;
      } else if (compression !== 'none') {
        throw new TypeError(`writeOciImage: unsupported compression ${JSON.stringify(compression)}`);
      }
      layerInfo.push({ tarPath, diffId: raw.digest, rawSize: raw.size, blobPath, digest: blob.digest, size: blob.size, mediaType });
    }

    const user = opts.config ?? {};
    const config = {
      created,
      architecture: hostArchitecture(),
      os: 'linux',
      ...user,
      config: { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ['sh'], ...(user.config ?? {}) },
      rootfs: user.rootfs ?? { type: 'layers', diff_ids: layerInfo.map((l) => l.diffId) },
      history: user.history ?? layerInfo.map((_, i) => ({ created, created_by: opts.createdBy?.[i] ?? `hull writeOciImage layer ${i}` })),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = sha256(configBytes);

    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: configDigest, size: configBytes.length },
      layers: layerInfo.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      ...(annotations ? { annotations } : {}),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);

    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          mediaType: MEDIA_TYPES.manifest,
          digest: manifestDigest,
          size: manifestBytes.length,
          platform: { architecture: config.architecture, os: config.os },
          annotations: {
            'io.containerd.image.name': ref.full,
            'org.opencontainers.image.ref.name': ref.tag,
          },
        },
      ],
    };
    const indexBytes = Buffer.from(JSON.stringify(index));
    const layoutBytes = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));

    // blobs: [digest, source file | Buffer]
    const blobs = new Map();
    for (const l of layerInfo) blobs.set(l.digest, { file: l.blobPath });
    blobs.set(configDigest, { data: configBytes });
    blobs.set(manifestDigest, { data: manifestBytes });

    if (outDir) {
      const dir = resolve(outDir);
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      for (const [digest, b] of blobs) {
        const dst = join(dir, 'blobs', 'sha256', hex(digest));
        if (b.data) await writeFile(dst, b.data);
        else await copyFile(b.file, dst);
      }
      await writeFile(join(dir, 'oci-layout'), layoutBytes);
      const tmpIndex = join(dir, `.index.json.${process.pid}`);
      await writeFile(tmpIndex, indexBytes);
      await rename(tmpIndex, join(dir, 'index.json'));
    }

    const file = (name, data, mode = 0o644) => ({ name, typeflag: '0', mode, uid: 0, gid: 0, mtime: epoch, size: data.length, data });
    const dirEntry = (name) => ({ name, typeflag: '5', mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0 });

    if (outTar) {
      const entries = [file('oci-layout', layoutBytes), file('index.json', indexBytes), dirEntry('blobs/'), dirEntry('blobs/sha256/')];
      for (const [digest, b] of [...blobs].sort(([a], [z]) => (a < z ? -1 : a > z ? 1 : 0))) {
        const n = `blobs/sha256/${hex(digest)}`;
        entries.push(
          b.data ? file(n, b.data) : { name: n, typeflag: '0', mode: 0o644, uid: 0, gid: 0, mtime: epoch, size: (await stat(b.file)).size, source: b.file },
        );
      }
      await atomicTar(outTar, entries);
    }

    if (dockerArchive) {
      const configName = `${hex(configDigest)}.json`;
      const layerNames = layerInfo.map((l) => `${hex(l.diffId)}/layer.tar`);
      const dmanifest = [{ Config: configName, RepoTags: [ref.short], Layers: layerNames }];
      const repositories = { [ref.short.slice(0, ref.short.length - ref.tag.length - 1)]: { [ref.tag]: hex(layerInfo.at(-1)?.diffId ?? configDigest) } };
      const entries = [];
      const seen = new Set();
      for (let i = 0; i < layerInfo.length; i++) {
        const l = layerInfo[i];
        if (seen.has(l.diffId)) continue; // identical layers are stored once
        seen.add(l.diffId);
        entries.push(dirEntry(`${hex(l.diffId)}/`));
        entries.push({ name: layerNames[i], typeflag: '0', mode: 0o644, uid: 0, gid: 0, mtime: epoch, size: l.rawSize, source: l.tarPath });
      }
      entries.push(file(configName, configBytes));
      entries.push(file('manifest.json', Buffer.from(JSON.stringify(dmanifest))));
      entries.push(file('repositories', Buffer.from(JSON.stringify(repositories))));
      await atomicTar(dockerArchive, entries);
    }

    return {
      configDigest,
      manifestDigest,
      diffIds: layerInfo.map((l) => l.diffId),
      layerDigests: layerInfo.map((l) => l.digest),
      config,
      manifest,
      index,
    };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function atomicTar(dest, entries) {
  const target = resolve(dest);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeTarFile(tmp, entries);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// busybox

/** Where the busybox binary is, or null. */
export function findBusybox(candidate) {
  for (const p of candidate ? [candidate] : ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      const st = statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Applet paths relative to /, e.g. ['bin/sh', 'sbin/ip', 'usr/bin/env', …]. */
export function busyboxApplets(busybox) {
  const full = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' });
  let list;
  if (full.status === 0 && full.stdout.trim() !== '') {
    list = full.stdout.split('\n').map((s) => s.trim().replace(/^\/+/, ''));
  } else {
    const short = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
    if (short.status !== 0) throw new Error(`${busybox} --list failed: ${short.stderr || short.error}`);
    list = short.stdout.split('\n').map((s) => `bin/${s.trim()}`);
  }
  const ok = (p) => p !== '' && !p.endsWith('/') && !p.split('/').includes('..') && p.includes('/');
  const applets = [...new Set(list.filter(ok))].filter((p) => p !== 'bin/busybox' && p !== 'linuxrc');
  return applets.sort();
}

function busyboxVersion(busybox) {
  const r = spawnSync(busybox, ['--help'], { encoding: 'utf8' });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0] ?? '';
  const m = /BusyBox (v\S+)(?: \(([^)]*)\))?/.exec(line);
  return m ? `${m[1]}${m[2] ? ` (${m[2]})` : ''}` : 'unknown';
}

export const BUSYBOX_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

export const BUSYBOX_GROUP = ['root:x:0:', 'staff:x:50:app', 'app:x:1000:', 'nogroup:x:65534:', ''].join('\n');

/** The layer entries of the busybox image (exported so tests can extend them). */
export function busyboxLayerEntries(busybox = findBusybox()) {
  if (!busybox) throw new Error('busybox not found: install busybox-static (apt-get install busybox-static)');
  const applets = busyboxApplets(busybox);
  const dirs = new Map([
    ['bin', {}],
    ['dev', {}],
    ['etc', {}],
    ['home', {}],
    ['home/app', { uid: 1000, gid: 1000 }],
    ['proc', { mode: 0o555 }],
    ['root', { mode: 0o700 }],
    ['sys', { mode: 0o555 }],
    ['tmp', { mode: 0o1777 }],
    ['usr', {}],
    ['var', {}],
    ['var/www', {}],
  ]);
  for (const a of applets) {
    const parts = a.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.set(d, {});
    }
  }
  const entries = [...dirs.keys()].sort().map((d) => ({ path: `${d}/`, type: 'dir', ...dirs.get(d) }));
  entries.push({ path: 'bin/busybox', type: 'file', mode: 0o755, source: realpathSync(busybox) });
  entries.push({ path: 'etc/passwd', type: 'file', content: BUSYBOX_PASSWD });
  entries.push({ path: 'etc/group', type: 'file', content: BUSYBOX_GROUP });
  for (const a of applets) entries.push({ path: a, type: 'symlink', linkname: '/bin/busybox' });
  return entries;
}

/**
 * Make the busybox image. Returns { configDigest, manifestDigest, diffId }.
 * @param {{outDir?:string,outTar?:string,dockerArchive?:string,name?:string,busybox?:string}} [opts]
 */
export async function makeBusyboxImage(opts = {}) {
  const busybox = findBusybox(opts.busybox);
  if (!busybox) {
    throw new Error(`busybox not found at ${opts.busybox ?? '/bin/busybox'}: install busybox-static (apt-get install busybox-static)`);
  }
  const { outDir, outTar, dockerArchive, name = 'busybox:latest' } = opts;
  const version = busyboxVersion(busybox);
  const r = await writeOciImage({
    layers: [busyboxLayerEntries(busybox)],
    name,
    outDir,
    outTar,
    dockerArchive,
    config: { config: { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ['sh'] } },
    createdBy: [`hull scripts/make-busybox-image.mjs: BusyBox ${version}`],
  });
  return { configDigest: r.configDigest, manifestDigest: r.manifestDigest, diffId: r.diffIds[0] };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = 'usage: node scripts/make-busybox-image.mjs (--oci-dir DIR | --oci-tar FILE | --docker-archive FILE)... [--name NAME] [--busybox PATH]';

async function main(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--oci-dir':
        opts.outDir = value();
        break;
      case '--oci-tar':
        opts.outTar = value();
        break;
      case '--docker-archive':
        opts.dockerArchive = value();
        break;
      case '--name':
        opts.name = value();
        break;
      case '--busybox':
        opts.busybox = value();
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        return 0;
      default:
        throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  if (!opts.outDir && !opts.outTar && !opts.dockerArchive) throw new Error(USAGE);
  const r = await makeBusyboxImage(opts);
  const name = parseImageName(opts.name ?? 'busybox:latest').full;
  for (const [what, where] of [
    ['OCI layout', opts.outDir],
    ['OCI archive', opts.outTar],
    ['docker archive', opts.dockerArchive],
  ]) {
    if (where) console.log(`wrote ${what} ${where} (${name})`);
  }
  console.log(`manifest ${r.manifestDigest}\nconfig   ${r.configDigest}\nlayer    ${r.diffId} (diffID)`);
  return 0;
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`make-busybox-image: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
