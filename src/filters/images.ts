/**
 * `images --filter` (Docker's daemon/images/images.go): dangling, label, before, since and
 * reference (Go path.Match globs on each name's familiar form, with and without its tag), and
 * the image lookups `ps --filter ancestor=` shares: an image by name or id, and the images built
 * on it.
 */
import { ImageNotFoundError, UsageError } from '../errors.js';
import { familiar, normalize } from '../image/reference.js';
import type { ImageSummary } from '../present/images.js';
import { type FilterArgs, type LabelFilter, NO_FILTERS, booleanFilter, checkKeys, labelFilters, matchLabels, pathMatch, timeOf } from './args.js';

export const IMAGES_FILTER_KEYS = ['before', 'dangling', 'label', 'reference', 'since'] as const;

/** What the lookups need of a stored image (StoredImage and ImageSummary both have it). */
export interface ImageFacts {
  id: string;
  /** Normalised names. */
  names?: readonly string[];
  references?: readonly string[];
  created?: string;
  /** Its layers, lowest first: an image whose layers start with another's is built on it. */
  diffIds?: readonly string[];
}

const namesOf = (i: ImageFacts): readonly string[] => i.names ?? i.references ?? [];
const bareId = (id: string): string => (id.startsWith('sha256:') ? id.slice(7) : id);

/** An image as Docker's GetImage finds it: by full id, by name (`busybox` is `busybox:latest`), by a unique id prefix of 4+ hex digits. */
export function findImage<T extends ImageFacts>(images: readonly T[], value: string): T | undefined {
  const hex = bareId(value);
  if (/^[0-9a-f]{64}$/.test(hex)) return images.find((i) => bareId(i.id) === hex);
  let name: string | undefined;
  try {
    name = normalize(value);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
  }
  const named = name !== undefined ? images.find((i) => namesOf(i).includes(name)) : undefined;
  if (named) return named;
  if (!/^[0-9a-f]{4,63}$/.test(hex)) return undefined;
  const hits = images.filter((i) => bareId(i.id).startsWith(hex));
  return hits.length === 1 ? hits[0] : undefined;
}

/**
 * The image and those built on it. Docker follows the images' parent links (which only its
 * classic builder writes); hull's images carry none, so a child is an image whose layers start
 * with all of this one's.
 */
export function descendantsOf<T extends ImageFacts>(image: T, images: readonly T[]): T[] {
  const base = image.diffIds ?? [];
  const out = [image];
  if (base.length === 0) return out;
  for (const i of images) {
    const layers = i.diffIds ?? [];
    if (i.id !== image.id && layers.length >= base.length && base.every((d, n) => layers[n] === d)) out.push(i);
  }
  return out;
}

/** images's filters, checked. */
export interface ImageFilters {
  /** true: only images without a tag; false: only those with a name. */
  dangling?: boolean;
  labels: LabelFilter[];
  before?: string;
  since?: string;
  /** Go path.Match patterns (the positional `images REPOSITORY[:TAG]` is one, as in Docker's CLI). */
  references: string[];
}

/** `images`'s `--filter` values to checked ImageFilters; Docker's errors for an unknown key or a bad dangling value. */
export function parseImageFilters(args: FilterArgs = NO_FILTERS): ImageFilters {
  checkKeys(args, IMAGES_FILTER_KEYS);
  const dangling = booleanFilter(args, 'dangling');
  const before = args.get('before')?.at(-1);
  const since = args.get('since')?.at(-1);
  return {
    ...(dangling !== undefined ? { dangling } : {}),
    labels: labelFilters(args.get('label')),
    ...(before !== undefined ? { before } : {}),
    ...(since !== undefined ? { since } : {}),
    references: [...(args.get('reference') ?? [])],
  };
}

/** Docker's reference.FamiliarMatch: the pattern against `name:tag` (or `name@digest`), then against the name alone. */
export function referenceMatches(pattern: string, reference: string): boolean {
  const full = familiar(reference);
  if (pathMatch(pattern, full)) return true;
  const at = full.indexOf('@');
  let name = at >= 0 ? full.slice(0, at) : full;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  return pathMatch(pattern, name);
}

/** An image as the list filters see it: its summary, and its labels when a label filter needs them. */
export type FilterableImage = ImageSummary & { labels?: Readonly<Record<string, string>> };

/**
 * The images `images` lists, each with only the names the filters keep (an image with names of
 * which none match a `reference` is left out; one without names is dangling).
 */
export function selectImages<T extends FilterableImage>(images: readonly T[], f: ImageFilters): T[] {
  const anchor = (value: string): number => {
    const image = findImage(images, value);
    if (!image) throw new ImageNotFoundError(value, `No such image: ${value}`);
    return timeOf(image.created);
  };
  const before = f.before !== undefined ? anchor(f.before) : undefined;
  const since = f.since !== undefined ? anchor(f.since) : undefined;
  const out: T[] = [];
  for (const image of images) {
    const created = timeOf(image.created);
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (f.labels.length > 0 && !matchLabels(f.labels, image.labels)) continue;
    const references = f.references.length > 0 ? image.references.filter((r) => f.references.some((p) => referenceMatches(p, r))) : image.references;
    if (references.length === 0) {
      if (image.references.length > 0 || f.references.length > 0 || f.dangling === false) continue;
    } else if (f.dangling === true && references.some((r) => !r.includes('@'))) continue;
    if (references === image.references) out.push(image);
    else out.push({ ...image, references, repoDigests: image.repoDigests.filter((d) => f.references.some((p) => referenceMatches(p, d))) }); // as Docker's: names and digests alike
  }
  return out;
}
