/**
 * The compiled filter for a spec's linux.seccomp, as the plan carries it (hex of struct
 * sock_filter[]). Compiling takes ~10 ms in a cold process (most of it first-run JavaScript and
 * loading the syscall tables), so compiled filters are kept in a cache directory of the store, by
 * a digest of the profile, the syscall tables and the compiler's version: a start that finds its
 * filter there reads a file and loads neither the compiler nor the tables.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LinuxSeccomp } from './profile.js';
import { SYSCALL_TABLE_DIGEST } from './syscall-table-digest.js';

/** Part of the key of cached filters: change it whenever the compiler's output changes (bpf.ts). */
export const COMPILER_VERSION = 'hull-seccomp-2';

export async function compiledFilter(seccomp: LinuxSeccomp, cacheDir?: string): Promise<string> {
  const compile = async () => {
    const { compileSeccomp, encodeFilter } = await import('./bpf.js');
    return encodeFilter(compileSeccomp(seccomp)).toString('hex');
  };
  if (cacheDir === undefined) return compile();
  const key = createHash('sha256').update(`${COMPILER_VERSION}\n${SYSCALL_TABLE_DIGEST}\n`).update(JSON.stringify(seccomp)).digest('hex');
  const file = path.join(cacheDir, `${key}.bpf.hex`);
  try {
    const cached = readFileSync(file, 'latin1');
    if (/^(?:[0-9a-f]{16})+$/.test(cached)) return cached;
  } catch {
    // not cached yet
  }
  const hex = await compile();
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
