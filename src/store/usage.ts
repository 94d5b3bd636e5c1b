/**
 * What uses what: the containers' records (`containers/<id>/container.json`, written by the
 * runtime) say which image each container was made from (`imageId`) and which layer links its
 * root file system stacks (`rootfs.lower`). The store reads them itself, read-only, so that
 * garbage collection and `rmi` see every container — running, exited or just created — while
 * they hold the exclusive store lock (container creation holds the shared one until its record
 * is written).
 */

import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { StorePaths } from './paths.js';
import { listDir } from '../files.js';

export interface ContainerUse {
  readonly id: string;
  readonly name: string;
  readonly imageId: string;
  /** Absolute paths of the layer links (`<root>/l/<ID>`, `<root>/l/init`) the container stacks. */
  readonly lower: readonly string[];
  /** Whether its run state says it runs (for messages only). */
  readonly running: boolean;
}

const LAYER_TARGET_RE = /^\.\.\/layers\/([a-f0-9]{64})\/diff$/;

/** Every container record in the store; a directory without a readable record is skipped. */
export function containerUses(paths: StorePaths): ContainerUse[] {
  const uses: ContainerUse[] = [];
  for (const id of listDir(paths.containers)) {
    let text: string;
    try {
      text = readFileSync(path.join(paths.containers, id, 'container.json'), 'utf8');
    } catch {
      continue; // a half-made or half-removed container directory: nothing of it is used
    }
    let record: { id?: unknown; name?: unknown; imageId?: unknown; rootfs?: { lower?: unknown } };
    try {
      record = JSON.parse(text) as typeof record;
    } catch {
      continue;
    }
    const lower = Array.isArray(record.rootfs?.lower) ? record.rootfs.lower.filter((l): l is string => typeof l === 'string') : [];
    uses.push({
      id: typeof record.id === 'string' ? record.id : id,
      name: typeof record.name === 'string' ? record.name : id,
      imageId: typeof record.imageId === 'string' ? record.imageId : '',
      lower,
      running: existsSync(path.join(paths.runContainers, id, 'state.json')),
    });
  }
  return uses;
}

/** The diffID hex a layer link points at (`l/<ID>` → `../layers/<hex>/diff`), if it is one. */
export function layerHexOfLink(link: string): string | undefined {
  try {
    return LAYER_TARGET_RE.exec(readlinkSync(link))?.[1];
  } catch {
    return undefined;
  }
}
