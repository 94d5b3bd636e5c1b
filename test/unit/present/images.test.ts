// The Docker-shaped presentation of images (src/present/images.ts), from store facts made here.
import { describe, expect, it } from 'vitest';
import { diskUsage, diskUsageRows, historyFields, historyTableRow, imageFields, imageHistory, imageRows, imageSummaries } from '../../../src/present/images.js';
import { parseFilterFlags, parseImageFilters, selectImages } from '../../../src/filters/index.js';
import type { ImageDetails, StoredImage, StoreUsage } from '../../../src/store/image-store.js';

const id = (c: string) => `sha256:${c.repeat(64)}`;

describe('images rows', () => {
  const stored: StoredImage[] = [
    {
      id: id('a'),
      names: ['docker.io/library/busybox:latest', 'docker.io/me/box:1'],
      created: '2024-01-01T00:00:00Z',
      loaded: '',
      size: 2_130_000,
      diffIds: [],
      pulledDigests: [`docker.io/library/busybox@${id('d')}`],
      manifestDigest: id('e'),
    },
    { id: id('b'), names: [], created: '2025-01-01T00:00:00Z', loaded: '', size: 10, diffIds: [], pulledDigests: [] },
  ];

  it('lists newest first, a row per name (<none> for none), filtered by repository and tag (the positional reference filter)', () => {
    const images = imageSummaries(stored);
    expect(images.map((i) => i.id)).toEqual([id('b'), id('a')]);
    expect(images[1]?.repoDigests).toEqual([`busybox@${id('d')}`, `me/box@${id('e')}`]);
    expect(imageRows(images).map((r) => [r.repository, r.tag])).toEqual([
      ['<none>', '<none>'],
      ['busybox', 'latest'],
      ['me/box', '1'],
    ]);
    const named = (pattern: string) => imageRows(selectImages(images, parseImageFilters(parseFilterFlags([`reference=${pattern}`]))));
    expect(named('me/box').map((r) => r.tag)).toEqual(['1']);
    expect(named('me/box:2')).toEqual([]);
    const [, busybox, box] = imageRows(images);
    expect(imageFields(busybox!)).toMatchObject({
      Repository: 'busybox',
      Tag: 'latest',
      ID: 'a'.repeat(12),
      Size: '2.13MB',
      Digest: id('d'),
      CreatedAt: '2024-01-01 00:00:00 +0000 UTC',
    });
    expect(imageFields(box!).Digest).toBe(id('e')); // not pulled from its repository: the manifest's
  });
});

describe('history rows', () => {
  it('steps newest first, the id on the top one, the sizes of the steps that made layers; cut unless full', () => {
    const details: ImageDetails = {
      id: id('a'),
      names: [],
      loaded: '',
      size: 3,
      diffIds: [id('1'), id('2')],
      pulledDigests: [],
      layerSizes: [1000, 2],
      layerDirs: [],
      config: {
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [id('1'), id('2')] },
        history: [
          { created: '2024-01-01T00:00:00.5Z', created_by: 'ADD\tfile:x in /' },
          { created_by: 'ENV A=1', empty_layer: true },
          { created_by: `RUN /bin/sh -c ${'x'.repeat(60)}\n  && y`, comment: 'buildkit.dockerfile.v0' },
        ],
      },
    };
    const rows = imageHistory(details);
    expect(rows.map((r) => [r.id, r.size, r.emptyLayer])).toEqual([
      [id('a'), 2, false],
      ['<missing>', 0, true],
      ['<missing>', 1000, false],
    ]);
    expect(historyFields(rows[2]!, false)).toMatchObject({ ID: '<missing>', CreatedBy: 'ADD file:x in /', CreatedAt: '2024-01-01T00:00:00Z', Size: '1kB' });
    expect(historyFields(rows[0]!, false).ID).toBe('a'.repeat(12));
    expect(historyFields(rows[0]!, true).ID).toBe(id('a'));
    expect(historyTableRow(rows[0]!, false)[2]).toBe(`RUN /bin/sh -c ${'x'.repeat(29)}…`);
    expect(historyTableRow(rows[0]!, true)[2]).toBe(`RUN /bin/sh -c ${'x'.repeat(60)}\n  && y`);
  });
});

describe('system df', () => {
  it("counts a shared layer once; a used image and what containers stack are active; the cache is the roots' layers no image has", () => {
    const usage: StoreUsage = {
      images: [
        { id: id('a'), diffIds: [id('1'), id('2')] },
        { id: id('b'), diffIds: [id('1'), id('3')] },
      ],
      containers: [
        { id: 'c1', imageId: id('a'), diffIds: [id('1'), id('2')], upperSize: 100, running: true },
        { id: 'c2', imageId: id('f'), diffIds: [id('3')], upperSize: 50, running: false },
      ],
      roots: { entries: 4, diffIds: new Set([id('2'), id('4')]) },
      layerSizes: new Map([
        [id('1'), 1000],
        [id('2'), 200],
        [id('3'), 30],
        [id('4'), 4],
      ]),
    };
    const df = diskUsage(usage);
    expect(df).toEqual({
      images: { total: 2, active: 1, size: 1230, reclaimable: 0 },
      containers: { total: 2, active: 1, size: 150, reclaimable: 50 },
      buildCache: { total: 4, active: 0, size: 4, reclaimable: 4 },
    });
    expect(diskUsageRows(df, { total: 1, active: 0, size: 0, reclaimable: 0 })).toEqual([
      { Type: 'Images', TotalCount: '2', Active: '1', Size: '1.23kB', Reclaimable: '0B (0%)' },
      { Type: 'Containers', TotalCount: '2', Active: '1', Size: '150B', Reclaimable: '50B (33%)' },
      { Type: 'Local Volumes', TotalCount: '1', Active: '0', Size: '0B', Reclaimable: '0B' },
      { Type: 'Build Cache', TotalCount: '4', Active: '0', Size: '4B', Reclaimable: '4B' },
    ]);
  });
});
