/**
 * A container's linux.resources as the library takes them (typed: src/options/resources.ts makes
 * them from Docker's flags): Docker's checks across the memory values and its default swap, and
 * `update`'s merge of new values over old.
 */
import { UsageError } from '../../errors.js';
import type { SpecResources } from '../spec.js';

const MIN_MEMORY = 6 * 1024 * 1024;

/** Docker's checks across the memory flags; and its default swap (as much again as the memory). */
export function completeResources(r: SpecResources | undefined): SpecResources | undefined {
  const m = r?.memory;
  if (!m) return r;
  if (m.limit !== undefined && m.limit > 0 && m.limit < MIN_MEMORY) throw new UsageError('minimum memory limit allowed is 6MB');
  if (m.reservation !== undefined && m.reservation > 0 && m.reservation < MIN_MEMORY) throw new UsageError('minimum memory reservation allowed is 6MB');
  if (m.swap !== undefined && m.swap > 0 && !(m.limit && m.limit > 0)) {
    throw new UsageError('you should always set the memory limit when using a memoryswap limit, see usage');
  }
  if (m.swap !== undefined && m.swap > 0 && m.limit && m.swap < m.limit) {
    throw new UsageError('minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (m.limit && m.limit > 0 && m.reservation && m.reservation > m.limit) {
    throw new UsageError('minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (m.limit && m.limit > 0 && m.swap === undefined) m.swap = m.limit * 2;
  return r;
}

/** `update`: the new values over the old, field by field; the memory rules checked again. */
export function mergeResources(old: SpecResources | undefined, changes: SpecResources): SpecResources {
  const out: SpecResources = structuredClone(old ?? {});
  if (changes.memory) {
    const m = { ...out.memory, ...changes.memory };
    // A new limit without a new swap: the default swap again, unless swap was unlimited.
    if (changes.memory.limit !== undefined && changes.memory.swap === undefined && out.memory?.swap !== -1) delete m.swap;
    out.memory = m;
  }
  if (changes.cpu) out.cpu = { ...out.cpu, ...changes.cpu };
  if (changes.pids) out.pids = changes.pids;
  if (changes.blockIO) out.blockIO = { ...out.blockIO, ...changes.blockIO };
  return completeResources(out)!;
}
