/**
 * `push`: the image's kept blobs (config and layers exactly as pulled or loaded) and its
 * manifest (verbatim when it describes those blobs, else an OCI manifest made from them, the
 * same one `save --format oci` writes), so a pushed image keeps its digests. Per blob: HEAD
 * (already there?), else a cross-repository mount from another repository of the same
 * registry this image is named in, else an upload: monolithic (POST, then PUT with the bytes)
 * or, above the chunk size, chunked (PATCH with Content-Range per chunk, then PUT). Then the
 * manifest is PUT under the tag (or by digest).
 */

import { type Readable, Transform } from 'node:stream';
import { InvalidImageError, RegistryAuthError, RegistryError, UsageError } from '../errors.js';
import { manifestMediaType, ociManifestOf } from '../image/archive/save.js';
import { familiar, formatReference, manifestReference, parseReference, repositoryName, withDefaultTag } from '../image/reference.js';
import type { ImageStore } from '../store/image-store.js';
import { RegistryClient, errorText, headerOf, isRetryable, networkReason, sleep } from './client.js';
import { type Credentials, getCredentials } from './credentials.js';
import { drain, type HttpResponse } from './http.js';
import { endpointFor, type RegistrySettings } from './settings.js';

export type PushStatus = 'waiting' | 'exists' | 'mounted' | 'pushing' | 'pushed';

export type PushEvent =
  | { type: 'start'; repository: string }
  | { type: 'layer'; id: string; status: PushStatus; from?: string; current?: number; total?: number }
  | { type: 'done'; tag: string; digest: string; size: number };

export interface PushOptions {
  onProgress?: (event: PushEvent) => void;
  /** Credentials to use instead of the stored ones (the Engine API's X-Registry-Auth). */
  credentials?: Credentials;
}

export interface PushResult {
  reference: string;
  digest: string;
  size: number;
}

interface PushBlob {
  digest: string;
  size: number;
  open: (range?: { start: number; end: number }) => Buffer | Readable;
}

async function failure(res: HttpResponse, what: string): Promise<RegistryError> {
  const text = await errorText(res);
  const msg = `${what}: the registry answered ${res.status}${text ? `: ${text}` : ''}`;
  return res.status === 401 || res.status === 403 ? new RegistryAuthError(msg, { status: res.status }) : new RegistryError(msg, { status: res.status });
}

async function blobExists(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const res = await client.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` });
  await drain(res);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await failure(res, `HEAD blob ${digest}`);
}

function withDigest(location: string, digest: string, client: RegistryClient): string {
  const url = client.url(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** The stream, reporting how many bytes have gone through (progress of an upload). */
function counted(body: Buffer | Readable, onBytes: (n: number) => void): Buffer | Readable {
  if (Buffer.isBuffer(body)) return body;
  let n = 0;
  return body.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        n += chunk.length;
        onBytes(n);
        cb(null, chunk);
      },
    }),
  );
}

/** Uploads one blob; what happened to it. */
async function pushBlob(
  client: RegistryClient,
  repo: string,
  blob: PushBlob,
  mountFrom: readonly string[],
  settings: RegistrySettings,
  onBytes: (n: number) => void,
): Promise<{ status: 'exists' | 'mounted' | 'pushed'; from?: string }> {
  if (await blobExists(client, repo, blob.digest)) return { status: 'exists' };
  let location: string | undefined;
  for (const from of mountFrom) {
    const res = await client.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
      headers: { 'Content-Length': '0' },
    });
    await drain(res);
    if (res.status === 201) return { status: 'mounted', from };
    if (res.status === 202) {
      location = headerOf(res, 'location');
      break;
    }
  }
  if (location === undefined) {
    const res = await client.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, headers: { 'Content-Length': '0' } });
    if (res.status !== 202) throw await failure(res, `start upload of ${blob.digest}`);
    await drain(res);
    location = headerOf(res, 'location');
  }
  if (!location) throw new RegistryError(`start upload of ${blob.digest}: the registry sent no Location`);

  if (blob.size <= settings.chunkSize || settings.chunkSize <= 0) {
    const res = await client.request({
      method: 'PUT',
      path: withDigest(location, blob.digest, client),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
      body: () => counted(blob.open(), onBytes),
      retries: 0,
    });
    if (res.status !== 201) throw await failure(res, `upload of ${blob.digest}`);
    await drain(res);
    onBytes(blob.size);
    return { status: 'pushed' };
  }
  for (let start = 0; start < blob.size; start += settings.chunkSize) {
    const end = Math.min(start + settings.chunkSize, blob.size) - 1;
    const res = await client.request({
      method: 'PATCH',
      path: client.url(location).toString(),
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(end - start + 1),
        'Content-Range': `${start}-${end}`,
      },
      body: () => blob.open({ start, end }),
      retries: 0,
    });
    if (res.status !== 202) throw await failure(res, `upload of ${blob.digest} (bytes ${start}-${end})`);
    await drain(res);
    location = headerOf(res, 'location') ?? location;
    onBytes(end + 1);
  }
  const res = await client.request({ method: 'PUT', path: withDigest(location, blob.digest, client), headers: { 'Content-Length': '0' }, retries: 0 });
  if (res.status !== 201) throw await failure(res, `finish upload of ${blob.digest}`);
  await drain(res);
  return { status: 'pushed' };
}

export async function pushImage(store: ImageStore, settings: RegistrySettings, input: string, options: PushOptions = {}): Promise<PushResult> {
  const ref = withDefaultTag(parseReference(input));
  const emit = options.onProgress ?? (() => undefined);
  const image = await store.exportImage(input).catch(async (err: unknown) => {
    if (ref.tag === 'latest' && parseReference(input).tag === undefined) {
      throw new UsageError(`An image does not exist locally with the tag: ${familiar(repositoryName(ref))}`);
    }
    throw err;
  });
  const manifest = ociManifestOf(image);
  const mediaType = manifestMediaType(manifest.bytes);
  // Other repositories of this registry the image is named in: its blobs may be mounted from there.
  const mountFrom = [
    ...new Set(
      image.references
        .map((n) => parseReference(n))
        .filter((r) => r.domain === ref.domain && r.path !== ref.path)
        .map((r) => r.path),
    ),
  ];

  const endpoint = endpointFor(ref.domain, settings, `push ${familiar(formatReference(ref))}`);
  const given = options.credentials;
  const client = new RegistryClient(endpoint, settings, () => (given ? Promise.resolve(given) : getCredentials(settings.dockerConfigDir, ref.domain)));
  client.addScope(ref.path, 'pull,push');
  for (const from of mountFrom) client.addScope(from, 'pull');
  emit({ type: 'start', repository: familiar(repositoryName(ref)).replace(/:latest$/, '') });
  try {
    const blobs: (PushBlob & { id: string })[] = image.layers.map((l) => ({
      id: l.blobDigest.slice(7, 19),
      digest: l.blobDigest,
      size: l.blobSize,
      open: (range) => store.openBlob(l.blobDigest, range),
    }));
    for (const b of blobs) emit({ type: 'layer', id: b.id, status: 'waiting', total: b.size });
    // Layers 3 at a time (each blob once, even if the image has it twice), then the config.
    const unique = blobs.filter((b, i) => blobs.findIndex((o) => o.digest === b.digest) === i);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < unique.length) {
        const b = unique[next++] as PushBlob & { id: string };
        try {
          // A blob whose upload breaks (connection reset, registry restarted) starts over.
          let r: Awaited<ReturnType<typeof pushBlob>>;
          for (let attempt = 0; ; attempt++) {
            try {
              r = await pushBlob(client, ref.path, b, mountFrom, settings, (current) =>
                emit({ type: 'layer', id: b.id, status: 'pushing', current, total: b.size }),
              );
              break;
            } catch (err) {
              const retryable = isRetryable(err) || (err instanceof RegistryError && err.cause !== undefined && isRetryable(err.cause));
              if (!retryable || attempt >= settings.retries) {
                throw err instanceof RegistryError ? err : new RegistryError(`upload of layer ${b.id}: ${networkReason(err)}`, { cause: err });
              }
              await sleep(Math.min(settings.backoffMs * 2 ** attempt, 8000));
            }
          }
          emit({ type: 'layer', id: b.id, status: r.status, ...(r.from ? { from: r.from } : {}) });
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(settings.concurrency, unique.length)) }, worker));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    await pushBlob(
      client,
      ref.path,
      {
        digest: image.id,
        size: image.configBytes.length,
        open: () => image.configBytes,
      },
      mountFrom,
      settings,
      () => undefined,
    );

    const target = manifestReference(ref);
    if (ref.digest !== undefined && ref.digest !== manifest.digest) {
      throw new InvalidImageError(`${input}: the image's manifest is ${manifest.digest}, not ${ref.digest}`);
    }
    const res = await client.request({
      method: 'PUT',
      path: `/v2/${ref.path}/manifests/${target}`,
      headers: { 'Content-Type': mediaType, 'Content-Length': String(manifest.bytes.length) },
      body: () => manifest.bytes,
    });
    if (res.status !== 201) throw await failure(res, `upload of the manifest for ${familiar(formatReference(ref))}`);
    await drain(res);
    const stated = headerOf(res, 'docker-content-digest');
    if (stated !== undefined && stated !== manifest.digest) {
      throw new RegistryError(`manifest upload: the registry stored ${stated}, hull sent ${manifest.digest}`);
    }
    emit({ type: 'done', tag: target, digest: manifest.digest, size: manifest.bytes.length });
    return { reference: formatReference(ref), digest: manifest.digest, size: manifest.bytes.length };
  } finally {
    client.close();
  }
}
