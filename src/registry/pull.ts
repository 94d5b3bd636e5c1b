/**
 * `pull`: resolve the reference (tag or digest) to a manifest, through an index to the manifest
 * for the wanted platform, fetch the config, and stream every layer blob from the registry
 * straight into the store's unpacker (3 at a time): the blob digest and the diffID are verified
 * while the bytes stream, so nothing unverified is ever stored, and the blob kept for `save` and
 * `push` is the registry's byte for byte. A connection that breaks or stalls mid-blob is resumed
 * with `Range: bytes=N-` (or the first N bytes skipped when the registry ignores Range).
 */

import { Readable } from 'node:stream';
import { HullError, InvalidImageError, RegistryAuthError, RegistryError } from '../errors.js';
import type { ArchiveImage, ArchiveLayer } from '../image/archive/index.js';
import { MAX_JSON_BYTES } from '../image/archive/archive-dir.js';
import { digestOf, verifyDigest } from '../image/digest.js';
import { parseJson } from '../image/json.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifestDocument } from '../image/manifest.js';
import { formatPlatform, hostPlatform, platformMatches, selectManifest } from '../image/platform.js';
import { familiar, formatReference, manifestReference, parseReference, repositoryName, withDefaultTag, type Reference } from '../image/reference.js';
import { LAYER_MEDIA_TYPES, parseImageConfig, type Descriptor, type Platform } from '../image/types.js';
import type { ImageStore, ResolvedImage } from '../store/image-store.js';
import { RegistryClient, errorText, headerOf, isRetryable, networkError, networkReason, sleep } from './client.js';
import { type Credentials, getCredentials } from './credentials.js';
import { readBody } from './http.js';
import { endpointFor, type RegistrySettings } from './settings.js';

export type LayerStatus = 'waiting' | 'exists' | 'downloading' | 'retrying' | 'done';

export type PullEvent =
  | { type: 'resolved'; reference: string; digest: string; layers: { id: string; size: number }[] }
  | { type: 'layer'; id: string; status: LayerStatus; current?: number; total?: number; message?: string }
  /** `digest`: what the registry served for the reference (an index's for a multi-platform image), as Docker prints it. */
  | { type: 'done'; reference: string; digest: string; imageId: string; upToDate: boolean };

export interface PullOptions {
  /** os/architecture[/variant] to pick from an index; default this host's. */
  platform?: Platform;
  onProgress?: (event: PullEvent) => void;
  /** Credentials to use instead of the stored ones (the Engine API's X-Registry-Auth). */
  credentials?: Credentials;
  /** Cancels the pull (the Engine API's client went away): downloads stop, and nothing is stored. */
  signal?: AbortSignal;
}

export interface PullResult {
  image: ResolvedImage;
  /** The manifest digest pulled (the platform's manifest). */
  digest: string;
  /** The normalised name it was stored under. */
  reference: string;
  upToDate: boolean;
}

/** `os/arch[/variant]` → Platform (the library's name for it). */
export { platformFromText as parsePlatform } from '../image/platform.js';

export interface Fetched {
  bytes: Buffer;
  digest: string;
  contentType: string | undefined;
}

/** GET a manifest by tag or digest: bounded, its digest checked (against the reference's when by digest). */
export async function fetchManifest(client: RegistryClient, repo: string, ref: string, what: string, expected?: Descriptor): Promise<Fetched> {
  const res = await client.request({ method: 'GET', path: `/v2/${repo}/manifests/${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
  if (res.status === 404) {
    const text = await errorText(res);
    throw new RegistryError(`${what}: not found in ${client.endpoint.registry}${text ? ` (${text})` : ''}`, { status: 404, code: 'NOT_FOUND' });
  }
  if (res.status === 401 || res.status === 403) {
    const text = await errorText(res);
    throw new RegistryAuthError(`${what}: ${res.status === 401 ? 'unauthorized' : 'access denied'}${text ? ` (${text})` : ''}`, { status: res.status });
  }
  if (res.status !== 200) {
    const text = await errorText(res);
    throw new RegistryError(`${what}: manifest request answered ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
  }
  const max = expected ? Math.min(expected.size, MAX_MANIFEST_BYTES) : MAX_MANIFEST_BYTES;
  let bytes: Buffer;
  try {
    bytes = await readBody(res, max, `${what} manifest`);
  } catch (err) {
    if (err instanceof RegistryError && /more than/.test(err.message)) {
      throw new InvalidImageError(`${what}: manifest is larger than ${max} bytes${expected ? " (its descriptor's size)" : ''}`);
    }
    throw networkError(err, `${what} manifest`);
  }
  const digest = expected?.digest ?? (ref.includes(':') ? ref : digestOf(bytes, 'sha256'));
  verifyDigest(`${what} manifest`, digest, bytes);
  if (expected && bytes.length !== expected.size) {
    throw new InvalidImageError(`${what}: manifest is ${bytes.length} bytes, its descriptor says ${expected.size}`);
  }
  const stated = headerOf(res, 'docker-content-digest');
  if (!ref.includes(':') && stated !== undefined && stated.startsWith('sha256:') && stated !== digest) {
    throw new InvalidImageError(`${what}: manifest digest mismatch: the registry says ${stated}, the bytes are ${digest}`);
  }
  return { bytes, digest, contentType: headerOf(res, 'content-type') };
}

/** A small blob (config), bounded and verified. */
async function fetchSmallBlob(client: RegistryClient, repo: string, d: Descriptor, what: string): Promise<Buffer> {
  if (d.size > MAX_JSON_BYTES) throw new InvalidImageError(`${what}: ${d.size} bytes is more than the ${MAX_JSON_BYTES} allowed`);
  const res = await client.request({ method: 'GET', path: `/v2/${repo}/blobs/${d.digest}` });
  if (res.status !== 200) {
    const text = await errorText(res);
    throw new RegistryError(`${what}: blob ${d.digest} answered ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
  }
  const bytes = await readBody(res, d.size, what).catch((err: unknown) => {
    throw err instanceof RegistryError ? new InvalidImageError(`${what}: more than the ${d.size} bytes its descriptor says`) : networkError(err, what);
  });
  verifyDigest(what, d.digest, bytes);
  return bytes;
}

/**
 * The bytes of a layer blob, resumed after a broken or stalled connection. Ends with an error
 * when the registry sends more than the descriptor's size, or when retries (attempts that
 * brought no new byte) run out.
 */
async function* blobChunks(
  client: RegistryClient,
  repo: string,
  d: Descriptor,
  what: string,
  settings: RegistrySettings,
  onBytes: (received: number) => void,
  onRetry: (why: string) => void,
): AsyncGenerator<Buffer> {
  const short = d.digest.slice(7, 19);
  let received = 0;
  let failures = 0;
  const fail = async (err: unknown): Promise<void> => {
    if (!isRetryable(err)) throw networkError(err, `${what}: layer ${short}`);
    if (failures >= settings.retries) {
      throw new RegistryError(`${what}: layer ${short}: ${networkReason(err)} (gave up after ${failures + 1} attempts)`, { cause: err });
    }
    failures++;
    onRetry(networkReason(err));
    await sleep(Math.min(settings.backoffMs * 2 ** (failures - 1), 8000));
  };
  for (;;) {
    let res;
    try {
      res = await client.request({
        method: 'GET',
        path: `/v2/${repo}/blobs/${d.digest}`,
        headers: received > 0 ? { Range: `bytes=${received}-` } : {},
        retries: 0,
      });
    } catch (err) {
      await fail(err);
      continue;
    }
    if (res.status >= 500 || res.status === 429) {
      const text = await errorText(res);
      await fail(Object.assign(new Error(`registry answered ${res.status}${text ? `: ${text}` : ''}`), { code: 'ECONNRESET' }));
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      const text = await errorText(res);
      throw new RegistryError(`${what}: layer ${short}: blob ${d.digest} answered ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
    }
    let skip = 0;
    if (received > 0) {
      if (res.status === 206) {
        const range = /^bytes (\d+)-/.exec(headerOf(res, 'content-range') ?? '');
        if (!range || Number(range[1]) !== received) {
          res.body.destroy();
          throw new RegistryError(
            `${what}: layer ${short}: the registry resumed at the wrong offset (${headerOf(res, 'content-range') ?? 'no Content-Range'})`,
          );
        }
      } else skip = received; // Range ignored: the whole blob again
    }
    let progressed = false;
    try {
      for await (const raw of res.body) {
        let chunk = raw as Buffer;
        if (skip > 0) {
          const n = Math.min(skip, chunk.length);
          skip -= n;
          chunk = chunk.subarray(n);
          if (chunk.length === 0) continue;
        }
        if (received + chunk.length > d.size) {
          throw new InvalidImageError(`${what}: layer ${short}: the registry sent more than the ${d.size} bytes the manifest says`);
        }
        received += chunk.length;
        progressed = true;
        onBytes(received);
        yield chunk;
      }
      if (received < d.size) throw Object.assign(new Error('premature end'), { code: 'PREMATURE_END' });
      return;
    } catch (err) {
      res.body.destroy();
      if (err instanceof HullError && !isRetryable(err)) throw err;
      if (progressed) failures = 0;
      await fail(err);
    }
  }
}

export async function pullImage(store: ImageStore, settings: RegistrySettings, input: string, options: PullOptions = {}): Promise<PullResult> {
  const ref: Reference = withDefaultTag(parseReference(input));
  const reference = formatReference(ref);
  const what = familiar(reference);
  const want = options.platform ?? hostPlatform();
  const emit = options.onProgress ?? (() => undefined);
  const endpoint = endpointFor(ref.domain, settings, `pull ${what}`);
  const given = options.credentials;
  const client = new RegistryClient(endpoint, settings, () => (given ? Promise.resolve(given) : getCredentials(settings.dockerConfigDir, ref.domain)));
  client.addScope(ref.path, 'pull');
  let onAbort: (() => void) | undefined;
  try {
    const tagOrDigest = manifestReference(ref);
    let fetched = await fetchManifest(client, ref.path, tagOrDigest, what);
    /** What the registry served for the reference: an index's digest for a multi-platform image. */
    const servedDigest = fetched.digest;
    let doc = parseManifestDocument(fetched.bytes, fetched.contentType, `${what} manifest`);
    if (doc.kind === 'index') {
      const chosen = selectManifest(doc.index.manifests, want, what);
      fetched = await fetchManifest(client, ref.path, chosen.digest, what, chosen);
      doc = parseManifestDocument(fetched.bytes, fetched.contentType, `${what} manifest ${chosen.digest}`);
      if (doc.kind !== 'manifest') throw new InvalidImageError(`${what}: ${chosen.digest} is an index inside an index`);
    }
    const manifest = doc.manifest;
    const configBytes = await fetchSmallBlob(client, ref.path, manifest.config, `${what} config`);
    const config = parseImageConfig(parseJson(configBytes, `${what} config`), `${what} config`);
    const have: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (options.platform && !platformMatches(want, have)) {
      throw new InvalidImageError(`${what}: the image is for ${formatPlatform(have)}, not ${formatPlatform(want)}`);
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidImageError(`${what}: the config lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`);
    }
    const previous = await store.resolve(reference).catch(() => undefined);

    const ids = manifest.layers.map((l) => l.digest.slice(7, 19));
    emit({ type: 'resolved', reference, digest: fetched.digest, layers: manifest.layers.map((l, i) => ({ id: ids[i] as string, size: l.size })) });
    const layers: ArchiveLayer[] = [];
    // Downloads in flight: when one layer fails, the others are cancelled (their unpackers
    // clean up), rather than finishing transfers for an image that will not be stored.
    const downloads = new Set<Readable>();
    const canceled = () => new RegistryError(`${what}: pull canceled`);
    onAbort = () => {
      for (const d of downloads) d.destroy(canceled());
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) throw canceled();
    for (const [i, l] of manifest.layers.entries()) {
      if (!LAYER_MEDIA_TYPES.has(l.mediaType)) throw new InvalidImageError(`${what}: layer ${i + 1} has unsupported media type ${l.mediaType}`);
      const id = ids[i] as string;
      const exists = await store.hasLayer(diffIds[i] as string);
      emit({ type: 'layer', id, status: exists ? 'exists' : 'waiting', total: l.size });
      layers.push({
        name: l.digest,
        digest: l.digest,
        open: async () => {
          if (options.signal?.aborted) throw canceled();
          emit({ type: 'layer', id, status: 'downloading', current: 0, total: l.size });
          const stream = Readable.from(
            blobChunks(
              client,
              ref.path,
              l,
              what,
              settings,
              (current) => emit({ type: 'layer', id, status: 'downloading', current, total: l.size }),
              (why) => emit({ type: 'layer', id, status: 'retrying', message: why }),
            ),
            { objectMode: false },
          );
          downloads.add(stream);
          stream.once('close', () => downloads.delete(stream));
          return stream;
        },
      });
    }
    const image: ArchiveImage = {
      references: [reference],
      configBytes,
      config,
      manifest: { digest: fetched.digest, bytes: fetched.bytes },
      repoDigest: `${repositoryName(ref)}@${servedDigest}`,
      layers,
      what,
    };
    const resolved = await store.importImage(image, {
      concurrency: settings.concurrency,
      onLayer: (i) => emit({ type: 'layer', id: ids[i] as string, status: 'done' }),
      onFailure: () => {
        for (const d of downloads) d.destroy(new RegistryError(`${what}: cancelled after another layer failed`));
      },
    });
    const upToDate = previous?.id === resolved.id;
    emit({ type: 'done', reference, digest: servedDigest, imageId: resolved.id, upToDate });
    return { image: resolved, digest: fetched.digest, reference, upToDate };
  } catch (err) {
    // Every failure names the image (`run` of a missing image shows only this line).
    if (err instanceof HullError && !err.message.includes(what)) err.message = `pull ${what}: ${err.message}`;
    throw err;
  } finally {
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}
