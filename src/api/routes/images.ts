/**
 * `/images/json` and `/images/{name}/json` (the list and inspect shapes of src/present/images.ts),
 * and `POST /images/create?fromImage=` (pull, its progress as Docker's JSON lines).
 */
import type { Writable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { platformFromText } from '../../image/platform.js';
import { familiar } from '../../image/reference.js';
import { imageListEntry } from '../../present/images.js';
import type { PullEvent } from '../../registry/index.js';
import { queryBool } from '../exchange.js';
import { failureOf } from '../status.js';
import { parseImageFilters, parsePruneFilters } from '../../filters/index.js';
import type { Router } from '../router.js';
import type { ApiSessions } from '../sessions.js';
import { filterArgs } from './containers.js';

export function imageRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  router.add('GET', '/images/json', async (ex) => {
    // `docker images NAME` sends reference=NAME: only the names that match are listed (src/filters/images.ts).
    const images = await hull.selectImages(parseImageFilters(filterArgs(ex)));
    ex.reply(200, images.map(imageListEntry));
  });

  router.add('POST', '/images/create', async (ex) => {
    const from = ex.query.get('fromImage');
    if (ex.query.get('fromSrc')) throw new UsageError('fromSrc (import) is not served by the API yet: use hull import');
    if (!from) throw new UsageError('fromImage must be given: the image to pull');
    if (registryCredentials(ex.headers['x-registry-auth'])) {
      throw new UsageError("X-Registry-Auth credentials are not used by hull's API yet: store them with `hull login REGISTRY`");
    }
    const tag = ex.query.get('tag');
    // Docker's CLI sends the tag apart (`fromImage=busybox&tag=latest`), or a digest as the tag.
    const reference = tag ? `${from}${tag.startsWith('sha256:') ? '@' : ':'}${tag}` : from;
    const platform = ex.query.get('platform');
    // The headers wait for the first event: a pull that fails before one (no such image) is an error answer.
    let out: Writable | undefined;
    const line = (message: Record<string, unknown>) => {
      out ??= ex.stream(200, 'application/json');
      out.write(`${JSON.stringify(message)}\n`);
    };
    try {
      await hull.pull(reference, { onProgress: (e) => pullMessages(e).forEach(line), ...(platform ? { platform: platformFromText(platform) } : {}) });
    } catch (err) {
      if (!out) throw err;
      const { message } = failureOf(err);
      line({ errorDetail: { message }, error: message });
    }
    out?.end();
  });

  router.add('POST', '/images/prune', async (ex) => {
    // dangling=false: every image no container uses (`image prune -a`); the rest as container prune's.
    const filters = parsePruneFilters(filterArgs(ex), 'image');
    const r = await hull.pruneImages({ filters });
    ex.reply(200, { ImagesDeleted: [...r.untagged.map((n) => ({ Untagged: n })), ...r.deleted.map((d) => ({ Deleted: d }))], SpaceReclaimed: r.reclaimed });
  });

  router.add('POST', '/images/{name*}/tag', async (ex) => {
    const repo = ex.query.get('repo');
    if (!repo) throw new UsageError('repo is required to tag an image');
    const tag = ex.query.get('tag');
    await hull.tag(ex.params.name!, tag ? `${repo}:${tag}` : repo);
    ex.reply(201);
  });

  router.add('DELETE', '/images/{name*}', async (ex) => {
    // Docker's noprune keeps untagged parents: hull's images have no parent images to keep.
    const r = await hull.removeImage(ex.params.name!, { force: queryBool(ex.query, 'force') });
    ex.reply(200, [...r.untagged.map((n) => ({ Untagged: n })), ...r.deleted.map((d) => ({ Deleted: d }))]);
  });

  router.add('GET', '/images/{name*}/json', async (ex) => {
    ex.reply(200, await hull.inspectImage(ex.params.name!));
  });
}

/** Whether an X-Registry-Auth header carries credentials (the CLI sends `{}` encoded when it has none). */
function registryCredentials(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || header === '') return false;
  try {
    const auth = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
    return ['username', 'password', 'auth', 'identitytoken', 'registrytoken'].some((k) => typeof auth[k] === 'string' && auth[k] !== '');
  } catch {
    throw new UsageError('X-Registry-Auth: base64url-encoded JSON expected');
  }
}

/** A pull event as Docker's JSON messages (what `docker pull` draws). */
function pullMessages(e: PullEvent): Record<string, unknown>[] {
  if (e.type === 'resolved') {
    // The repository's path at its registry, as Docker's "latest: Pulling from library/busybox".
    const r = e.reference;
    const digestAt = r.indexOf('@');
    const end = digestAt >= 0 ? digestAt : r.lastIndexOf(':');
    const tag = digestAt >= 0 ? r.slice(digestAt + 1) : r.slice(end + 1);
    return [{ status: `Pulling from ${r.slice(r.indexOf('/') + 1, end)}`, id: tag }];
  }
  if (e.type === 'layer') {
    const status = { waiting: 'Pulling fs layer', exists: 'Already exists', downloading: 'Downloading', retrying: 'Retrying', done: 'Pull complete' }[e.status];
    const detail = e.status === 'downloading' ? { current: e.current ?? 0, total: e.total ?? 0 } : {};
    return [{ status, progressDetail: detail, id: e.id }];
  }
  return [
    { status: `Digest: ${e.digest}` },
    { status: `Status: ${e.upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiar(e.reference)}` },
  ];
}
