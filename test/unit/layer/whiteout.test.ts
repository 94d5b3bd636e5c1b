import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackLayer } from '../../../src/layer/unpack.js';
import { sys } from '../../../src/native/index.js';
import { makeTar } from './tar-builder.js';

const isRoot = process.getuid?.() === 0;
const addonBuilt = existsSync('build/Release/hull.node');

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-whiteout-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!isRoot || !addonBuilt)('overlay whiteouts and device nodes (needs root and the built addon: mknod, xattrs)', () => {
  it('turns .wh.NAME into a 0:0 character device and .wh..wh..opq into trusted.overlay.opaque=y', async () => {
    const dest = path.join(work, 'diff');
    const tar = makeTar([
      { path: 'etc/', type: 'dir' },
      { path: 'etc/.wh.motd', body: '' },
      { path: 'var/cache/', type: 'dir', mode: 0o750 },
      { path: 'var/cache/.wh..wh..opq', body: '' },
      { path: 'var/cache/new', body: 'fresh' },
      { path: '.wh.gone-dir', type: 'dir' },
      { path: 'usr/', type: 'dir' },
      // a whiteout that would "delete through" a symlink: resolved inside the layer, never outside
      { path: 'usr/lib', type: 'symlink', linkpath: work },
      { path: 'usr/lib/.wh.victim', body: '' },
    ]);
    await unpackLayer(Readable.from([tar]), dest);

    for (const name of ['etc/motd', 'gone-dir', `${path.relative('/', work)}/victim`]) {
      const st = lstatSync(path.join(dest, name));
      expect(st.isCharacterDevice(), name).toBe(true);
      expect(st.rdev, name).toBe(0);
      expect(st.mode & 0o7777, name).toBe(0);
      expect([st.uid, st.gid], name).toEqual([0, 0]);
    }
    expect(existsSync(path.join(dest, 'etc/.wh.motd'))).toBe(false);
    expect(existsSync(path.join(dest, 'var/cache/.wh..wh..opq'))).toBe(false);
    expect(sys.lgetxattr(path.join(dest, 'var/cache'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lstatSync(path.join(dest, 'var/cache')).mode & 0o7777).toBe(0o750);
    expect(readFileSync(path.join(dest, 'var/cache/new'), 'utf8')).toBe('fresh');
    expect(readdirSync(work).sort()).toEqual(['diff']); // nothing created next to the layer
  });

  it('creates device nodes and FIFOs with their modes and owners, and file capabilities', async () => {
    const dest = path.join(work, 'diff');
    const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep (v2)
    const tar = makeTar([
      { path: 'dev/null', type: 'char', devmaj: 1, devmin: 3, mode: 0o666 },
      { path: 'dev/loop0', type: 'block', devmaj: 7, devmin: 0, mode: 0o660, gid: 6 },
      { path: 'run/fifo', type: 'fifo', mode: 0o600, uid: 33, gid: 33 },
      { path: 'bin/ping', body: 'ELF', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': capability, 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
    ]);
    await unpackLayer(Readable.from([tar]), dest);
    const devNull = lstatSync(path.join(dest, 'dev/null'));
    expect(devNull.isCharacterDevice()).toBe(true);
    expect(devNull.rdev).toBe((1 << 8) | 3);
    expect(devNull.mode & 0o7777).toBe(0o666);
    const loop = lstatSync(path.join(dest, 'dev/loop0'));
    expect(loop.isBlockDevice()).toBe(true);
    expect(loop.gid).toBe(6);
    const fifo = lstatSync(path.join(dest, 'run/fifo'));
    expect(fifo.isFIFO()).toBe(true);
    expect([fifo.uid, fifo.gid, fifo.mode & 0o7777]).toEqual([33, 33, 0o600]);
    expect(sys.lgetxattr(path.join(dest, 'bin/ping'), 'security.capability')?.equals(capability)).toBe(true);
    // overlayfs' own xattrs are never taken from an image
    expect(sys.lgetxattr(path.join(dest, 'bin/ping'), 'trusted.overlay.redirect')).toBeNull();
  });
});
