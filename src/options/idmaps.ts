/** `--uidmap/--gidmap CONTAINER:HOST:SIZE` → an IdMapping; `--userns-remap USER[:GROUP]` → a UsernsRemap. */
import { UsageError } from '../errors.js';
import type { IdMapping, UsernsRemap } from '../runtime/userns.js';

export function parseIdMap(text: string): IdMapping {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid id mapping '${text}': use CONTAINER_ID:HOST_ID:SIZE`);
  const [containerID, hostID, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (size < 1 || containerID + size > 2 ** 32 || hostID + size > 2 ** 32) throw new UsageError(`invalid id mapping '${text}'`);
  return { containerID, hostID, size };
}

/** '' and 'host' keep the host's user namespace (undefined), as Docker's daemon option. */
export function parseUsernsRemap(text: string | undefined): UsernsRemap | undefined {
  if (text === undefined || text === '' || text === 'host') return undefined;
  const [user = '', group, ...rest] = text.split(':');
  if (user === '' || group === '' || rest.length > 0) throw new UsageError(`invalid --userns-remap '${text}': use USER[:GROUP]`);
  return group === undefined ? { user } : { user, group };
}
