/**
 * `/images/json` and `/images/{name}/json` (the list and inspect shapes of src/present/images.ts),
 * `POST /images/create?fromImage=` (pull) and `/images/{name}/push`, their progress as Docker's
 * JSON lines with the client's X-Registry-Auth credentials; save (`/images/{name}/get`,
 * `/images/get`) and load, history, and `POST /commit`.
 */
import type { Writable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { platformFromText } from '../../image/platform.js';
import { familiar, normalize, parseReference } from '../../image/reference.js';
import { imageListEntry } from '../../present/images.js';
import type { PullEvent, PushEvent } from '../../registry/index.js';
import { DEFAULT_MAX_LAYER_BYTES } from '../../layer/unpack.js';
import { commitChanges } from '../commit-config.js';
import { type Exchange, queryBool } from '../exchange.js';
import { registryAuth } from '../registry-auth.js';
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
    const credentials = registryAuth(ex.headers['x-registry-auth']);
    const tag = ex.query.get('tag');
    // Docker's CLI sends the tag apart (`fromImage=busybox&tag=latest`), or a digest as the tag.
    const reference = tag ? `${from}${tag.startsWith('sha256:') ? '@' : ':'}${tag}` : from;
    const platform = ex.query.get('platform');
    // The headers wait for the first event: a pull that fails before one (no such image) is an error answer.
    const line = new JsonLines(ex);
    try {
      await hull.pull(reference, {
        onProgress: (e) => pullMessages(e).forEach(line.write),
        ...(platform ? { platform: platformFromText(platform) } : {}),
        ...(credentials ? { credentials } : {}),
        signal: ex.signal,
      });
    } catch (err) {
      if (!line.started) throw err;
      const { message } = failureOf(err);
      line.write({ errorDetail: { message }, error: message });
    }
    line.end();
  });

  // `docker push NAME[:TAG]`: the CLI sends the repository and the tag apart; no tag pushes every tag of the repository, as Docker's.
  router.add('POST', '/images/{name*}/push', async (ex) => {
    const credentials = registryAuth(ex.headers['x-registry-auth']);
    const name = ex.params.name!;
    const tag = ex.query.get('tag');
    const repository = normalize(name).replace(/:[^:/]*$/, '');
    let references: string[];
    if (tag) references = [`${name}:${tag}`];
    else if (parseReference(name).tag !== undefined) references = [name];
    else {
      const images = await hull.listImages();
      references = images.flatMap((i) => i.references).filter((r) => r.startsWith(`${repository}:`));
      if (references.length === 0) throw new UsageError(`An image does not exist locally with the tag: ${familiar(repository)}`);
    }
    const line = new JsonLines(ex);
    try {
      for (const reference of references) {
        const result = await hull.push(reference, { onProgress: (e) => pushMessages(e).forEach(line.write), ...(credentials ? { credentials } : {}) });
        const pushedTag = result.reference.slice(result.reference.lastIndexOf(':') + 1);
        line.write({ progressDetail: {}, aux: { Tag: pushedTag, Digest: result.digest, Size: result.size } });
      }
    } catch (err) {
      if (!line.started) throw err;
      const { message } = failureOf(err);
      line.write({ errorDetail: { message }, error: message });
    }
    line.end();
  });

  // docker save: one image (`/images/NAME/get`) or several (`/images/get?names=A&names=B`), a docker-archive tar streamed as it is written.
  const save = async (ex: Exchange, names: string[]) => {
    if (names.length === 0) throw new UsageError('names: at least one image must be given');
    // Every name resolves before the answer starts: a missing image is a 404, not a cut tar.
    for (const n of names) await hull.inspectImage(n);
    const out = ex.stream(200, 'application/x-tar');
    await hull.saveImages(names, out);
    out.end();
  };
  router.add('GET', '/images/get', (ex) => save(ex, ex.query.getAll('names').filter(Boolean)));
  router.add('GET', '/images/{name*}/get', (ex) => save(ex, [ex.params.name!]));

  // docker load: the body is the archive (spooled and checked by the library before anything is stored).
  router.add('POST', '/images/load', async (ex) => {
    const loaded = await hull.load(ex.bodyStream(DEFAULT_MAX_LAYER_BYTES));
    const lines = loaded.flatMap((image) =>
      image.references.length === 0 ? [`Loaded image ID: ${image.id}\n`] : image.references.map((r) => `Loaded image: ${familiar(r)}\n`),
    );
    const out = ex.stream(200, 'application/json');
    for (const text of lines) out.write(`${JSON.stringify({ stream: text })}\n`);
    out.end();
  });

  router.add('GET', '/images/search', async () => {
    throw new UsageError('image search is not served: hull has no registry search (search the registry itself, or its web pages)');
  });

  router.add('GET', '/images/{name*}/history', async (ex) => {
    const name = ex.params.name!;
    const [history, image] = await Promise.all([hull.imageHistory(name), hull.inspectImage(name)]);
    const tags = (image as { RepoTags?: string[] }).RepoTags ?? [];
    ex.reply(
      200,
      history.map((h, i) => ({
        Id: h.id,
        Created: h.created === undefined ? 0 : Math.floor(Date.parse(h.created) / 1000) || 0,
        CreatedBy: h.createdBy,
        Tags: i === 0 && tags.length > 0 ? tags : null,
        Size: h.size,
        Comment: h.comment,
      })),
    );
  });

  // docker commit: the body is a container Config whose fields override the container's (as Dockerfile lines on top of `changes`).
  router.add('POST', '/commit', async (ex) => {
    const container = ex.query.get('container');
    if (!container) throw new UsageError('container is required: the container to commit');
    const repo = ex.query.get('repo');
    const tag = ex.query.get('tag');
    if (tag && !repo) throw new UsageError('tag given without repo');
    const changes = [...ex.query.getAll('changes').filter(Boolean), ...commitChanges(await ex.json())];
    const comment = ex.query.get('comment');
    const author = ex.query.get('author');
    // Docker's default since API 1.13: pause unless `pause` says otherwise.
    const pause = ex.query.get('pause') === null || ex.query.get('pause') === '' ? true : queryBool(ex.query, 'pause');
    const image = await hull.commitContainer(container, {
      changes,
      pause,
      ...(comment ? { message: comment } : {}),
      ...(author ? { author } : {}),
      ...(repo ? { reference: tag ? `${repo}:${tag}` : repo } : {}),
    });
    ex.reply(201, { Id: image.id });
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

/** Docker's JSON-lines answer (pull, push, build): the headers go out with the first line, so a failure before one is an error answer. */
export class JsonLines {
  private out: Writable | undefined;

  constructor(private readonly ex: Exchange) {}

  /** Whether a line (and so the 200) has gone out. */
  get started(): boolean {
    return this.out !== undefined;
  }

  readonly write = (message: Record<string, unknown>): void => {
    this.out ??= this.ex.stream(200, 'application/json');
    this.out.write(`${JSON.stringify(message)}\n`);
  };

  end(): void {
    this.out?.end();
  }
}

/** A push event as Docker's JSON messages (what `docker push` draws). */
function pushMessages(e: PushEvent): Record<string, unknown>[] {
  if (e.type === 'start') return [{ status: `The push refers to repository [${e.repository}]` }];
  if (e.type === 'layer') {
    const status = {
      waiting: 'Preparing',
      exists: 'Layer already exists',
      mounted: `Mounted from ${e.from ?? ''}`.trim(),
      pushing: 'Pushing',
      pushed: 'Pushed',
    }[e.status];
    const detail = e.status === 'pushing' ? { current: e.current ?? 0, total: e.total ?? 0 } : {};
    return [{ status, progressDetail: detail, id: e.id }];
  }
  return [{ status: `${e.tag}: digest: ${e.digest} size: ${e.size}` }];
}

/** A pull event as Docker's JSON messages (what `docker pull` draws). */
export function pullMessages(e: PullEvent): Record<string, unknown>[] {
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
