/** The plan's seccomp step for a spec's linux.seccomp (compiled at each start; well under a millisecond). */
import type { PlanStep } from '../../native/types.js';
import type { RuntimeSpec } from '../spec.js';
import { compileSeccomp, encodeFilter } from './bpf.js';

export function seccompStep(spec: RuntimeSpec): PlanStep | undefined {
  if (!spec.linux.seccomp) return undefined;
  return { op: 'seccomp', filter: encodeFilter(compileSeccomp(spec.linux.seccomp)).toString('hex') };
}
