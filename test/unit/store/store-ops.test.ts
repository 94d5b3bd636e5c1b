// The store's second half: names (tag), rmi's rules, garbage collection (what it keeps: image
// layers, container layers, the init layer), save → load round trips, the store check and its
// repair, the store lock. No root, no addon: flock is an in-process fake.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ImageNotFoundError, UsageError } from '../../../src/errors.js';
import { diskUsage, imageHistory, imageInspect } from '../../../src/present/images.js';
import { ImageStore } from '../../../src/store/image-store.js';
import { acquireLock, tryLock } from '../../../src/store/lock.js';
import { storePaths, type StorePaths } from '../../../src/store/paths.js';
import { fakeFlock, type FakeFlock } from './fake-flock.js';
import { baseLayer, configFor, hexOf, sha256, tarLayer, writeOciLayout, type Layer } from './fixtures.js';

let work: string;
let paths: StorePaths;
let flock: FakeFlock;
let store: ImageStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-store-ops-'));
  paths = storePaths(path.join(work, 'root'), path.join(work, 'run'));
  flock = fakeFlock();
  store = new ImageStore(paths, { flock });
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const NAME = 'org.opencontainers.image.ref.name';

async function loadImage(name: string, layers: Layer[], labels: Record<string, string> = {}): Promise<string> {
  const config = configFor(layers, { labels });
  const dir = path.join(work, `layout-${hexOf(sha256(config)).slice(0, 8)}`);
  await writeOciLayout(dir, [{ layers, config, annotations: { [NAME]: name } }]);
  const [loaded] = await store.load(dir);
  return loaded?.id ?? '';
}

async function sharedImages(): Promise<{ base: Layer; a: Layer; b: Layer; idA: string; idB: string }> {
  const base = await baseLayer(true);
  const a = tarLayer([{ path: 'a', body: 'a\n' }], true);
  const b = tarLayer([{ path: 'b', body: 'b\n' }]);
  const idA = await loadImage('example.com/a:1', [base, a], { v: 'a' });
  const idB = await loadImage('example.com/b:1', [base, b], { v: 'b' });
  return { base, a, b, idA, idB };
}

/** A container record as the runtime writes it (only the fields the store reads). */
function fakeContainer(id: string, imageId: string, lower: string[]): void {
  mkdirSync(path.join(paths.containers, id), { recursive: true });
  writeFileSync(
    path.join(paths.containers, id, 'container.json'),
    JSON.stringify({ id, name: `c-${id}`, imageId, rootfs: { lower }, state: { status: 'exited' } }),
  );
}

async function linkOf(diffId: string): Promise<string> {
  return path.join(paths.links, readFileSync(path.join(paths.layers, hexOf(diffId), 'link'), 'utf8').trim());
}

async function collect(stream: PassThrough): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function saveToFile(refs: string[], format: 'docker-archive' | 'oci'): Promise<string> {
  const out = new PassThrough();
  const [bytes] = await Promise.all([collect(out), store.save(refs, format, out)]);
  const file = path.join(work, `save-${format}-${Date.now()}.tar`);
  writeFileSync(file, bytes);
  return file;
}

describe('tag and rmi', () => {
  it('tags by name or id; refuses digest targets; rmi by name untags until the last name, then deletes', async () => {
    const { idA } = await sharedImages();
    await store.tag('example.com/a:1', 'me/a');
    await store.tag(idA.slice(7, 19), 'me/a:2');
    await expect(store.tag('example.com/a:1', `me/a@${idA}`)).rejects.toBeInstanceOf(UsageError);
    await expect(store.tag('nope', 'me/x')).rejects.toBeInstanceOf(ImageNotFoundError);
    expect((await store.resolve('me/a:latest')).id).toBe(idA);

    expect(await store.remove('me/a')).toEqual({ untagged: ['me/a:latest'], deleted: [] });
    await expect(store.remove(idA)).rejects.toThrow(/must be forced\) - image is referenced in multiple repositories/);
    expect(await store.remove('me/a:2')).toEqual({ untagged: ['me/a:2'], deleted: [] });
    const r = await store.remove('example.com/a:1');
    expect(r.untagged).toEqual(['example.com/a:1']);
    // the image, then its own layer (the base layer stays: image b has it)
    expect(r.deleted).toEqual([idA, expect.stringMatching(/^sha256:/)]);
    expect(readdirSync(paths.layers)).toHaveLength(2);
    await expect(store.resolve(idA)).rejects.toBeInstanceOf(ImageNotFoundError);
    expect((await store.check()).problems).toEqual([]);
  });

  it('refuses to remove an image a container uses (any state) unless forced; the container keeps its layers', async () => {
    const { idA, a } = await sharedImages();
    const resolved = await store.resolve(idA);
    fakeContainer('c1', idA, [path.join(paths.links, 'init'), ...[...resolved.layerLinks].reverse()]);
    const err = await store.remove('example.com/a:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/unable to remove repository reference "example.com\/a:1" \(must force\) - container c1 \(c-c1, stopped\)/);
    await expect(store.remove(idA)).rejects.toThrow(/image is being used by stopped container c1/);
    const r = await store.remove(idA, { force: true });
    expect(r.deleted).toEqual([idA]); // no layer went: the container stacks them
    await store.prune({ all: true });
    expect(existsSync(path.join(paths.layers, hexOf(a.diffId), 'diff'))).toBe(true);
    expect(existsSync(await linkOf(a.diffId))).toBe(true);
  });
});

describe('garbage collection', () => {
  it('keeps image layers, container layers, the init layer and referenced blobs; removes the rest', async () => {
    const { base, a, b, idA, idB } = await sharedImages();
    // the runtime's init layer and its link
    mkdirSync(path.join(paths.root, 'init-layer/etc'), { recursive: true });
    symlinkSync('../init-layer', path.join(paths.links, 'init'));
    // garbage: a dangling link, an orphan blob, a tmp leftover of a dead process, a stale lock
    symlinkSync('../layers/0000/diff', path.join(paths.links, 'AAAAAAAAAAAAAAAAAAAAAAAAAA'));
    const orphan = await (
      await import('../../../src/store/blobs.js')
    ).BlobStore.prototype.putBytes.call(new (await import('../../../src/store/blobs.js')).BlobStore(paths), Buffer.from('orphan'));
    mkdirSync(path.join(paths.tmp, 'layer-abc-999999-0123456789ab'));

    // dangling images go with -a only when named
    let r = await store.prune();
    expect(r.untagged).toEqual([]);
    expect(readdirSync(paths.links).sort()).not.toContain('AAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(existsSync(store['blobs'].path(orphan))).toBe(false);
    expect(readdirSync(paths.tmp)).toEqual([]);
    expect(r.gc.blobs.map((x) => x.digest)).toEqual([orphan]);

    // a container of image b keeps b's layers after b is gone
    const rb = await store.resolve(idB);
    fakeContainer('c2', idB, [path.join(paths.links, 'init'), ...[...rb.layerLinks].reverse()]);
    r = await store.prune({ all: true });
    expect(r.untagged).toEqual(['example.com/a:1']);
    expect(r.deleted).toContain(idA);
    expect(r.deleted).toContain(a.diffId);
    expect(await store.list()).toEqual([expect.objectContaining({ id: idB })]);
    for (const l of [base, b]) expect(existsSync(path.join(paths.layers, hexOf(l.diffId)))).toBe(true);
    expect(existsSync(path.join(paths.layers, hexOf(a.diffId)))).toBe(false);
    expect(existsSync(path.join(paths.root, 'init-layer/etc'))).toBe(true);
    expect(existsSync(path.join(paths.links, 'init'))).toBe(true);
    expect(r.reclaimed).toBeGreaterThan(0);

    // the container gone too, everything unreferenced goes; init stays
    await rm(path.join(paths.containers, 'c2'), { recursive: true });
    await store.remove(idB, { force: true });
    await store.prune();
    expect(readdirSync(paths.layers)).toEqual([]);
    expect(readdirSync(paths.links)).toEqual(['init']);
    expect(readdirSync(path.join(paths.blobs, 'sha256'))).toEqual([]);
    expect(existsSync(path.join(paths.root, 'init-layer'))).toBe(true);
  });

  it('keeps the layers a registered root source keeps (the build cache), in rmi, prune and df', async () => {
    const { a, b, idA, idB } = await sharedImages();
    const kept = new Set([a.diffId]);
    store.registerRoots({ keptDiffIds: () => kept, entryCount: () => 3 });
    let df = diskUsage(await store.usage());
    expect(df.buildCache).toEqual({ total: 3, active: 0, size: 0, reclaimable: 0 }); // an image has the layer: not the cache's bytes
    expect((await store.remove(idA)).deleted).toEqual([idA]); // its own layer stays: the root keeps it
    expect((await store.remove(idB)).deleted).toContain(b.diffId);
    const r = await store.prune({ all: true });
    expect(r.deleted).not.toContain(a.diffId);
    expect(readdirSync(paths.layers)).toEqual([hexOf(a.diffId)]);
    df = diskUsage(await store.usage());
    expect(df.images.total).toBe(0);
    expect(df.buildCache.size).toBeGreaterThan(0);
    expect(df.buildCache.reclaimable).toBe(df.buildCache.size);
    kept.clear(); // the root lets go: the next collection takes the layer
    await store.collectGarbage();
    expect(readdirSync(paths.layers)).toEqual([]);
  });

  it('refuses to collect while an image record is unreadable', async () => {
    await sharedImages();
    writeFileSync(path.join(paths.images, `${'f'.repeat(64)}.json`), '{');
    await expect(store.collectGarbage()).rejects.toThrow(/system check --repair/);
    expect(readdirSync(paths.layers)).toHaveLength(3);
  });
});

describe('save → load', () => {
  it('round-trips both formats with identical ids, diffIDs and (OCI) the manifest and layer digests', async () => {
    const { idA, idB, a, base } = await sharedImages();
    const before = imageInspect(await store.describe(idA));
    const oci = await saveToFile(['example.com/a:1', 'example.com/b:1'], 'oci');
    const docker = await saveToFile(['example.com/a:1', idB], 'docker-archive');

    // the OCI layout holds the blobs exactly as loaded (gzip layer a, base layer)
    const listing = execFileSync('tar', ['tf', oci], { encoding: 'utf8' }).split('\n');
    for (const l of [a, base]) expect(listing).toContain(`blobs/sha256/${hexOf(l.digest)}`);
    // docker-archive: uncompressed layers named by diffID; an image saved by id has no RepoTags
    const manifest = JSON.parse(execFileSync('tar', ['xOf', docker, 'manifest.json'], { encoding: 'utf8' })) as {
      RepoTags: string[] | null;
      Layers: string[];
    }[];
    expect(manifest.map((m) => m.RepoTags)).toEqual([['example.com/a:1'], null]);
    expect(manifest[0]?.Layers).toEqual([base, a].map((l) => `blobs/sha256/${hexOf(l.diffId)}`));

    for (const [file, format] of [
      [oci, 'oci'],
      [docker, 'docker-archive'],
    ] as const) {
      const other = new ImageStore(storePaths(path.join(work, `root-${format}`), path.join(work, `run-${format}`)), { flock });
      const loaded = await other.load(file);
      expect(loaded.map((l) => l.id).sort()).toEqual([idA, idB].sort());
      const after = imageInspect(await other.describe(idA));
      expect(after.Id).toBe(before.Id);
      expect(after.RootFS).toEqual(before.RootFS);
      expect(after.RepoTags).toEqual(['example.com/a:1']);
      if (format === 'oci') expect(after.RepoDigests).toEqual(before.RepoDigests);
      expect((await other.check()).problems).toEqual([]);
    }
  });

  it('names a layer that was stored without its blob instead of writing a broken archive', async () => {
    const { idA, a } = await sharedImages();
    await rm(path.join(paths.layers, hexOf(a.diffId), 'blob'));
    await expect(saveToFile([idA], 'oci')).rejects.toThrow(/stored without its blob.*load the image again/);
    // loading again keeps the blob (the layer is not unpacked again)
    await loadImage('example.com/a:1', [await baseLayer(true), a], { v: 'a' });
    expect(await saveToFile([idA], 'oci')).toBeTruthy();
  });
});

describe('system check', () => {
  it('finds a damaged blob and a tampered layer; repair removes them and what lost a part; reload restores', async () => {
    const { idA, idB, a, b } = await sharedImages();
    expect((await store.check()).problems).toEqual([]);
    // tamper: a file in layer b changed, the kept blob of layer a damaged
    writeFileSync(path.join(paths.layers, hexOf(b.diffId), 'diff/b'), 'B\n');
    writeFileSync(store['blobs'].path(a.digest), 'garbage');
    const found = await store.check();
    expect(found.problems.map((p) => [p.kind, p.subject])).toEqual(
      expect.arrayContaining([
        ['blob', a.digest],
        ['layer', a.diffId],
        ['layer', b.diffId],
      ]),
    );
    expect(found.problems.find((p) => p.subject === b.diffId)?.message).toMatch(/\/b: content differs/);

    const repaired = await store.check({ repair: true });
    expect(repaired.problems.every((p) => p.repaired)).toBe(true);
    expect(repaired.problems.map((p) => p.subject)).toEqual(expect.arrayContaining([idB, 'example.com/b:1']));
    expect((await store.check()).problems).toEqual([]);
    await expect(store.resolve('example.com/b:1')).rejects.toBeInstanceOf(ImageNotFoundError);
    // image a lost only its layer's kept blob: still there, savable again after a reload
    expect((await store.resolve(idA)).id).toBe(idA);
    await loadImage('example.com/b:1', [await baseLayer(true), b], { v: 'b' });
    expect((await store.check()).problems).toEqual([]);
  });

  it('finds files added to a layer and a missing short link (repair makes the link again)', async () => {
    const { a } = await sharedImages();
    writeFileSync(path.join(paths.layers, hexOf(a.diffId), 'diff/extra'), 'x');
    await rm(await linkOf(a.diffId));
    const found = await store.check();
    expect(found.problems.map((p) => p.message).join('\n')).toMatch(/its link l\/\w+ is missing[\s\S]*\/extra: not in the layer/);
    await store.check({ repair: true });
    expect((await store.check()).problems).toEqual([]);
  });
});

describe('store lock', () => {
  it('shared holders coexist; exclusive waits for them, and they for it', async () => {
    const file = path.join(work, 'lockfile');
    const s1 = await acquireLock(file, 'shared', flock);
    const s2 = await acquireLock(file, 'shared', flock);
    expect(tryLock(file, 'exclusive', flock)).toBeUndefined();
    let got = false;
    const ex = acquireLock(file, 'exclusive', flock).then((h) => {
      got = true;
      return h;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toBe(false);
    s1.release();
    s2.release();
    const held = await ex;
    expect(tryLock(file, 'shared', flock)).toBeUndefined();
    held.release();
    tryLock(file, 'shared', flock)?.release();
  });

  it('with onMissing, a missing lock file is reported and never made again (a container being removed)', async () => {
    const dir = path.join(work, 'container');
    await mkdir(dir);
    const file = path.join(dir, 'lock');
    const gone = new Error('gone');
    await expect(acquireLock(file, 'exclusive', flock, { onMissing: () => gone })).rejects.toBe(gone);
    expect(await readdir(dir)).toEqual([]);
    await writeFile(file, '');
    const held = await acquireLock(file, 'exclusive', flock, { onMissing: () => gone });
    held.release();
  });

  it('serialises concurrent loads of images sharing layers: each layer unpacked once, nothing left over', async () => {
    const base = await baseLayer(true);
    const shared = tarLayer([{ path: 'shared', body: 's\n' }], true);
    const layouts: string[] = [];
    for (let i = 0; i < 8; i++) {
      const layers = [base, shared, tarLayer([{ path: `own${i}`, body: `${i}\n` }], true)];
      const dir = path.join(work, `l${i}`);
      await writeOciLayout(dir, [{ layers, config: configFor(layers, { labels: { i: String(i) } }), annotations: { [NAME]: `example.com/img:${i}` } }]);
      layouts.push(dir);
    }
    const stores = layouts.map(() => new ImageStore(paths, { flock }));
    await Promise.all(stores.map((store, i) => store.load(layouts[i]!)));
    expect(readdirSync(paths.layers)).toHaveLength(10);
    expect(readdirSync(paths.links)).toHaveLength(10); // no losers' links: nobody unpacked twice
    expect(readdirSync(paths.tmp)).toEqual([]);
    expect(await store.list()).toHaveLength(8);
    expect((await store.check()).problems).toEqual([]);
  });
});

describe('disk usage and history', () => {
  it('counts shared layers once and what a container keeps as active', async () => {
    const { idA } = await sharedImages();
    const resolved = await store.resolve(idA);
    let df = diskUsage(await store.usage());
    expect(df.images.total).toBe(2);
    expect(df.images.active).toBe(0);
    expect(df.images.reclaimable).toBe(df.images.size);
    fakeContainer('c3', idA, [...resolved.layerLinks].reverse());
    df = diskUsage(await store.usage());
    expect(df.images.active).toBe(1);
    expect(df.images.reclaimable).toBeLessThan(df.images.size);
    expect(df.containers.total).toBe(1);
    const history = imageHistory(await store.describe(idA));
    expect(history).toHaveLength(2);
    expect(history[0]?.id).toBe(idA);
    expect(history[1]?.id).toBe('<missing>');
    expect(history.every((h) => h.size > 0 && h.createdBy === 'fixture')).toBe(true);
  });
});
