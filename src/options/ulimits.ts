/**
 * `--ulimit name=soft[:hard]` (Docker's go-units ParseUlimit) → a typed Ulimit: Docker's names,
 * -1 for unlimited, the hard limit the soft one when not given.
 */
import { UsageError } from '../errors.js';
import { ULIMIT_TYPES, type Ulimit } from '../runtime/ulimits.js';

export type { Ulimit };

function limitValue(text: string, val: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid argument "${val}" for "--ulimit" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

export function parseUlimit(val: string): Ulimit {
  const parts = val.split('=');
  if (parts.length !== 2) throw new UsageError(`invalid argument "${val}" for "--ulimit" flag: invalid ulimit argument: ${val}`);
  const [name, limits] = parts as [string, string];
  if (!(name in ULIMIT_TYPES)) throw new UsageError(`invalid argument "${val}" for "--ulimit" flag: invalid ulimit type: ${name}`);
  const values = limits.split(':');
  if (values.length > 2)
    throw new UsageError(`invalid argument "${val}" for "--ulimit" flag: too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  const soft = limitValue(values[0]!, val);
  const hard = values.length === 2 ? limitValue(values[1]!, val) : soft;
  // go-units: -1 is unlimited on either side; otherwise soft may not exceed hard.
  if (soft > hard && hard !== -1)
    throw new UsageError(`invalid argument "${val}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}
