/**
 * `hull system check`: verifies the whole store and, with `repair`, removes what is damaged.
 *
 *   blobs    every file in blobs/sha256 hashes to its name
 *   layers   complete (link, size, diff/), its short link in l/ points at it, and its files are
 *            what its kept blob says: the blob is read again (decompressed, diffID verified) and
 *            each entry compared with the unpacked tree — type, permission bits, owner (as
 *            root), size and content hash of files, symlink targets, overlay whiteouts — and no
 *            file is there that the layer does not have
 *   images   record readable, config blob present and intact, every layer present
 *   refs     point at an image that exists
 *
 * Repair removes damaged blobs and layers (a layer crash-safely, see LayerStore.remove), then the
 * image records that lost a part and the names pointing at them (load the image again to get it
 * back); a missing short link is made again. Leftovers of dead processes in tmp/ are removed in
 * either mode (they are never used). Garbage that is merely unreferenced is not damage: it is
 * left to `hull image prune`.
 */

import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { HullError, fromNodeError } from '../errors.js';
import { DigestStream } from '../image/digest.js';
import { cleanTmp, type StoreParts } from './gc.js';
import type { ImageRecord } from './image-records.js';
import type { RefStore } from './refs.js';

export type ProblemKind = 'blob' | 'layer' | 'image' | 'ref';

export interface CheckProblem {
  readonly kind: ProblemKind;
  /** The digest, diffID, image id or name concerned. */
  readonly subject: string;
  readonly message: string;
  /** What repair did about it, when it ran. */
  repaired?: string;
}

export interface CheckResult {
  readonly problems: CheckProblem[];
  readonly checked: { blobs: number; layers: number; images: number; refs: number };
  /** tmp/ leftovers of dead processes that were removed. */
  readonly cleaned: number;
}

const HEX_RE = /^[a-f0-9]{64}$/;

interface Expect {
  type: 'file' | 'directory' | 'symlink' | 'char' | 'block' | 'fifo' | 'whiteout';
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  linkpath?: string;
}

function typeOf(st: Stats): Expect['type'] | 'other' {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return st.rdev === 0 ? 'whiteout' : 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Compares an unpacked layer with its tar (streamed from `blob`); returns the differences found
 * (at most `limit`), empty when the tree is what the tar says.
 */
export async function verifyLayerTree(diffDir: string, blob: Readable, diffId: string, what: string, limit = 10): Promise<string[]> {
  const { decompress } = await import('../layer/compression.js');
  const { readTar } = await import('../layer/tar-reader.js');
  const { archivePathComponents, resolveEntry } = await import('../layer/root-path.js');
  const { classifyWhiteout } = await import('../layer/whiteout.js');
  const asRoot = process.getuid?.() === 0;

  const { output } = await decompress(blob, what);
  const tar = pipeline(output, new DigestStream({ expected: diffId, what: `${what} diffID` }), () => undefined);
  const expected = new Map<string, Expect>();
  const dropUnder = (p: string) => {
    for (const k of expected.keys()) if (k.startsWith(`${p}/`)) expected.delete(k);
  };
  for await (const entry of readTar(tar)) {
    const comps = archivePathComponents(entry.path, what);
    if (comps.length === 0) continue;
    const base = comps[comps.length - 1] as string;
    const parent = comps.slice(0, -1).join('/');
    const wh = classifyWhiteout(base, what);
    if (wh.kind === 'opaque' || wh.kind === 'meta') continue;
    if (wh.kind === 'whiteout') {
      const p = parent === '' ? wh.name : `${parent}/${wh.name}`;
      dropUnder(p);
      expected.set(p, { type: 'whiteout' });
      continue;
    }
    const p = comps.join('/');
    const owner = asRoot ? { uid: entry.uid, gid: entry.gid } : {};
    if (entry.type !== 'directory') dropUnder(p);
    switch (entry.type) {
      case 'file': {
        const hash = createHash('sha256');
        for await (const chunk of entry.body) hash.update(chunk);
        expected.set(p, { type: 'file', mode: entry.mode, size: entry.size, sha256: hash.digest('hex'), ...owner });
        break;
      }
      case 'hardlink': {
        const target = expected.get(archivePathComponents(entry.linkpath, what).join('/'));
        if (target) expected.set(p, { ...target });
        break;
      }
      case 'symlink':
        expected.set(p, { type: 'symlink', linkpath: entry.linkpath, ...owner });
        break;
      case 'directory':
        expected.set(p, { type: 'directory', mode: entry.mode, ...owner });
        break;
      default:
        expected.set(p, { type: entry.type, mode: entry.mode, ...owner });
    }
  }

  const problems: string[] = [];
  const add = (msg: string) => {
    if (problems.length < limit) problems.push(msg);
  };
  for (const [p, want] of expected) {
    if (problems.length >= limit) break;
    let file: string;
    let st: Stats;
    try {
      file = resolveEntry(diffDir, p.split('/'), what);
      st = lstatSync(file);
    } catch {
      add(`/${p}: missing`);
      continue;
    }
    const type = typeOf(st);
    if (type !== want.type) {
      add(`/${p}: is a ${type}, the layer has a ${want.type}`);
      continue;
    }
    if (want.mode !== undefined && (st.mode & 0o7777) !== want.mode)
      add(`/${p}: mode ${(st.mode & 0o7777).toString(8)}, the layer has ${want.mode.toString(8)}`);
    if (want.uid !== undefined && (st.uid !== want.uid || st.gid !== want.gid)) add(`/${p}: owner ${st.uid}:${st.gid}, the layer has ${want.uid}:${want.gid}`);
    if (want.linkpath !== undefined && readlinkSync(file) !== want.linkpath) add(`/${p}: symlink target differs`);
    if (want.size !== undefined && st.size !== want.size) add(`/${p}: ${st.size} bytes, the layer has ${want.size}`);
    else if (want.sha256 !== undefined && (await hashFile(file)) !== want.sha256) add(`/${p}: content differs`);
  }
  // Nothing may be there that the layer does not have (directories may be implicit parents).
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      if (problems.length >= limit) return;
      const p = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(path.join(dir, name));
      if (st.isDirectory()) walk(path.join(dir, name), p);
      else if (!expected.has(p)) add(`/${p}: not in the layer`);
    }
  };
  walk(diffDir, '');
  return problems;
}

export interface CheckParts extends StoreParts {
  readonly refs: RefStore;
}

export async function checkStore(parts: CheckParts, options: { repair: boolean }): Promise<CheckResult> {
  const { paths, blobs, layers, records, refs } = parts;
  const problems: CheckProblem[] = [];
  const repair = async (problem: CheckProblem, what: string, action: () => Promise<unknown>) => {
    problems.push(problem);
    if (!options.repair) return;
    await action();
    problem.repaired = what;
  };
  const cleaned = await cleanTmp(paths, options.repair);

  // Blobs.
  const badBlobs = new Set<string>();
  const blobNames = blobs.entries();
  for (const name of blobNames) {
    const subject = `sha256:${name}`;
    let why: string | undefined;
    if (!HEX_RE.test(name)) why = 'not a sha256 blob name';
    else {
      const actual = await blobs.hashEntry(name).catch((err: unknown) => `unreadable: ${(err as Error).message}`);
      if (actual !== subject) why = actual.startsWith('unreadable') ? actual : `content hashes to ${actual}`;
    }
    if (why === undefined) continue;
    badBlobs.add(subject);
    await repair({ kind: 'blob', subject, message: `blob ${subject}: ${why}` }, 'removed', () => blobs.removeEntry(name));
  }
  const blobOk = (digest: string) => !badBlobs.has(digest) && blobs.size(digest) !== undefined;

  // Layers.
  const goodLayers = new Set<string>();
  const layerNames = layers.entries();
  for (const name of layerNames) {
    const diffId = `sha256:${name}`;
    const fail = (message: string) => repair({ kind: 'layer', subject: diffId, message: `layer ${diffId}: ${message}` }, 'removed', () => layers.remove(name));
    if (!HEX_RE.test(name)) {
      await fail('not a layer name');
      continue;
    }
    const shortId = layers.shortIdOf(diffId);
    if (shortId === undefined) {
      await fail('incomplete (no valid link file)');
      continue;
    }
    const diffDir = path.join(paths.layers, name, 'diff');
    let isDir = false;
    try {
      isDir = lstatSync(diffDir).isDirectory();
    } catch {
      /* missing */
    }
    if (!isDir) {
      await fail('incomplete (no diff directory)');
      continue;
    }
    const link = path.join(paths.links, shortId);
    let target: string | undefined;
    try {
      target = readlinkSync(link);
    } catch {
      /* missing */
    }
    if (target !== `../layers/${name}/diff`) {
      await repair(
        { kind: 'layer', subject: diffId, message: `layer ${diffId}: its link l/${shortId} is ${target === undefined ? 'missing' : `wrong (→ ${target})`}` },
        'link made again',
        async () => {
          await unlink(link).catch(() => undefined);
          await layers.get(diffId);
        },
      );
    }
    const blob = layers.blobOf(diffId);
    if (blob !== undefined && !blobOk(blob)) {
      await repair(
        { kind: 'layer', subject: diffId, message: `layer ${diffId}: its kept blob ${blob} is missing or damaged (it cannot be saved)` },
        'blob forgotten (load the image again to save it)',
        () => layers.forgetBlob(diffId),
      );
    } else if (blob !== undefined) {
      let differences: string[];
      try {
        differences = await verifyLayerTree(diffDir, blobs.open(blob), diffId, `layer ${diffId}`);
      } catch (err) {
        differences = [err instanceof HullError ? err.message : fromNodeError(err, 'verify', diffDir).message];
      }
      if (differences.length > 0) {
        await fail(`files differ from the layer: ${differences.join('; ')}`);
        continue;
      }
    }
    goodLayers.add(diffId);
  }

  // Images.
  const goodImages = new Set<string>();
  const ids = await records.ids();
  for (const hex of ids) {
    const id = `sha256:${hex}`;
    const file = path.join(paths.images, `${hex}.json`);
    let record: ImageRecord | undefined;
    let why: string | undefined;
    try {
      record = await records.read(hex);
    } catch (err) {
      why = `record unreadable: ${(err as Error).message}`;
    }
    if (record) {
      if (!blobOk(record.configDigest)) why = `config blob ${record.configDigest} is missing or damaged`;
      else if (record.manifestDigest?.startsWith('sha256:') && !blobOk(record.manifestDigest))
        why = `manifest blob ${record.manifestDigest} is missing or damaged`;
      else {
        const missing = record.diffIds.filter((d) => !goodLayers.has(d));
        if (missing.length > 0) why = `layer ${missing[0]} is missing or damaged${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`;
      }
    }
    if (why === undefined) {
      goodImages.add(id);
      continue;
    }
    await repair({ kind: 'image', subject: id, message: `image ${id}: ${why}` }, 'removed (load it again)', async () => {
      await unlink(file).catch(() => undefined);
    });
  }

  // Names.
  const refList = await refs.list();
  const recorded = new Set(ids.map((h) => `sha256:${h}`));
  for (const ref of refList) {
    // A name of a damaged image is reported with the image (and removed with it on repair).
    if (goodImages.has(ref.id) || (!options.repair && recorded.has(ref.id))) continue;
    await repair({ kind: 'ref', subject: ref.name, message: `name ${ref.name}: its image ${ref.id} is missing or damaged` }, 'removed', () =>
      refs.delete(ref.name),
    );
  }

  return {
    problems,
    checked: { blobs: blobNames.length, layers: layerNames.length, images: ids.length, refs: refList.length },
    cleaned,
  };
}
