import { createReadStream, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, ImageNotFoundError, InvalidImageError, UsageError } from '../../../src/errors.js';
import { hostPlatform } from '../../../src/image/platform.js';
import { imageSummaries } from '../../../src/present/images.js';
import { ImageStore } from '../../../src/store/image-store.js';
import { fakeFlock } from './fake-flock.js';
import { storePaths, type StorePaths } from '../../../src/store/paths.js';
import {
  baseLayer,
  configFor,
  hexOf,
  sha256,
  tarDirectory,
  tarLayer,
  writeDockerArchive,
  writeMultiPlatformLayout,
  writeOciLayout,
  type Layer,
} from './fixtures.js';

let work: string;
let paths: StorePaths;
let store: ImageStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-store-'));
  paths = storePaths(path.join(work, 'root'), path.join(work, 'run'));
  store = new ImageStore(paths, { flock: fakeFlock() });
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

async function twoLayerImage(): Promise<{ layers: Layer[]; config: Buffer }> {
  const layers = [
    await baseLayer(true),
    tarLayer([
      { path: 'app/', type: 'dir' },
      { path: 'app/run', body: 'run\n', mode: 0o755 },
    ]),
  ];
  return { layers, config: configFor(layers) };
}

/** Nothing half-done lies around: tmp/ is empty, and no layer, link, record or ref was added. */
function expectStoreEmpty(): void {
  for (const dir of [paths.tmp, paths.layers, paths.links, paths.images, paths.refs]) {
    expect(existsSync(dir) ? readdirSync(dir) : [], dir).toEqual([]);
  }
}

describe('ImageStore.load: OCI image layout', () => {
  it('loads a layout directory and resolves it by name, id, bare hex and prefix', async () => {
    const image = await twoLayerImage();
    const layoutDir = path.join(work, 'layout');
    const [built] = await writeOciLayout(layoutDir, [{ ...image, annotations: { [NAME]: 'example.com/team/app:1.0' } }]);
    const id = sha256(image.config);

    const loaded = await store.load(layoutDir);
    expect(loaded).toHaveLength(1);
    const resolved = loaded[0];
    expect(resolved?.id).toBe(id);
    expect(resolved?.references).toEqual(['example.com/team/app:1.0']);
    expect(resolved?.config.config?.Cmd).toEqual(['/bin/sh']);
    expect(resolved?.layerDirs).toEqual(image.layers.map((l) => path.join(paths.layers, hexOf(l.diffId), 'diff')));

    // the layers are unpacked, symlink and hardlink included, each with a short link
    const [lower, upper] = resolved?.layerDirs ?? [];
    expect(readFileSync(path.join(lower ?? '', 'etc/passwd'), 'utf8')).toMatch(/^root:/);
    expect(readlinkSync(path.join(lower ?? '', 'bin/sh'))).toBe('busybox');
    expect(statSync(path.join(lower ?? '', 'bin/ls')).ino).toBe(statSync(path.join(lower ?? '', 'bin/busybox')).ino);
    expect(readFileSync(path.join(upper ?? '', 'app/run'), 'utf8')).toBe('run\n');
    for (const [i, link] of (resolved?.layerLinks ?? []).entries()) {
      expect(path.dirname(link)).toBe(paths.links);
      expect(path.basename(link)).toMatch(/^[A-Z2-7]{26}$/);
      expect(readlinkSync(link)).toBe(`../layers/${hexOf(image.layers[i]?.diffId ?? '')}/diff`);
      expect(statSync(link).ino).toBe(statSync(resolved?.layerDirs[i] ?? '').ino);
      expect(readFileSync(path.join(paths.layers, hexOf(image.layers[i]?.diffId ?? ''), 'link'), 'utf8').trim()).toBe(path.basename(link));
    }

    // store files: config and manifest blobs, record, ref; nothing left in tmp
    expect(readFileSync(path.join(paths.blobs, 'sha256', hexOf(id))).equals(image.config)).toBe(true);
    expect(existsSync(path.join(paths.blobs, 'sha256', hexOf(built?.descriptor.digest ?? '')))).toBe(true);
    const record = JSON.parse(readFileSync(path.join(paths.images, `${hexOf(id)}.json`), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({
      id,
      configDigest: id,
      manifestDigest: built?.descriptor.digest,
      diffIds: image.layers.map((l) => l.diffId),
      created: '2024-01-02T03:04:05Z',
    });
    expect(readFileSync(path.join(paths.refs, encodeURIComponent('example.com/team/app:1.0')), 'utf8').trim()).toBe(id);
    expect(readdirSync(paths.tmp)).toEqual([]);
    // layers are private to root: they hold setuid binaries
    expect(statSync(paths.layers).mode & 0o777).toBe(0o700);

    for (const query of [
      'example.com/team/app:1.0',
      id,
      hexOf(id),
      hexOf(id).slice(0, 12),
      hexOf(id).slice(0, 4),
      `sha256:${hexOf(id).slice(0, 8)}`,
      `example.com/team/app@${built?.descriptor.digest}`,
    ]) {
      expect((await store.resolve(query)).id, query).toBe(id);
    }
  });

  it('loads a layout tar, from a path and from a stream', async () => {
    const image = await twoLayerImage();
    const layoutDir = path.join(work, 'layout');
    await writeOciLayout(layoutDir, [{ ...image, annotations: { [CONTAINERD_NAME]: 'docker.io/library/fixture:latest', [NAME]: 'latest' } }]);
    const tarFile = path.join(work, 'layout.tar');
    await tarDirectory(layoutDir, tarFile);

    const fromFile = await store.load(tarFile);
    expect(fromFile.map((i) => i.references)).toEqual([['docker.io/library/fixture:latest']]);
    expect(readdirSync(paths.tmp)).toEqual([]);

    const other = new ImageStore(storePaths(path.join(work, 'root2'), path.join(work, 'run2')), { flock: fakeFlock() });
    const fromStream = await other.load(createReadStream(tarFile));
    expect(fromStream[0]?.id).toBe(fromFile[0]?.id);
    expect((await other.resolve('fixture')).id).toBe(sha256(image.config));
  });

  it('loads an image whose only name is a bare tag untagged', async () => {
    const image = await twoLayerImage();
    const layoutDir = path.join(work, 'layout');
    await writeOciLayout(layoutDir, [{ ...image, annotations: { [NAME]: 'latest' } }]);
    const [loaded] = await store.load(layoutDir);
    expect(loaded?.references).toEqual([]);
    expect(imageSummaries(await store.list())).toEqual([
      {
        id: sha256(image.config),
        references: [],
        created: '2024-01-02T03:04:05Z',
        size: expect.any(Number),
        manifestDigest: expect.stringMatching(/^sha256:/),
        repoDigests: [],
      },
    ]);
    await expect(store.resolve('latest')).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('picks the host platform from a nested multi-platform index', async () => {
    const host = hostPlatform();
    const foreign = host.architecture === 'amd64' ? { os: 'linux', architecture: 'arm64', variant: 'v8' } : { os: 'linux', architecture: 'amd64' };
    const hostLayer = tarLayer([{ path: 'arch', body: 'host' }]);
    const foreignLayer = tarLayer([{ path: 'arch', body: 'foreign' }]);
    const layoutDir = path.join(work, 'layout');
    await writeMultiPlatformLayout(
      layoutDir,
      [
        { layers: [foreignLayer], config: configFor([foreignLayer], { platform: foreign }), platform: foreign },
        { layers: [hostLayer], config: configFor([hostLayer]), platform: host },
      ],
      { [NAME]: 'docker.io/library/multi:2' },
    );
    const [loaded] = await store.load(layoutDir);
    expect(loaded?.references).toEqual(['docker.io/library/multi:2']);
    expect(readFileSync(path.join(loaded?.layerDirs[0] ?? '', 'arch'), 'utf8')).toBe('host');
    expect(existsSync(path.join(paths.layers, hexOf(foreignLayer.diffId)))).toBe(false);
  });

  it('rejects a layer blob that does not match its digest, leaving nothing behind', async () => {
    const image = await twoLayerImage();
    const layoutDir = path.join(work, 'layout');
    await writeOciLayout(layoutDir, [{ ...image, annotations: { [NAME]: 'example.com/bad:1' } }]);
    // same size, one byte changed: still a valid tar, so only the digest can tell
    const upper = image.layers[1] as Layer;
    const tampered = Buffer.from(upper.blob);
    tampered[1024] = 0x58; // the first byte of app/run's content (after two 512-byte headers)
    await writeFile(path.join(layoutDir, 'blobs/sha256', hexOf(upper.digest)), tampered);

    const err = await store.load(layoutDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).expected).toBe(upper.digest);
    // the first layer was fine and may stay (it is complete); the bad one left nothing
    expect(readdirSync(paths.layers)).toEqual([hexOf(image.layers[0]?.diffId ?? '')]);
    expect(readdirSync(paths.links)).toHaveLength(1);
    expect(readdirSync(paths.tmp)).toEqual([]);
    expect(readdirSync(paths.images)).toEqual([]);
    expect(readdirSync(paths.refs)).toEqual([]);
  });

  it('rejects a config whose diff_ids do not match the layers, leaving nothing behind', async () => {
    const layer = tarLayer([{ path: 'f', body: 'content' }], true);
    const liar = tarLayer([{ path: 'f', body: 'other content' }]);
    const layoutDir = path.join(work, 'layout');
    await writeOciLayout(layoutDir, [{ layers: [layer], config: configFor([liar]), annotations: { [NAME]: 'example.com/liar:1' } }]);
    const err = await store.load(layoutDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as Error).message).toMatch(/diffID/);
    expectStoreEmpty();
  });

  it('rejects archives that are not images, with nothing left in tmp/', async () => {
    const notImage = path.join(work, 'junk');
    await writeOciLayout(notImage, []);
    await rm(path.join(notImage, 'oci-layout'));
    await expect(store.load(notImage)).rejects.toThrow(/neither a docker save archive/);
    await tarDirectory(notImage, path.join(work, 'junk.tar'));
    await expect(store.load(path.join(work, 'junk.tar'))).rejects.toBeInstanceOf(InvalidImageError);
    await writeFile(path.join(work, 'random.bin'), Buffer.alloc(4096, 0x42));
    await expect(store.load(path.join(work, 'random.bin'))).rejects.toThrow(/not a tar archive/);
    expectStoreEmpty();
  });
});

describe('ImageStore.load: docker save archive', () => {
  it('loads a legacy archive with RepoTags and a symlinked repeated layer', async () => {
    const base = await baseLayer(false);
    const app = tarLayer([{ path: 'app', body: 'v1' }]);
    const appConfig = configFor([base, app], { labels: { v: '1' } });
    const baseConfig = configFor([base], { created: '2023-01-01T00:00:00Z' });
    const archiveDir = path.join(work, 'archive');
    await writeDockerArchive(archiveDir, [
      { layers: [base, app], config: appConfig, repoTags: ['app:1', 'registry.example.com:5000/team/app:latest'] },
      { layers: [base], config: baseConfig, repoTags: null },
    ]);
    expect(lstatSync(path.join(archiveDir, 'layer2/layer.tar')).isSymbolicLink()).toBe(true);
    const archive = path.join(work, 'archive.tar');
    await tarDirectory(archiveDir, archive);

    const loaded = await store.load(archive);
    expect(loaded.map((i) => i.id)).toEqual([sha256(appConfig), sha256(baseConfig)]);
    expect(loaded[0]?.references).toEqual(['docker.io/library/app:1', 'registry.example.com:5000/team/app:latest']);
    expect(loaded[1]?.references).toEqual([]);
    expect(loaded[1]?.layerDirs).toEqual([loaded[0]?.layerDirs[0]]);
    expect(readdirSync(paths.layers).sort()).toEqual([hexOf(base.diffId), hexOf(app.diffId)].sort());
    expect((await store.resolve('app:1')).config.config?.Labels).toEqual({ v: '1' });
    expect((await store.resolve('registry.example.com:5000/team/app')).id).toBe(sha256(appConfig));

    const list = imageSummaries(await store.list());
    expect(list.map((i) => i.id)).toEqual([sha256(appConfig), sha256(baseConfig)]); // newest first
    expect(list[0]?.size).toBe(base.blob.length + app.blob.length);
    expect(list[1]).toEqual({ id: sha256(baseConfig), references: [], created: '2023-01-01T00:00:00Z', size: base.blob.length, repoDigests: [] });
  });

  it('confines layer paths to the archive (a layer symlinked to a host file is refused)', async () => {
    const secret = path.join(work, 'host-secret.tar');
    const hostLayer = tarLayer([{ path: 'stolen', body: 'host data' }]);
    await writeFile(secret, hostLayer.blob);
    const archiveDir = path.join(work, 'archive');
    await writeDockerArchive(archiveDir, [{ layers: [], config: configFor([hostLayer]), repoTags: ['evil:1'] }]);
    const manifestFile = path.join(archiveDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { Layers: string[] }[];
    (manifest[0] as { Layers: string[] }).Layers = ['evil/layer.tar'];
    await writeFile(manifestFile, JSON.stringify(manifest));
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(path.join(archiveDir, 'evil'));
    await symlink(secret, path.join(archiveDir, 'evil/layer.tar'));
    await tarDirectory(archiveDir, path.join(work, 'evil.tar'));

    await expect(store.load(path.join(work, 'evil.tar'))).rejects.toThrow(/evil\/layer.tar is missing/);
    expectStoreEmpty();
  });
});

describe('ImageStore: layers, resolve and list', () => {
  it('unpacks a layer once, however many images and loads share it, even concurrently', async () => {
    const base = await baseLayer(true);
    const mk = async (dir: string, label: string): Promise<string> => {
      const app = tarLayer([{ path: 'label', body: label }]);
      await writeOciLayout(path.join(work, dir), [
        { layers: [base, app], config: configFor([base, app], { labels: { label } }), annotations: { [NAME]: `example.com/${dir}:1` } },
      ]);
      return path.join(work, dir);
    };
    const [a, b] = [await mk('a', 'a'), await mk('b', 'b')];
    const [[ia], [ib], [ia2]] = await Promise.all([store.load(a), store.load(b), store.load(a)]);
    expect(ia?.layerDirs[0]).toBe(ib?.layerDirs[0]);
    expect(ia?.layerLinks[0]).toBe(ib?.layerLinks[0]);
    expect(ia2?.layerLinks).toEqual(ia?.layerLinks);
    expect(readdirSync(paths.layers)).toHaveLength(3);
    expect(readdirSync(paths.links)).toHaveLength(3);
    expect(readdirSync(paths.tmp)).toEqual([]);

    const before = statSync(path.join(paths.layers, hexOf(base.diffId))).ino;
    await store.load(a);
    expect(statSync(path.join(paths.layers, hexOf(base.diffId))).ino).toBe(before);
  });

  it('lists a layer that occurs twice only at its highest position', async () => {
    const x = tarLayer([{ path: 'x', body: 'x' }]);
    const y = tarLayer([{ path: 'y', body: 'y' }]);
    const layoutDir = path.join(work, 'layout');
    await writeOciLayout(layoutDir, [{ layers: [x, y, x], config: configFor([x, y, x]), annotations: { [NAME]: 'example.com/dup:1' } }]);
    const [loaded] = await store.load(layoutDir);
    expect(loaded?.layerDirs).toEqual([y, x].map((l) => path.join(paths.layers, hexOf(l.diffId), 'diff')));
    expect(loaded?.layerLinks).toHaveLength(2);
  });

  it('moves a name to a newly loaded image', async () => {
    const v1 = tarLayer([{ path: 'v', body: '1' }]);
    const v2 = tarLayer([{ path: 'v', body: '2' }]);
    await writeOciLayout(path.join(work, 'v1'), [{ layers: [v1], config: configFor([v1]), annotations: { [NAME]: 'docker.io/library/app:latest' } }]);
    await writeOciLayout(path.join(work, 'v2'), [
      { layers: [v2], config: configFor([v2], { created: '2025-01-01T00:00:00Z' }), annotations: { [NAME]: 'docker.io/library/app:latest' } },
    ]);
    const [first] = await store.load(path.join(work, 'v1'));
    const [second] = await store.load(path.join(work, 'v2'));
    expect((await store.resolve('app')).id).toBe(second?.id);
    const list = imageSummaries(await store.list());
    expect(list.map((i) => [i.id, i.references])).toEqual([
      [second?.id, ['docker.io/library/app:latest']],
      [first?.id, []],
    ]);
    expect((await store.resolve(first?.id ?? '')).references).toEqual([]);
  });

  it('reports unknown, invalid and ambiguous inputs clearly', async () => {
    // two configs whose ids share their first four hex digits
    const layer = tarLayer([{ path: 'f', body: 'f' }]);
    const seen = new Map<string, Buffer>();
    let pair: [Buffer, Buffer] | undefined;
    for (let i = 0; !pair; i++) {
      const config = configFor([layer], { labels: { n: String(i) } });
      const prefix = hexOf(sha256(config)).slice(0, 4);
      const other = seen.get(prefix);
      if (other) pair = [other, config];
      else seen.set(prefix, config);
    }
    await writeOciLayout(
      path.join(work, 'pair'),
      pair.map((config) => ({ layers: [layer], config })),
    );
    const loaded = await store.load(path.join(work, 'pair'));
    expect(loaded).toHaveLength(2);
    const prefix = hexOf(loaded[0]?.id ?? '').slice(0, 4);

    await expect(store.resolve(prefix)).rejects.toThrow(/ambiguous/);
    await expect(store.resolve(prefix)).rejects.toBeInstanceOf(UsageError);
    expect((await store.resolve(hexOf(loaded[1]?.id ?? '').slice(0, 20))).id).toBe(loaded[1]?.id);
    await expect(store.resolve('nosuchimage')).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.resolve(`sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.resolve('abc')).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.resolve('Bad:Name:!')).rejects.toBeInstanceOf(UsageError);
  });

  it('answers list and resolve on a store that does not exist yet', async () => {
    expect(await store.list()).toEqual([]);
    await expect(store.resolve('busybox')).rejects.toBeInstanceOf(ImageNotFoundError);
    expect(existsSync(paths.root)).toBe(false);
  });
});
