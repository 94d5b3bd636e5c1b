// The layer-extraction attacks of design.md's security checklist not covered in unpack.test.ts,
// each with a crafted tar, each checking the host side: nothing outside the layer directory is
// created, changed or removed.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidImageError } from '../../../src/errors.js';
import { unpackLayer } from '../../../src/layer/unpack.js';
import { sys } from '../../../src/native/index.js';
import { makeTar } from './tar-builder.js';

const isRoot = process.getuid?.() === 0;
const addonBuilt = existsSync('build/Release/hull.node');
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const streamOf = (data: Buffer): Readable => Readable.from([data.subarray(0, 1000), data.subarray(1000)]);

let work: string;
let dest: string;
let outside: string;
/** outside/ as an absolute path relative to /, i.e. where it lands when followed inside dest. */
let outsideInRoot: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-safety-'));
  dest = path.join(work, 'diff');
  outside = path.join(work, 'outside');
  outsideInRoot = path.join(dest, path.relative('/', outside));
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret'), 'host file\n');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The host side: outside/ holds only its untouched file, without xattrs; work/ only what the test made. */
function expectHostUntouched(alsoInWork: string[] = []): void {
  expect(readdirSync(outside)).toEqual(['secret']);
  const st = lstatSync(path.join(outside, 'secret'));
  expect(st.isFile()).toBe(true);
  expect(st.nlink).toBe(1);
  expect(st.mode & 0o7777).toBe(0o644);
  expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('host file\n');
  if (isRoot && addonBuilt) {
    expect(sys.llistxattr(path.join(outside, 'secret'))).toEqual([]);
    expect(sys.llistxattr(outside)).toEqual([]);
  }
  expect(readdirSync(work).sort()).toEqual(['diff', 'outside', ...alsoInWork].filter((n) => n !== 'diff' || existsSync(dest)).sort());
}

describe('layer extraction never writes outside the layer directory', () => {
  it('resolves a symlink chain through the root and writes a setuid file only inside', async () => {
    const tar = makeTar([
      { path: 'l1', type: 'symlink', linkpath: 'l2' },
      { path: 'l2', type: 'symlink', linkpath: '../l3' },
      { path: 'l3', type: 'symlink', linkpath: outside },
      { path: 'l1/secret', body: 'evil', mode: 0o4755 },
      { path: 'l1/new-suid', body: 'evil', mode: 0o6755 },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expect(readFileSync(path.join(outsideInRoot, 'secret'), 'utf8')).toBe('evil');
    expect(statSync(path.join(outsideInRoot, 'new-suid')).mode & 0o7777).toBe(isRoot ? 0o6755 : 0o755);
    expectHostUntouched();
  });

  it('refuses a hardlink to a host file reached through a chain of symlinks', async () => {
    const tar = makeTar([
      { path: 'a', type: 'symlink', linkpath: 'b' },
      { path: 'b', type: 'symlink', linkpath: outside },
      { path: 'h', type: 'hardlink', linkpath: 'a/secret' },
    ]);
    await expect(unpackLayer(streamOf(tar), dest)).rejects.toBeInstanceOf(InvalidImageError);
    expect(existsSync(dest)).toBe(false);
    expectHostUntouched();
  });

  it('refuses a symlink named "." or "./" even after other entries, removing what was written', async () => {
    const tar = makeTar([
      { path: 'x', body: 'x' },
      { path: './', type: 'symlink', linkpath: outside },
      { path: 'secret', body: 'evil' },
    ]);
    await expect(unpackLayer(streamOf(tar), dest)).rejects.toThrow(/would replace the root directory/);
    expect(existsSync(dest)).toBe(false);
    expectHostUntouched();
  });

  it('rejects bare and dot whiteouts anywhere', async () => {
    for (const name of ['.wh.', 'a/.wh.', 'a/.wh..', 'a/b/.wh...']) {
      await expect(unpackLayer(streamOf(makeTar([{ path: name, body: '' }])), dest), name).rejects.toThrow(/invalid whiteout/);
      expect(existsSync(dest)).toBe(false);
    }
    expectHostUntouched();
  });

  it('rejects whiteouts that climb out with ..', async () => {
    await expect(unpackLayer(streamOf(makeTar([{ path: '../outside/.wh.secret', body: '' }])), dest)).rejects.toThrow(/outside the archive root/);
    expect(existsSync(dest)).toBe(false);
    expectHostUntouched();
  });

  it('bounds a gzip bomb by the documented limit, with a clear error and nothing left', async () => {
    // 64 MiB of zeros in ~64 KiB of gzip; refused after 8 MiB.
    const bomb = zlib.gzipSync(makeTar([{ path: 'zeros', body: Buffer.alloc(64 * 1024 * 1024) }]), { level: 9 });
    expect(bomb.length).toBeLessThan(128 * 1024);
    const err = await unpackLayer(streamOf(bomb), dest, { maxBytes: 8 * 1024 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidImageError);
    expect((err as Error).message).toBe('layer: uncompressed size exceeds the limit of 8388608 bytes');
    expect(existsSync(dest)).toBe(false);
    expectHostUntouched();
  });

  it('verifies the blob digest and the diffID while streaming, removing everything on a mismatch', async () => {
    const tar = makeTar([{ path: 'a', body: 'x' }]);
    const gz = zlib.gzipSync(tar);
    const tampered = zlib.gzipSync(makeTar([{ path: 'a', body: 'y' }]));
    await expect(unpackLayer(streamOf(tampered), dest, { expectedDigest: sha256(gz) })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(existsSync(dest)).toBe(false);
    await expect(unpackLayer(streamOf(tampered), dest, { expectedDiffId: sha256(tar) })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(existsSync(dest)).toBe(false);
    expectHostUntouched();
  });
});

describe.skipIf(!isRoot || !addonBuilt)('privileged entries stay inside the layer (root, addon)', () => {
  it('creates device nodes only inside, even through a symlinked parent', async () => {
    const tar = makeTar([
      { path: 'dev', type: 'symlink', linkpath: outside },
      { path: 'dev/sda', type: 'block', devmaj: 8, devmin: 0, mode: 0o666 },
      { path: 'dev/mem', type: 'char', devmaj: 1, devmin: 1, mode: 0o666 },
      { path: 'dev/secret', type: 'char', devmaj: 1, devmin: 3, mode: 0o666 },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expect(lstatSync(path.join(outsideInRoot, 'sda')).isBlockDevice()).toBe(true);
    expect(lstatSync(path.join(outsideInRoot, 'secret')).isCharacterDevice()).toBe(true);
    expectHostUntouched();
  });

  it('sets security.capability only inside, and never trusted.* or other security.* xattrs', async () => {
    const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const tar = makeTar([
      { path: 'lib', type: 'symlink', linkpath: outside },
      {
        path: 'lib/secret',
        body: 'ELF',
        mode: 0o755,
        pax: {
          'SCHILY.xattr.security.capability': capability,
          'SCHILY.xattr.security.selinux': 'system_u:object_r:shadow_t:s0',
          'SCHILY.xattr.trusted.overlay.opaque': 'y',
          'SCHILY.xattr.trusted.overlay.redirect': '/etc',
        },
      },
      { path: 'lib/', type: 'dir', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    ]);
    await unpackLayer(streamOf(tar), dest);
    const inside = path.join(outsideInRoot, 'secret');
    expect(sys.lgetxattr(inside, 'security.capability')?.equals(capability)).toBe(true);
    expect(sys.llistxattr(inside).filter((n) => n.startsWith('trusted.') || n === 'security.selinux')).toEqual([]);
    expect(lstatSync(path.join(dest, 'lib')).isDirectory()).toBe(true); // the directory entry replaced the symlink
    expect(sys.lgetxattr(path.join(dest, 'lib'), 'trusted.overlay.opaque')).toBeNull();
    expectHostUntouched();
  });

  it("never deletes through a lower layer's symlink: each layer is unpacked into its own empty directory", async () => {
    // Layer 1: lib -> the host directory. Layer 2: whiteouts and an opaque marker below lib/.
    const lower = path.join(work, 'lower');
    await unpackLayer(streamOf(makeTar([{ path: 'lib', type: 'symlink', linkpath: outside }])), lower);
    const upperTar = makeTar([
      { path: 'lib/.wh.secret', body: '' },
      { path: 'lib/.wh..wh..opq', body: '' },
      { path: 'lib/sub/.wh.secret', body: '' },
    ]);
    await unpackLayer(streamOf(upperTar), dest);
    const whiteout = lstatSync(path.join(dest, 'lib/secret'));
    expect(whiteout.isCharacterDevice()).toBe(true);
    expect(whiteout.rdev).toBe(0);
    expect(sys.lgetxattr(path.join(dest, 'lib'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lstatSync(path.join(lower, 'lib')).isSymbolicLink()).toBe(true);
    expectHostUntouched(['lower']);
  });

  it('never deletes through a symlink made earlier in the same layer', async () => {
    symlinkSync(outside, path.join(work, 'host-link')); // a symlink on the host: not followed either
    const tar = makeTar([
      { path: 'lib', type: 'symlink', linkpath: outside },
      { path: 'lib/.wh.secret', body: '' },
      { path: 'rel', type: 'symlink', linkpath: '../../../../host-link' },
      { path: 'rel/.wh.secret', body: '' },
      { path: 'rel/.wh..wh..opq', body: '' },
    ]);
    await unpackLayer(streamOf(tar), dest);
    expect(lstatSync(path.join(outsideInRoot, 'secret')).isCharacterDevice()).toBe(true);
    expect(lstatSync(path.join(dest, 'host-link/secret')).isCharacterDevice()).toBe(true);
    expectHostUntouched(['host-link']);
  });
});
