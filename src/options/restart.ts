/** `--restart no | on-failure[:N] | always | unless-stopped` → a RestartPolicy (Docker's HostConfig.RestartPolicy). */
import { UsageError } from '../errors.js';
import { RESTART_POLICIES, type RestartPolicy, type RestartPolicyName } from '../runtime/plan-codec.js';

export function parseRestartPolicy(text: string | undefined): RestartPolicy {
  if (text === undefined || text === '' || text === 'no') return { name: 'no', maximumRetryCount: 0 };
  const [name, count, ...rest] = text.split(':');
  if (rest.length > 0 || !(RESTART_POLICIES as readonly string[]).includes(name ?? '')) {
    throw new UsageError(`invalid restart policy '${text}': use no, on-failure[:max-retries], always or unless-stopped`);
  }
  if (count !== undefined) {
    if (name !== 'on-failure') throw new UsageError(`invalid restart policy '${text}': only on-failure takes a maximum retry count`);
    if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy '${text}': the maximum retry count must be a number >= 0`);
  }
  return { name: name as RestartPolicyName, maximumRetryCount: count === undefined ? 0 : Number(count) };
}
