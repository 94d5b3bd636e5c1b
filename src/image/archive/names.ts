/** References found inside archives (RepoTags, annotations): normalised, or InvalidImageError. */

import { InvalidImageError, UsageError } from '../../errors.js';
import { normalize } from '../reference.js';

export function normalizeArchiveReference(name: string, where: string): string {
  try {
    return normalize(name);
  } catch (err) {
    if (err instanceof UsageError) throw new InvalidImageError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
