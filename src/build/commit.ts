/**
 * `commit` and `import`: an image from a container's writable layer, or from a tar, with Docker's
 * `--change` lines (Dockerfile instructions applied to the config by ./metadata.ts, as `build`
 * applies them) and the image config and history Docker's daemon writes (moby daemon/commit.go,
 * daemon/images/image_import.go).
 */
import type { Readable } from 'node:stream';
import { DockerfileError, InvalidImageError, UsageError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import { decompress } from '../layer/compression.js';
import type { ImageStore, ResolvedImage } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { parseDockerfile } from './dockerfile.js';
import { commitLayer, storeTarLayer } from './layer-commit.js';
import { applyMetadata, type MetadataContext } from './metadata.js';
import { ExpandError, expandWord, expandWords } from './shell-words.js';
import { goArch, type Json } from './state.js';

/**
 * The instructions `--change` accepts: moby's validCommitCommands (the reference lists CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR; the daemon also takes
 * HEALTHCHECK and STOPSIGNAL).
 */
const CHANGE_COMMANDS = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

function envMap(config: Json): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of (config.Env as string[] | null | undefined) ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/**
 * Applies `changes` (one Dockerfile instruction each) to `config` (an image's `config` object),
 * in place, as moby's BuildFromConfig: variables expand with the config's Env as it is at each
 * line; an ENTRYPOINT clears Cmd unless a CMD came before it. Errors are Docker's messages.
 */
export function applyChanges(config: Json, changes: readonly string[]): void {
  if (changes.length === 0) return;
  for (const line of changes) {
    // moby's parser takes any word; the commit check then refuses it by name, lower case.
    const word = /^\s*(\S+)/.exec(line)?.[1];
    if (word !== undefined && !CHANGE_COMMANDS.has(word.toUpperCase())) throw new UsageError(`${word.toLowerCase()} is not a valid change command`);
  }
  let file;
  try {
    file = parseDockerfile(changes.join('\n'), 'change');
  } catch (err) {
    if (err instanceof DockerfileError) throw new UsageError(`dockerfile parse error: ${err.message}`);
    throw err;
  }
  const image: Json = { config };
  let cmdSet = false;
  for (const instr of file.instructions) {
    if (!CHANGE_COMMANDS.has(instr.keyword)) throw new UsageError(`${instr.keyword.toLowerCase()} is not a valid change command`);
    const fail = (message: string): never => {
      throw new UsageError(`${instr.keyword.toLowerCase()}: ${message}`);
    };
    const env = envMap(image.config as Json);
    const ctx: MetadataContext = {
      escape: file.escape,
      cmdSet,
      fail: (_i: unknown, message: string): never => fail(message),
      expand: (t: string) => {
        try {
          return expandWord(t, env, file.escape);
        } catch (err) {
          if (err instanceof ExpandError) fail(err.message);
          throw err;
        }
      },
      expandList: (t: string) => {
        try {
          return expandWords(t, env, file.escape);
        } catch (err) {
          if (err instanceof ExpandError) fail(err.message);
          throw err;
        }
      },
    };
    applyMetadata(instr, image, ctx);
    cmdSet = ctx.cmdSet;
  }
  Object.assign(config, image.config as Json);
}

/** The container facts commit reads (its record and Docker's inspect `Config`). */
export interface CommitSource {
  id: string;
  imageId: string;
  upper: string;
  /** Docker's container Config (inspect's): Cmd, Entrypoint, Env, WorkingDir, User, Labels, … */
  config: Json;
}

export interface CommitOptions {
  /** `-c/--change`. */
  changes?: readonly string[];
  /** `-m/--message`. */
  message?: string;
  /** `-a/--author`. */
  author?: string;
  /** REPOSITORY[:TAG] to name the image. */
  reference?: string;
}

/** Refuses a bad name or a bad --change before anything is read or paused. */
export function checkCommitOptions(opts: CommitOptions): void {
  if (opts.reference !== undefined) {
    const ref = parseReference(opts.reference);
    if (ref.digest !== undefined) throw new UsageError(`refusing to create a tag with a digest reference: ${opts.reference}`);
  }
  applyChanges({}, opts.changes ?? []);
}

/**
 * The committed image's `config`: the base image's, with what the container runs by (Docker's
 * container Config is the image's with the run flags applied), then the --change lines.
 */
export function commitConfig(imageConfig: Json, container: Json, changes: readonly string[]): Json {
  const c: Json = structuredClone(imageConfig);
  const imageEnv = (imageConfig.Env as string[] | null | undefined) ?? [];
  const has = (key: string) => imageEnv.some((e) => e.startsWith(`${key}=`));
  // HOSTNAME, and TERM and HOME where hull added them at create, are not the container's Config
  // (Docker adds them to the process only). A `-e HOME=…` equal to the default is lost: hull's
  // record does not keep the -e flags apart.
  c.Env = ((container.Env as string[] | undefined) ?? []).filter(
    (e) => !e.startsWith('HOSTNAME=') && !(e === 'TERM=xterm' && !has('TERM')) && !(e.startsWith('HOME=') && !has('HOME')),
  );
  c.Cmd = container.Cmd ?? null;
  c.Entrypoint = container.Entrypoint ?? null;
  c.WorkingDir = container.WorkingDir ?? '';
  // The record keeps the user as uid:gid: the image's User stands when the container runs as it
  // would (no -u), else the numeric user it ran as.
  const user = (container.User as string | undefined) ?? '';
  if (!(typeof imageConfig.User === 'string' && imageConfig.User !== '')) c.User = user;
  const labels = { ...((imageConfig.Labels as Record<string, string> | null | undefined) ?? {}), ...((container.Labels as Record<string, string> | null | undefined) ?? {}) };
  c.Labels = Object.keys(labels).length > 0 ? labels : null;
  // The container's health check (the image's with its --health-* flags over it) is the image's now.
  if (container.Healthcheck !== undefined) c.Healthcheck = container.Healthcheck;
  applyChanges(c, changes);
  return c;
}

/**
 * Stores the container's writable layer over its image as a new image (the store lock held by
 * the caller as a build holds it); an unchanged container adds no layer, only a history entry
 * with empty_layer, as Docker's.
 */
export async function commitContainer(
  paths: StorePaths,
  images: ImageStore,
  source: CommitSource,
  opts: CommitOptions = {},
): Promise<ResolvedImage> {
  const base = await images.rawImage(source.imageId);
  const raw = base.config;
  const layer = await commitLayer(images, paths.tmp, source.upper);
  const created = new Date().toISOString();
  const containerConfig = source.config;
  const config = commitConfig((raw.config as Json | undefined) ?? {}, containerConfig, opts.changes ?? []);
  const rootfs = (raw.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? [];
  const history = [...((raw.history as Json[] | undefined) ?? [])];
  history.push({
    created,
    ...(opts.author ? { author: opts.author } : {}),
    created_by: ((containerConfig.Cmd as string[] | null | undefined) ?? []).join(' '),
    ...(opts.message ? { comment: opts.message } : {}),
    ...(layer === undefined ? { empty_layer: true } : {}),
  });
  const image: Json = {
    architecture: raw.architecture ?? goArch(),
    ...(opts.author ? { author: opts.author } : {}),
    ...(opts.message ? { comment: opts.message } : {}),
    config,
    container: source.id,
    container_config: containerConfig,
    created,
    history,
    os: raw.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: layer === undefined ? rootfs : [...rootfs, layer] },
    ...(raw.variant !== undefined ? { variant: raw.variant } : {}),
  };
  return images.commitImage(Buffer.from(JSON.stringify(image)), opts.reference !== undefined ? [opts.reference] : []);
}

export interface ImportOptions {
  changes?: readonly string[];
  message?: string;
  reference?: string;
  /** The source as Docker's daemon names it in the default message: `-` (the CLI sends files as a stream too). */
  sourceName?: string;
}

/**
 * `import`: a tar (plain, gzip or zstd; a docker export or any root file system) as a one-layer
 * image (the store lock held by the caller). Anything but a tar is refused as Docker's is.
 */
export async function importTar(paths: StorePaths, images: ImageStore, tar: Readable, opts: ImportOptions = {}): Promise<ResolvedImage> {
  const config: Json = {};
  applyChanges(config, opts.changes ?? []);
  const { output } = await decompress(tar, 'import');
  let layer: string;
  try {
    layer = await storeTarLayer(images, paths.tmp, output, 'imported layer');
  } catch (err) {
    // Docker's words (Go's archive/tar) for what is not a tar at all, or one cut short.
    if (err instanceof InvalidImageError && /^(not a tar archive$|tar: header checksum mismatch)/.test(err.message)) {
      throw new InvalidImageError('archive/tar: invalid tar header', { cause: err });
    }
    if (err instanceof InvalidImageError && err.message.startsWith('unexpected end of tar archive')) throw new InvalidImageError('unexpected EOF', { cause: err });
    throw err;
  }
  const created = new Date().toISOString();
  const message = opts.message || `Imported from ${opts.sourceName ?? '-'}`;
  const image: Json = {
    architecture: goArch(),
    comment: message,
    config,
    created,
    history: [{ created, comment: message }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layer] },
  };
  return images.commitImage(Buffer.from(JSON.stringify(image)), opts.reference !== undefined ? [opts.reference] : []);
}
