import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidImageError } from '../../../src/errors.js';
import { extractTar, unpackLayer } from '../../../src/layer/unpack.js';
import { makeTar, type TarSpec } from './tar-builder.js';

const isRoot = process.getuid?.() === 0;
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A stream in small chunks, so entries and headers straddle chunk boundaries. */
function streamOf(data: Buffer, chunkSize = 777): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

let work: string;
let dest: string;
/** A directory next to dest that no extraction may touch. */
let outside: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-unpack-'));
  dest = path.join(work, 'dest');
  outside = path.join(work, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret'), 'host file\n');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Nothing outside dest changed: `outside` holds only its original file, and work only these. */
function expectOutsideUntouched(): void {
  expect(readdirSync(outside)).toEqual(['secret']);
  expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('host file\n');
  expect(readdirSync(work).filter((n) => n !== 'dest' && n !== 'outside')).toEqual([]);
}

const basicLayer: TarSpec[] = [
  { path: './', type: 'dir', mode: 0o755 },
  { path: 'etc/', type: 'dir', mode: 0o755, mtime: new Date('2021-05-06T07:08:09Z') },
  { path: 'etc/hostname', body: 'box\n', mode: 0o644, mtime: new Date('2022-01-01T00:00:00Z') },
  { path: 'bin/', type: 'dir' },
  { path: 'bin/su', body: '#!/bin/sh\n', mode: 0o4755 },
  { path: 'tmp/', type: 'dir', mode: 0o1777 },
  { path: 'bin/sh', type: 'symlink', linkpath: '/bin/busybox' },
  { path: 'bin/busybox', body: 'ELF…', mode: 0o755 },
  { path: 'bin/ls', type: 'hardlink', linkpath: 'bin/busybox' },
  { path: 'home/user/.profile', body: 'export A=1\n', uid: 1000, gid: 1000 },
  { path: 'big', body: Buffer.alloc(300_000, 7) },
];

describe('unpackLayer', () => {
  it('extracts files, directories, symlinks and hardlinks with modes and mtimes', async () => {
    const tar = makeTar(basicLayer);
    const result = await unpackLayer(streamOf(tar), dest);

    expect(result.diffId).toBe(sha256(tar));
    expect(result.size).toBe(tar.length);
    expect(result.compression).toBe('none');
    expect(readFileSync(path.join(dest, 'etc/hostname'), 'utf8')).toBe('box\n');
    expect(statSync(path.join(dest, 'etc/hostname')).mtime.toISOString()).toBe('2022-01-01T00:00:00.000Z');
    expect(statSync(path.join(dest, 'etc')).mtime.toISOString()).toBe('2021-05-06T07:08:09.000Z');
    expect(statSync(path.join(dest, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(statSync(path.join(dest, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(readlinkSync(path.join(dest, 'bin/sh'))).toBe('/bin/busybox');
    expect(statSync(path.join(dest, 'bin/ls')).ino).toBe(statSync(path.join(dest, 'bin/busybox')).ino);
    expect(readFileSync(path.join(dest, 'big')).equals(Buffer.alloc(300_000, 7))).toBe(true);
    // implicit parent directories are created 0755
    expect(statSync(path.join(dest, 'home')).mode & 0o7777).toBe(0o755);
    if (isRoot) {
      expect(statSync(path.join(dest, 'home/user/.profile')).uid).toBe(1000);
      expect(statSync(path.join(dest, 'home/user/.profile')).gid).toBe(1000);
    }
    expectOutsideUntouched();
  });

  it('computes the same diffID for a gzipped layer, and the blob digest of the input', async () => {
    const tar = makeTar(basicLayer);
    const gz = zlib.gzipSync(tar);
    const result = await unpackLayer(streamOf(gz), dest, { expectedDiffId: sha256(tar), expectedDigest: sha256(gz) });
    expect(result).toMatchObject({ diffId: sha256(tar), digest: sha256(gz), size: tar.length, compression: 'gzip' });
    expect(readFileSync(path.join(dest, 'etc/hostname'), 'utf8')).toBe('box\n');
  });

  it('hashes every byte of the stream, including data after the end-of-archive marker', async () => {
    const tar = makeTar([{ path: 'a', body: 'x' }], Buffer.from('trailing bytes'));
    const result = await unpackLayer(streamOf(tar), dest);
    expect(result.diffId).toBe(sha256(tar));
  });

  it('accepts the empty layer (just the end-of-archive marker) with its well-known diffID', async () => {
    const result = await unpackLayer(streamOf(Buffer.alloc(1024)), dest);
    expect(result.diffId).toBe('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('accepts an existing empty directory as destination', async () => {
    await mkdir(dest);
    await unpackLayer(streamOf(makeTar([{ path: 'a', body: 'x' }])), dest);
    expect(readFileSync(path.join(dest, 'a'), 'utf8')).toBe('x');
  });

  it('rejects a diffID mismatch and leaves nothing at destDir', async () => {
    const tar = makeTar(basicLayer);
    const wrong = sha256(Buffer.from('something else'));
    const err = await unpackLayer(streamOf(tar), dest, { expectedDiffId: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).expected).toBe(wrong);
    expect((err as DigestMismatchError).actual).toBe(sha256(tar));
    expect(existsSync(dest)).toBe(false);
  });

  it('rejects a blob digest mismatch and leaves nothing at destDir', async () => {
    const gz = zlib.gzipSync(makeTar(basicLayer));
    const err = await unpackLayer(streamOf(gz), dest, { expectedDigest: sha256(Buffer.from('nope')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(existsSync(dest)).toBe(false);
  });

  it('empties a pre-existing destination on failure', async () => {
    await mkdir(dest);
    const err = await unpackLayer(streamOf(makeTar(basicLayer)), dest, { expectedDiffId: sha256(Buffer.from('x')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(await readdir(dest)).toEqual([]);
  });

  it('rejects corrupt gzip, truncated tars and things that are not tars', async () => {
    const gz = zlib.gzipSync(makeTar(basicLayer));
    gz[gz.length - 20] = (gz[gz.length - 20] ?? 0) ^ 0xff;
    await expect(unpackLayer(streamOf(gz), dest)).rejects.toBeInstanceOf(InvalidImageError);
    expect(existsSync(dest)).toBe(false);

    const tar = makeTar([{ path: 'big', body: Buffer.alloc(5000, 1) }]);
    await expect(unpackLayer(streamOf(tar.subarray(0, 2048)), dest)).rejects.toThrow(/unexpected end of tar archive/);
    expect(existsSync(dest)).toBe(false);

    await expect(unpackLayer(streamOf(Buffer.alloc(2048, 0x41)), dest)).rejects.toThrow(/not a tar archive/);
    await expect(unpackLayer(streamOf(Buffer.alloc(0)), dest)).rejects.toThrow(/not a tar archive/);
    expect(existsSync(dest)).toBe(false);
  });

  it('bounds the uncompressed size (decompression bombs)', async () => {
    const bomb = zlib.gzipSync(makeTar([{ path: 'zeros', body: Buffer.alloc(4 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(unpackLayer(streamOf(bomb), dest, { maxBytes: 1024 * 1024 })).rejects.toThrow(/exceeds the limit/);
    expect(existsSync(dest)).toBe(false);
  });

  it('reads a pre-POSIX directory (NUL typeflag, name ending in /) and a "0" file named "x/" as Go does', async () => {
    const tar = makeTar([
      { path: 'old/', type: 'dir' },
      { path: 'old/f', body: 'one' },
      { path: 'odd/', body: 'data' },
      { path: 'after', body: 'two' },
    ]);
    const reseal = (off: number, typeflag: number): void => {
      tar[off + 156] = typeflag;
      tar.fill(0x20, off + 148, off + 156);
      let sum = 0;
      for (let i = off; i < off + 512; i++) sum += tar[i] as number;
      tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, off + 148, 'latin1');
    };
    reseal(0, 0); // 'old/': typeflag NUL
    reseal(1536, 0x30); // 'odd/': a regular file ('0') whose name ends in '/', with 4 bytes of data
    await unpackLayer(streamOf(tar), dest, { preserveOwner: false });
    expect(statSync(path.join(dest, 'old')).isDirectory()).toBe(true);
    expect(readFileSync(path.join(dest, 'old', 'f'), 'utf8')).toBe('one');
    expect(readFileSync(path.join(dest, 'odd'), 'utf8')).toBe('data');
    expect(readFileSync(path.join(dest, 'after'), 'utf8')).toBe('two');
  });

  it('takes PAX long names and GNU-style metadata', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const tar = makeTar([{ path: 'placeholder', body: 'long', pax: { path: long, mtime: '1600000000.5' } }]);
    await unpackLayer(streamOf(tar), dest);
    expect(readFileSync(path.join(dest, long), 'utf8')).toBe('long');
    expect(statSync(path.join(dest, long)).mtimeMs).toBe(1600000000500);
  });

  it('replaces an earlier entry of the same name instead of writing through it', async () => {
    const tar = makeTar([
      { path: 'x', type: 'symlink', linkpath: path.join(outside, 'secret') },
      { path: 'x', body: 'replaced' },
      { path: 'd/', type: 'dir' },
      { path: 'd/inner', body: 'gone' },
      { path: 'd', body: 'now a file' },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expect(lstatSync(path.join(dest, 'x')).isFile()).toBe(true);
    expect(readFileSync(path.join(dest, 'x'), 'utf8')).toBe('replaced');
    expect(readFileSync(path.join(dest, 'd'), 'utf8')).toBe('now a file');
    expectOutsideUntouched();
  });
});

describe('unpackLayer keeps everything inside destDir', () => {
  it('strips a leading / from absolute names', async () => {
    const abs = path.join(outside, 'pwned');
    await unpackLayer(streamOf(makeTar([{ path: abs, body: 'x' }])), dest);
    expect(existsSync(abs)).toBe(false);
    expect(readFileSync(path.join(dest, abs), 'utf8')).toBe('x');
    expectOutsideUntouched();
  });

  it('rejects names that climb out with ..', async () => {
    for (const name of ['../outside/pwned', 'a/../../outside/pwned', '..']) {
      const err = await unpackLayer(streamOf(makeTar([{ path: name, body: 'x' }])), dest).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(InvalidImageError);
      expect((err as Error).message).toMatch(/outside the archive root/);
      expect(existsSync(dest)).toBe(false);
    }
    expectOutsideUntouched();
  });

  it('resolves a write through an absolute symlink inside the root (a -> /outside, a/secret)', async () => {
    const tar = makeTar([
      { path: 'a', type: 'symlink', linkpath: outside },
      { path: 'a/secret', body: 'overwritten?' },
      { path: 'a/new', body: 'created?' },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expectOutsideUntouched();
    // the symlink is followed as if dest were /
    expect(readFileSync(path.join(dest, outside, 'secret'), 'utf8')).toBe('overwritten?');
    expect(readlinkSync(path.join(dest, 'a'))).toBe(outside);
  });

  it('clamps relative symlinks at the root (a -> ../../.., chained b -> a)', async () => {
    const tar = makeTar([
      { path: 'a', type: 'symlink', linkpath: '../../../../../../..' },
      { path: 'b', type: 'symlink', linkpath: 'a' },
      { path: 'c', type: 'symlink', linkpath: `b/${path.relative('/', outside)}` },
      { path: 'c/secret', body: 'overwritten?' },
      { path: 'b/etc/passwd', body: 'root::0:0::/:/bin/sh\n' },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expectOutsideUntouched();
    expect(readFileSync(path.join(dest, outside, 'secret'), 'utf8')).toBe('overwritten?');
    expect(readFileSync(path.join(dest, 'etc/passwd'), 'utf8')).toMatch(/^root/);
  });

  it('refuses symlink loops', async () => {
    const tar = makeTar([
      { path: 'l1', type: 'symlink', linkpath: 'l2' },
      { path: 'l2', type: 'symlink', linkpath: 'l1' },
      { path: 'l1/x', body: 'x' },
    ]);
    await expect(unpackLayer(streamOf(tar), dest)).rejects.toThrow(/too many levels of symbolic links/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses hardlinks to files outside the layer', async () => {
    for (const linkpath of [path.join(outside, 'secret'), '../outside/secret', '/etc/passwd']) {
      const err = await unpackLayer(streamOf(makeTar([{ path: 'h', type: 'hardlink', linkpath }])), dest).catch((e: unknown) => e);
      expect(err, linkpath).toBeInstanceOf(InvalidImageError);
      expect(existsSync(dest)).toBe(false);
    }
    expect(statSync(path.join(outside, 'secret')).nlink).toBe(1);
    expectOutsideUntouched();
  });

  it('refuses hardlinks through a symlink that leads out, and never follows a linked symlink', async () => {
    const through = makeTar([
      { path: 'a', type: 'symlink', linkpath: outside },
      { path: 'h', type: 'hardlink', linkpath: 'a/secret' },
    ]);
    await expect(unpackLayer(streamOf(through), dest)).rejects.toThrow(/no such file in this layer/);
    expect(statSync(path.join(outside, 'secret')).nlink).toBe(1);

    const toSymlink = makeTar([
      { path: 's', type: 'symlink', linkpath: path.join(outside, 'secret') },
      { path: 'h', type: 'hardlink', linkpath: 's' },
    ]);
    await unpackLayer(streamOf(toSymlink), dest);
    expect(lstatSync(path.join(dest, 'h')).isSymbolicLink()).toBe(true);
    expect(statSync(path.join(outside, 'secret')).nlink).toBe(1);
    expectOutsideUntouched();
  });

  it('refuses to replace the root with a symlink named "."', async () => {
    for (const name of ['.', './', '/']) {
      const tar = makeTar([
        { path: name, type: 'symlink', linkpath: outside },
        { path: 'secret', body: 'x' },
      ]);
      await expect(unpackLayer(streamOf(tar), dest), name).rejects.toThrow(/would replace the root directory/);
      expect(existsSync(dest)).toBe(false);
    }
    expectOutsideUntouched();
  });

  it('rejects a bare .wh. whiteout and skips AUFS metadata', async () => {
    await expect(unpackLayer(streamOf(makeTar([{ path: 'dir/.wh.', body: '' }])), dest)).rejects.toThrow(/invalid whiteout/);
    await expect(unpackLayer(streamOf(makeTar([{ path: '.wh...', body: '' }])), dest)).rejects.toThrow(/invalid whiteout/);
    expect(existsSync(dest)).toBe(false);

    await unpackLayer(
      streamOf(
        makeTar([
          { path: '.wh..wh.plnk/', type: 'dir' },
          { path: '.wh..wh.plnk/123.456', body: 'aufs' },
          { path: '.wh..wh.aufs', body: '' },
          { path: 'kept', body: 'k' },
        ]),
      ),
      dest,
    );
    expect(readdirSync(dest)).toEqual(['kept']);
  });
});

describe('extractTar (image archives)', () => {
  it('keeps .wh. names as plain files and refuses device nodes', async () => {
    await extractTar(streamOf(makeTar([{ path: 'blobs/.wh.x', body: 'not a whiteout' }])), dest);
    expect(readFileSync(path.join(dest, 'blobs/.wh.x'), 'utf8')).toBe('not a whiteout');
    await rm(dest, { recursive: true });

    const dev = makeTar([{ path: 'sda', type: 'block', devmaj: 8, devmin: 0, mode: 0o666 }]);
    await expect(extractTar(streamOf(dev), dest)).rejects.toThrow(/not allowed/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('unpackLayer with small files on the file-writing thread', () => {
  // fileThread 'always': the thread takes small files whatever the file system's speed.
  const prefix: TarSpec[] = [{ path: 'many/', type: 'dir' }];
  for (let i = 0; i < 100; i++) prefix.push({ path: `many/f${i}`, body: `file ${i}\n`, mode: 0o644 });

  it('keeps contents, modes, owners and times; later entries wait for the files they replace or link', async () => {
    const mtime = new Date('2020-02-03T04:05:06Z');
    const tar = makeTar([
      ...prefix,
      { path: 'f', body: 'first' },
      { path: 'f', body: 'second' },
      { path: 'g', body: 'a file first' },
      { path: 'g/', type: 'dir' },
      { path: 'g/h', body: 'under g' },
      { path: 'h', body: 'linked', mode: 0o640, mtime },
      { path: 'h2', type: 'hardlink', linkpath: 'h' },
      { path: 'suid', body: 'x', mode: 0o4755, uid: 1000, gid: 1000 },
      { path: 'open', body: 'y', mode: 0o666 },
      { path: 'owned', body: 'z', uid: 1000, gid: 1001 },
      { path: 'x/y/z', body: 'its parents made by the walk' },
      { path: 'x/y', body: 'a file over a directory the walk made' },
    ]);
    await unpackLayer(streamOf(tar, 4096), dest, { fileThread: 'always' });
    for (let i = 0; i < 100; i += 33) expect(readFileSync(path.join(dest, 'many', `f${i}`), 'utf8')).toBe(`file ${i}\n`);
    expect(readdirSync(path.join(dest, 'many'))).toHaveLength(100);
    expect(readFileSync(path.join(dest, 'f'), 'utf8')).toBe('second');
    expect(readFileSync(path.join(dest, 'g', 'h'), 'utf8')).toBe('under g');
    const h = statSync(path.join(dest, 'h'));
    expect(h.nlink).toBe(2);
    expect(h.mode & 0o7777).toBe(0o640);
    expect(h.mtime.getTime()).toBe(mtime.getTime());
    expect(readFileSync(path.join(dest, 'h2'), 'utf8')).toBe('linked');
    expect(statSync(path.join(dest, 'open')).mode & 0o7777).toBe(0o666);
    expect(readFileSync(path.join(dest, 'x', 'y'), 'utf8')).toBe('a file over a directory the walk made');
    if (isRoot) {
      const suid = statSync(path.join(dest, 'suid'));
      expect([suid.uid, suid.gid, suid.mode & 0o7777]).toEqual([1000, 1000, 0o4755]);
      const owned = statSync(path.join(dest, 'owned'));
      expect([owned.uid, owned.gid]).toEqual([1000, 1001]);
    }
    expectOutsideUntouched();
  });

  it('never writes through a directory that a later entry replaces with a symlink out', async () => {
    const tar = makeTar([
      ...prefix,
      { path: 'd/', type: 'dir' },
      ...Array.from({ length: 60 }, (_, i): TarSpec => ({ path: `d/p${i}`, body: `pending ${i}` })),
      { path: 'd', type: 'symlink', linkpath: outside },
      { path: 'd/secret', body: 'overwritten?' },
      { path: 'd/new', body: 'created?' },
    ]);
    await unpackLayer(streamOf(tar, 4096), dest, { fileThread: 'always' });
    expectOutsideUntouched();
    expect(readlinkSync(path.join(dest, 'd'))).toBe(outside);
    expect(readFileSync(path.join(dest, outside, 'secret'), 'utf8')).toBe('overwritten?');
  });

  it.skipIf(!isRoot)('a whiteout replaces a file the thread made (a 0:0 character device: needs root)', async () => {
    const tar = makeTar([...prefix, { path: 'w', body: 'deleted later' }, { path: '.wh.w', body: '' }]);
    await unpackLayer(streamOf(tar, 4096), dest, { fileThread: 'always' });
    const w = lstatSync(path.join(dest, 'w'));
    expect(w.isCharacterDevice()).toBe(true);
    expect(w.rdev).toBe(0);
  });

  it('an error on the thread (a name too long for the file system) fails the unpack and leaves nothing', async () => {
    const tar = makeTar([...prefix, { path: 'many/long', pax: { path: `many/${'n'.repeat(300)}` }, body: 'x' }, { path: 'after', body: 'y' }]);
    const err = await unpackLayer(streamOf(tar, 4096), dest, { fileThread: 'always' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ENAMETOOLONG/);
    expect(existsSync(dest)).toBe(false);
    expectOutsideUntouched();
  });

  it('a failure while the thread has work queued fails the unpack and leaves nothing', async () => {
    // Many small files, then a corrupt tail: the unpack fails while the thread has work queued.
    const good = makeTar(prefix);
    const broken = Buffer.concat([good.subarray(0, good.length - 1024 - 512 * 3), Buffer.alloc(100, 0x41)]);
    const err = await unpackLayer(streamOf(broken, 4096), dest, { fileThread: 'always' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidImageError);
    expect(existsSync(dest)).toBe(false);
    expectOutsideUntouched();
  });
});
