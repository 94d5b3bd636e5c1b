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
import { parsePruneFilters } from '../../present/prune-filters.js';
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
        const pattern = globPattern(value);
        // As Docker's: only the names that match are listed (one image may have others).
        const matching = (r: string) => pattern.test(familiar(r)) || pattern.test(repositoryOf(familiar(r)));
        images = images
          .map((i) => ({ ...i, references: i.references.filter(matching), repoDigests: i.repoDigests.filter((d) => pattern.test(repositoryOf(d))) }))
          .filter((i) => i.references.length > 0);
      } else if (key === 'dangling') {
        const dangling = value === 'true' || value === '1';
        images = images.filter((i) => (i.references.length === 0) === dangling);
      } else {
        throw new UsageError(`invalid filter '${key}' (hull's API knows reference and dangling)`);
      }
    }
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
    const entries = filterEntries(ex);
    const dangling = entries.filter((e) => e.startsWith('dangling='));
    const all = dangling.some((e) => ['false', '0'].includes(e.slice('dangling='.length)));
    const filters = parsePruneFilters(
      entries.filter((e) => !e.startsWith('dangling=')),
      ['until', 'label', 'label!'],
    );
    const r = await hull.pruneImages({ all, filters });
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

/** `name:tag` → `name` (a port's colon is before the last slash). */
function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** Docker's reference filter is a path.Match pattern: `*` and `?` within a path segment. */
function globPattern(text: string): RegExp {
  const source = text
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}
