/** `/images/json` and `/images/{name}/json`: the list and inspect shapes of src/present/images.ts. */
import { UsageError } from '../../errors.js';
import { familiar } from '../../image/reference.js';
import { imageListEntry } from '../../present/images.js';
import type { Router } from '../router.js';
import type { ApiSessions } from '../sessions.js';
import { filterEntries } from './containers.js';

export function imageRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  router.add('GET', '/images/json', async (ex) => {
    let images = await hull.listImages();
    // `docker images NAME` sends reference=NAME; dangling=true lists the images without a name.
    for (const entry of filterEntries(ex)) {
      const eq = entry.indexOf('=');
      const key = entry.slice(0, eq);
      const value = entry.slice(eq + 1);
      if (key === 'reference') {
        images = images.filter((i) => i.references.some((r) => familiar(r) === value || familiar(r).split(':')[0] === value));
      } else if (key === 'dangling') {
        const dangling = value === 'true' || value === '1';
        images = images.filter((i) => (i.references.length === 0) === dangling);
      } else {
        throw new UsageError(`invalid filter '${key}' (hull's API knows reference and dangling)`);
      }
    }
    ex.reply(200, images.map(imageListEntry));
  });

  router.add('GET', '/images/{name*}/json', async (ex) => {
    ex.reply(200, await hull.inspectImage(ex.params.name!));
  });
}
