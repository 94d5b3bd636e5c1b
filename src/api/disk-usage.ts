/**
 * `GET /system/df`: Docker's lists (images, containers, volumes, build cache), from which the
 * CLI's `system df` sums its rows. The sizes are the store's (src/store/image-store.ts usage()):
 * an image's SharedSize is the bytes of its layers another image also has, as Docker counts it;
 * a container's SizeRw is its writable layer; a volume's UsageData its bytes and its users.
 */
import type { Hull } from '../hull.js';
import { imageListEntry } from '../present/images.js';
import { containerListEntry } from '../present/containers.js';

export async function diskUsageBody(hull: Hull): Promise<Record<string, unknown>> {
  const [usage, images, containers] = await Promise.all([hull.images.usage(), hull.listImages(), hull.listContainers()]);
  const layerImages = new Map<string, number>();
  for (const i of usage.images) for (const d of new Set(i.diffIds)) layerImages.set(d, (layerImages.get(d) ?? 0) + 1);
  const size = (d: string) => usage.layerSizes.get(d) ?? 0;
  const imageLayers = new Map(usage.images.map((i) => [i.id, [...new Set(i.diffIds)]]));
  const users = (id: string) => usage.containers.filter((c) => c.imageId === id).length;
  const upper = new Map(usage.containers.map((c) => [c.id, c.upperSize]));
  const now = Date.now();
  const { treeSize } = await import('../volume/store.js');
  const volumes = [];
  for (const v of hull.listVolumes()) {
    volumes.push({ ...v, UsageData: { Size: treeSize(v.Mountpoint), RefCount: (await hull.runtime.volumes.users(v.Name)).length } });
  }
  // hull sizes its build cache as a whole (the layers only the cache keeps), not by entry: the
  // bytes are on the first entry, so the CLI's sum over the entries is hull's figure.
  const cache = (await hull.diskUsage()).buildCache;
  const buildCache = Array.from({ length: cache.total }, (_, i) => ({
    ID: `hull-build-cache-${i}`,
    Type: 'regular',
    Description: "hull's build cache",
    InUse: false,
    Shared: false,
    Size: i === 0 ? cache.size : 0,
    UsageCount: 0,
  }));
  return {
    LayersSize: [...layerImages.keys()].reduce((n, d) => n + size(d), 0),
    Images: images.map((image) => {
      const layers = imageLayers.get(image.id) ?? [];
      return {
        ...imageListEntry(image),
        Containers: users(image.id),
        SharedSize: layers.filter((d) => (layerImages.get(d) ?? 0) > 1).reduce((n, d) => n + size(d), 0),
      };
    }),
    Containers: containers.map((c) => ({ ...containerListEntry(c, now), SizeRw: upper.get(c.id) ?? 0, SizeRootFs: 0 })),
    Volumes: volumes,
    BuildCache: buildCache,
  };
}
