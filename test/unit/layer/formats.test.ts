// Layer formats: gzip, zstd and plain tars; every entry type and the metadata overlay needs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostUnsupportedError, InvalidImageError } from '../../../src/errors.js';
import { detectCompression } from '../../../src/layer/compression.js';
import { unpackLayer } from '../../../src/layer/unpack.js';
import { sys } from '../../../src/native/index.js';
import { makeTar, type TarSpec } from './tar-builder.js';

const isRoot = process.getuid?.() === 0;
const addonBuilt = existsSync('build/Release/hull.node');
const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function zstd(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
}

function streamOf(data: Buffer, chunkSize = 4093): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/** zstd processes started by this test process that are still there. */
function zstdChildren(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && stat.includes('(zstd)')) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let work: string;
let dest: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-formats-'));
  dest = path.join(work, 'diff');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const layer: TarSpec[] = [
  { path: 'etc/', type: 'dir' },
  { path: 'etc/os-release', body: 'ID=test\n' },
  { path: 'usr/bin/', type: 'dir' },
  { path: 'usr/bin/tool', body: Buffer.alloc(200_000, 3), mode: 0o755 },
  { path: 'usr/lib/', type: 'dir' },
  { path: 'usr/lib/tool-link', type: 'hardlink', linkpath: 'usr/bin/tool' },
];

describe('compression', () => {
  it('detects gzip, zstd, xz, bzip2 and plain tar from magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectCompression(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(detectCompression(makeTar(layer).subarray(0, 6))).toBe('none');
  });

  it.skipIf(!hasZstd)('unpacks gzip, zstd and plain layers to the same tree and diffID', async () => {
    const tar = makeTar(layer);
    const forms: [string, Buffer][] = [
      ['none', tar],
      ['gzip', zlib.gzipSync(tar)],
      ['zstd', zstd(tar)],
    ];
    for (const [compression, blob] of forms) {
      const d = path.join(work, compression);
      const r = await unpackLayer(streamOf(blob), d, { expectedDiffId: sha256(tar), expectedDigest: sha256(blob) });
      expect(r).toEqual({ diffId: sha256(tar), digest: sha256(blob), size: tar.length, compression });
      expect(readFileSync(path.join(d, 'usr/bin/tool')).equals(Buffer.alloc(200_000, 3))).toBe(true);
      expect(statSync(path.join(d, 'usr/lib/tool-link')).ino).toBe(statSync(path.join(d, 'usr/bin/tool')).ino);
    }
    expect(zstdChildren()).toEqual([]);
  });

  it.skipIf(!hasZstd)('rejects corrupt zstd data clearly, removes what was written and leaves no zstd process', async () => {
    const blob = zstd(makeTar([...layer, { path: 'more', body: Buffer.alloc(500_000, 9) }]));
    blob[Math.floor(blob.length / 2)] = (blob[Math.floor(blob.length / 2)] ?? 0) ^ 0xff;
    blob[blob.length - 8] = (blob[blob.length - 8] ?? 0) ^ 0xff;
    const err = await unpackLayer(streamOf(blob), dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidImageError);
    expect((err as Error).message).toMatch(/corrupt zstd data/);
    expect(existsSync(dest)).toBe(false);
    expect(zstdChildren()).toEqual([]);
  });

  it.skipIf(!hasZstd)('stops zstd when the unpack fails early (a bad tar inside a good zstd frame)', async () => {
    const blob = zstd(Buffer.concat([Buffer.alloc(512, 0x41), Buffer.alloc(8 * 1024 * 1024, 1)]));
    await expect(unpackLayer(streamOf(blob), dest)).rejects.toThrow(/not a tar archive/);
    expect(existsSync(dest)).toBe(false);
    expect(zstdChildren()).toEqual([]); // reaped before the unpack failed
  });

  it('names the missing zstd program and its package', async () => {
    if ((zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress) return; // this Node decodes zstd itself
    const saved = process.env.HULL_ZSTD;
    process.env.HULL_ZSTD = path.join(work, 'no-such-zstd');
    try {
      const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64)]);
      const err = await unpackLayer(streamOf(frame), dest).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostUnsupportedError);
      expect((err as Error).message).toMatch(/zstd layers need the zstd program \(Debian\/Ubuntu package zstd\)/);
      expect(existsSync(dest)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.HULL_ZSTD;
      else process.env.HULL_ZSTD = saved;
    }
  });

  it.skipIf(!hasZstd)('bounds zstd decompression bombs like gzip ones', async () => {
    const bomb = zstd(makeTar([{ path: 'zeros', body: Buffer.alloc(16 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(unpackLayer(streamOf(bomb), dest, { maxBytes: 1024 * 1024 })).rejects.toThrow(/uncompressed size exceeds the limit of 1048576 bytes/);
    expect(existsSync(dest)).toBe(false);
    expect(zstdChildren()).toEqual([]);
  });

  it('rejects xz and bzip2 layers with a clear message', async () => {
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]);
    await expect(unpackLayer(streamOf(xz), dest)).rejects.toThrow(/xz compressed layers are not supported/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('durability', () => {
  it('syncs the layer with syncfs (sync -f), or file by file where that is missing', async () => {
    const tar = makeTar(layer);
    await unpackLayer(streamOf(tar), dest, { fsync: true });
    expect(readFileSync(path.join(dest, 'etc/os-release'), 'utf8')).toBe('ID=test\n');
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(work, 'no-bin'); // no `sync` program: the per-file fallback
    try {
      const d = path.join(work, 'fallback');
      await unpackLayer(streamOf(tar), d, { fsync: true });
      expect(readFileSync(path.join(d, 'usr/bin/tool')).length).toBe(200_000);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('entry types and metadata', () => {
  it('extracts hardlinks across directories, GNU and PAX long names and links, UTF-8 names, symlink mtimes', async () => {
    const longDir = `${'d'.repeat(90)}/${'e'.repeat(90)}`;
    const tar = makeTar([
      { path: 'a/', type: 'dir' },
      { path: 'a/original', body: 'shared' },
      { path: 'b/c/', type: 'dir' },
      { path: 'b/c/link', type: 'hardlink', linkpath: 'a/original' },
      { path: `${longDir}/gnu-file`, body: 'gnu', gnuLong: true },
      { path: `${longDir}/gnu-symlink`, type: 'symlink', linkpath: `/${longDir}/gnu-file`, gnuLong: true },
      { path: `${longDir}/gnu-hardlink`, type: 'hardlink', linkpath: `${longDir}/gnu-file`, gnuLong: true },
      { path: 'pax-symlink', type: 'symlink', linkpath: 'x', pax: { linkpath: `${'t'.repeat(150)}/target` } },
      { path: 'ünïcødé/日本語.txt', body: 'utf8', pax: { path: 'ünïcødé/日本語.txt' } },
      { path: 'when', type: 'symlink', linkpath: 'a/original', mtime: new Date('2001-02-03T04:05:06Z') },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expect(statSync(path.join(dest, 'b/c/link')).ino).toBe(statSync(path.join(dest, 'a/original')).ino);
    expect(statSync(path.join(dest, 'a/original')).nlink).toBe(2);
    expect(readFileSync(path.join(dest, longDir, 'gnu-file'), 'utf8')).toBe('gnu');
    expect(readlinkSync(path.join(dest, longDir, 'gnu-symlink'))).toBe(`/${longDir}/gnu-file`);
    expect(statSync(path.join(dest, longDir, 'gnu-hardlink')).ino).toBe(statSync(path.join(dest, longDir, 'gnu-file')).ino);
    expect(readlinkSync(path.join(dest, 'pax-symlink'))).toBe(`${'t'.repeat(150)}/target`);
    expect(readFileSync(path.join(dest, 'ünïcødé/日本語.txt'), 'utf8')).toBe('utf8');
    expect(lstatSync(path.join(dest, 'when')).mtime.toISOString()).toBe('2001-02-03T04:05:06.000Z');
  });

  it('keeps setuid, setgid and sticky bits with the archive owners, drops setuid/setgid without them', async () => {
    const tar = makeTar([
      { path: 'bin/su', body: 'x', mode: 0o4755 },
      { path: 'bin/wall', body: 'x', mode: 0o2755, gid: 5 },
      { path: 'shared/', type: 'dir', mode: 0o3775 },
      { path: 'tmp/', type: 'dir', mode: 0o1777 },
    ]);
    if (isRoot) {
      await unpackLayer(streamOf(tar), dest, { preserveOwner: true });
      expect(statSync(path.join(dest, 'bin/su')).mode & 0o7777).toBe(0o4755);
      expect(statSync(path.join(dest, 'bin/wall')).mode & 0o7777).toBe(0o2755);
      expect(statSync(path.join(dest, 'bin/wall')).gid).toBe(5);
      expect(statSync(path.join(dest, 'shared')).mode & 0o7777).toBe(0o3775);
      await rm(dest, { recursive: true });
    }
    await unpackLayer(streamOf(tar), dest, { preserveOwner: false });
    expect(statSync(path.join(dest, 'bin/su')).mode & 0o7777).toBe(0o755);
    expect(statSync(path.join(dest, 'bin/wall')).mode & 0o7777).toBe(0o755);
    expect(statSync(path.join(dest, 'shared')).mode & 0o7777).toBe(0o1775);
    expect(statSync(path.join(dest, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it.skipIf(!isRoot || !addonBuilt)('applies numeric owners to files, directories, symlinks and special files, and user.* xattrs', async () => {
    const tar = makeTar([
      { path: 'home/', type: 'dir', uid: 0, gid: 0 },
      { path: 'home/u/', type: 'dir', uid: 1234, gid: 4321, mode: 0o700, pax: { 'SCHILY.xattr.user.dir': 'd' } },
      {
        path: 'home/u/file',
        body: 'x',
        uid: 1234,
        gid: 4321,
        pax: { 'SCHILY.xattr.user.mime': 'text/plain', 'SCHILY.xattr.user.bin': Buffer.from([0, 1, 2, 255]) },
      },
      { path: 'home/u/link', type: 'symlink', linkpath: 'file', uid: 1234, gid: 4321 },
      { path: 'home/u/pipe', type: 'fifo', uid: 1234, gid: 4321, mode: 0o620 },
      { path: 'dev/tty0', type: 'char', devmaj: 4, devmin: 0, uid: 0, gid: 5, mode: 0o620 },
      { path: 'dev/sda', type: 'block', devmaj: 8, devmin: 0, gid: 6, mode: 0o660 },
    ]);
    await unpackLayer(streamOf(tar), dest);
    for (const name of ['home/u', 'home/u/file', 'home/u/link', 'home/u/pipe']) {
      const st = lstatSync(path.join(dest, name));
      expect([st.uid, st.gid], name).toEqual([1234, 4321]);
    }
    expect(lstatSync(path.join(dest, 'home/u')).mode & 0o7777).toBe(0o700);
    expect(lstatSync(path.join(dest, 'home/u/pipe')).isFIFO()).toBe(true);
    expect(lstatSync(path.join(dest, 'home/u/pipe')).mode & 0o7777).toBe(0o620);
    expect(lstatSync(path.join(dest, 'dev/tty0')).rdev).toBe((4 << 8) | 0);
    expect(lstatSync(path.join(dest, 'dev/sda')).isBlockDevice()).toBe(true);
    expect(lstatSync(path.join(dest, 'dev/sda')).rdev).toBe((8 << 8) | 0);
    expect(sys.lgetxattr(path.join(dest, 'home/u/file'), 'user.mime')?.toString()).toBe('text/plain');
    expect(sys.lgetxattr(path.join(dest, 'home/u/file'), 'user.bin')?.equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    expect(sys.lgetxattr(path.join(dest, 'home/u'), 'user.dir')?.toString()).toBe('d');
  });
});
