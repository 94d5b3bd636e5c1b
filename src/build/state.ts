/**
 * A build's state between steps: the image config being made (architecture, os, config, rootfs,
 * history, …) and its chain cache key (./cache.ts). What FROM starts from, what a step adds (a
 * layer, a history entry as BuildKit writes it), and the config the final image is written with.
 */

import { createHash } from 'node:crypto';

export type Json = Record<string, unknown>;

export interface State {
  /** The chain cache key of this state. */
  key: string;
  /** The image config (architecture, os, config, rootfs, history, …). */
  image: Json;
}

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const COMMENT = 'buildkit.dockerfile.v0';

export function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The key of a state taken from a stored image. */
export function imageKey(id: string): string {
  return sha(`image ${id}`);
}

/** The state's `config` (made if missing). */
export function configOf(state: State): Json {
  let c = state.image.config as Json | undefined;
  if (c === undefined || c === null) {
    c = {};
    state.image.config = c;
  }
  return c;
}

export function diffIdsOf(state: State): string[] {
  return ((state.image.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids) ?? [];
}

/** The state's Env as a map (a bare name has the empty value). */
export function envMapOf(state: State): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of (configOf(state).Env as string[] | undefined) ?? []) {
    const eq = e.indexOf('=');
    if (eq < 0) m.set(e, '');
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** FROM scratch: no layers, the default PATH. */
export function scratchState(): State {
  return {
    key: sha('scratch'),
    image: { architecture: goArch(), os: 'linux', config: { Env: [DEFAULT_PATH_ENV] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
  };
}

/** FROM a stored image: the fields of its config a build carries on (the default PATH when it has no Env). */
export function imageState(raw: { id: string; config: Json }): State {
  const { architecture, os, variant, config, rootfs, history, author } = raw.config;
  const state: State = {
    key: imageKey(raw.id),
    image: {
      architecture, os, ...(variant !== undefined ? { variant } : {}), ...(author !== undefined ? { author } : {}),
      config: config ?? {}, rootfs, history: history ?? [],
    },
  };
  if (!((configOf(state).Env as unknown[] | undefined)?.length)) configOf(state).Env = [DEFAULT_PATH_ENV];
  return state;
}

/** `image` (a copy of `state`'s) with `layer` on top of the state's layers, when the step made one. */
export function addLayer(image: Json, state: State, layer: string | undefined): void {
  if (layer !== undefined) (image.rootfs as { diff_ids: string[] }).diff_ids = [...diffIdsOf(state), layer];
}

/** A history entry as BuildKit writes it (and the image's `created`, now). */
export function addHistory(image: Json, createdBy: string, empty: boolean): void {
  const created = new Date().toISOString();
  const history = [...((image.history as Json[] | undefined) ?? [])];
  history.push({ created, created_by: createdBy, comment: COMMENT, ...(empty ? { empty_layer: true } : {}) });
  image.history = history;
  image.created = created;
}

/** The final image's config bytes: the state's, `--label`s added, in the field order BuildKit writes. */
export function finalConfig(state: State, labels: Readonly<Record<string, string>> | undefined): Buffer {
  const image = structuredClone(state.image);
  const c = configOf({ key: '', image });
  if (labels && Object.keys(labels).length > 0) c.Labels = { ...(c.Labels ?? {}), ...labels };
  const history = (image.history as Json[] | undefined) ?? [];
  const created = (history[history.length - 1]?.created as string | undefined) ?? (image.created as string | undefined) ?? new Date().toISOString();
  const ordered: Json = {
    architecture: image.architecture ?? goArch(),
    ...(image.author !== undefined ? { author: image.author } : {}),
    config: c,
    created,
    history,
    os: image.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: diffIdsOf({ key: '', image }) },
    ...(image.variant !== undefined ? { variant: image.variant } : {}),
  };
  return Buffer.from(JSON.stringify(ordered));
}
