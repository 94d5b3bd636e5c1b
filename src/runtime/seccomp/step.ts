/**
 * The plan's seccomp step for a spec's linux.seccomp. Compiling takes ~10 ms in a cold process
 * (most of it first-run JavaScript), so compiled filters are kept in a cache directory of the
 * store, by a digest of the profile, the syscall table and the compiler's version: a start
 * reads a file instead.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PlanStep } from '../../native/types.js';
import type { RuntimeSpec } from '../spec.js';
import { COMPILER_VERSION, compileSeccomp, encodeFilter } from './bpf.js';
import type { LinuxSeccomp } from './profile.js';
import { SYSCALL_TABLE_DIGEST } from './syscall-table.js';

export function seccompStep(spec: RuntimeSpec, cacheDir?: string): PlanStep | undefined {
  if (!spec.linux.seccomp) return undefined;
  return { op: 'seccomp', filter: compiledFilter(spec.linux.seccomp, cacheDir) };
}

/** The filter as the plan carries it (hex of struct sock_filter[]), from the cache when it is there. */
export function compiledFilter(seccomp: LinuxSeccomp, cacheDir?: string): string {
  const compile = () => encodeFilter(compileSeccomp(seccomp)).toString('hex');
  if (cacheDir === undefined) return compile();
  const key = createHash('sha256').update(`${COMPILER_VERSION}\n${SYSCALL_TABLE_DIGEST}\n`).update(JSON.stringify(seccomp)).digest('hex');
  const file = path.join(cacheDir, `${key}.bpf.hex`);
  try {
    const cached = readFileSync(file, 'latin1');
    if (/^(?:[0-9a-f]{16})+$/.test(cached)) return cached;
  } catch {
    // not cached yet
  }
  const hex = compile();
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, hex);
    renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs time
  }
  return hex;
}
