/**
 * References: `refs/<encodeURIComponent(normalised name)>`, each holding the id of the image it
 * names. One file per name, replaced atomically (temp + rename), so concurrent hull invocations
 * can tag and resolve without a global lock.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, fromNodeError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import type { StorePaths } from './paths.js';

const ID_RE = /^sha256:[a-f0-9]{64}$/;
const NAME_MAX = 255;

export interface RefEntry {
  /** Normalised reference, `docker.io/library/busybox:latest`. */
  readonly name: string;
  /** Image id, `sha256:<hex>`. */
  readonly id: string;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class RefStore {
  private readonly paths: StorePaths;

  constructor(paths: StorePaths) {
    this.paths = paths;
  }

  /** The file for a normalised name. */
  private file(name: string): string {
    const encoded = encodeURIComponent(name);
    if (Buffer.byteLength(encoded) > NAME_MAX) {
      throw new UsageError(`reference ${name} is too long to store (${Buffer.byteLength(encoded)} bytes encoded, at most ${NAME_MAX})`);
    }
    return path.join(this.paths.refs, encoded);
  }

  /** The image id a normalised name points at, or undefined. */
  async get(name: string): Promise<string | undefined> {
    const file = this.file(name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw fromNodeError(err, 'read', file);
    }
    const id = text.trim();
    return ID_RE.test(id) ? id : undefined;
  }

  /** Points a normalised name at an image id (replacing what it pointed at). */
  async set(name: string, id: string): Promise<void> {
    await writeFileAtomic(this.paths.tmp, this.file(name), `${id}\n`);
  }

  /** Removes a name; returns whether it existed. */
  async delete(name: string): Promise<boolean> {
    const file = this.file(name);
    try {
      await unlink(file);
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw fromNodeError(err, 'unlink', file);
    }
  }

  async list(): Promise<RefEntry[]> {
    let files: string[];
    try {
      files = readdirSync(this.paths.refs);
    } catch (err) {
      if (isMissing(err)) return [];
      throw fromNodeError(err, 'readdir', this.paths.refs);
    }
    const entries: RefEntry[] = [];
    for (const f of files) {
      let name: string;
      try {
        name = decodeURIComponent(f);
      } catch {
        continue; // not a name this store wrote
      }
      if (encodeURIComponent(name) !== f) continue;
      const id = await this.get(name);
      if (id !== undefined) entries.push({ name, id });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
