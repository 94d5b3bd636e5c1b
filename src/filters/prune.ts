/**
 * The `--filter` of the prune verbs, with the keys Docker takes on each (daemon/prune.go,
 * daemon/images/image_prune.go, volume/service/service.go): `until` (containers, images,
 * networks), `label` and `label!` (all four), `dangling` (images: false is `-a`).
 */
import { UsageError } from '../errors.js';
import { type FilterArgs, type LabelFilter, booleanFilter, checkKeys, labelFilters, matchLabels, parseUntil, timeOf } from './args.js';

export type { LabelFilter } from './args.js';

export type PruneVerb = 'container' | 'image' | 'volume' | 'network';

const PRUNE_KEYS: Record<PruneVerb, readonly string[]> = {
  container: ['label', 'label!', 'until'],
  image: ['dangling', 'label', 'label!', 'until'],
  volume: ['label', 'label!'],
  network: ['label', 'label!', 'until'],
};

export interface PruneFilters {
  /** Only what was created before this, or at it (ms since the epoch). */
  untilMs?: number;
  /** `label=…`: every one must match. */
  labels: LabelFilter[];
  /** `label!=…`: excluded when every one matches (Docker's MatchKVList over the negated list). */
  notLabels: LabelFilter[];
  /** Images: `dangling=false` prunes every unused image, as `-a`. */
  dangling?: boolean;
}

export const NO_PRUNE_FILTERS: PruneFilters = { labels: [], notLabels: [] };

/** The verb's `--filter` values to PruneFilters; Docker's errors for a key the verb does not take or a bad value. */
export function parsePruneFilters(args: FilterArgs, verb: PruneVerb, now = Date.now()): PruneFilters {
  checkKeys(args, PRUNE_KEYS[verb]);
  const out: PruneFilters = { labels: labelFilters(args.get('label')), notLabels: labelFilters(args.get('label!')) };
  const until = args.get('until');
  if (until) {
    if (until.length > 1) throw new UsageError('more than one until filter specified');
    out.untilMs = parseUntil(until[0]!, now);
  }
  const dangling = booleanFilter(args, 'dangling', true);
  if (dangling !== undefined) out.dangling = dangling;
  return out;
}

/** Whether something created at `created` (ISO time or ms) with `labels` is to be pruned. */
export function prunable(filters: PruneFilters, created: string | number | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (filters.untilMs !== undefined && !(timeOf(created) <= filters.untilMs)) return false;
  if (!matchLabels(filters.labels, labels)) return false;
  if (filters.notLabels.length > 0 && matchLabels(filters.notLabels, labels)) return false;
  return true;
}
