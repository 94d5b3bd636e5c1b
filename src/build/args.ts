/**
 * Build args: `--build-arg` values, the ARGs before the first FROM (meta args, for FROM lines and
 * as defaults of a stage's ARG), the ARGs a stage declares, what RUN sees of them, and which given
 * ones no step used (Docker warns about those).
 */

import { UsageError } from '../errors.js';
import type { Instruction } from './dockerfile.js';
import type { Expander } from './expand.js';
import { keyValuePairs, type Env } from './shell-words.js';

/** Build args Docker predefines (usable without an ARG line in RUN, never in history). */
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/** ARGs declared in a stage: name → value (undefined: declared, unset). */
export type StageArgs = Map<string, string | undefined>;

export class BuildArgs {
  private readonly used = new Set<string>();
  private readonly meta = new Map<string, string | undefined>();

  constructor(private readonly given: Readonly<Record<string, string>> | undefined) {}

  /** An ARG line before the first FROM. */
  declareMeta(instr: Instruction, x: Expander): void {
    for (const { key, value } of keyValuePairs(instr.args, x.file.escape, false)) {
      const given = this.given?.[key];
      if (given !== undefined) this.used.add(key);
      this.meta.set(key, given ?? (value === undefined ? undefined : x.expand(instr, value, this.metaEnv())));
    }
  }

  /** The meta args that have a value (what FROM lines expand with). */
  metaEnv(): Env {
    const m = new Map<string, string>();
    for (const [k, v] of this.meta) if (v !== undefined) m.set(k, v);
    return m;
  }

  /** An ARG line in a stage: each name gets the given value, else its default (expanded with `env`), else the meta arg's. */
  declare(instr: Instruction, args: StageArgs, env: Env, x: Expander): void {
    for (const { key, value } of keyValuePairs(instr.args, x.file.escape, false)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) x.fail(instr, `invalid ARG name ${JSON.stringify(key)}`);
      const given = this.given?.[key];
      if (given !== undefined) this.used.add(key);
      const v = given ?? (value !== undefined ? x.expand(instr, value, env) : this.meta.get(key));
      args.set(key, v);
    }
  }

  /** The build args RUN sees as environment: declared in the stage (ENV, `envKeys`, wins), plus predefined proxies. */
  runEnv(args: StageArgs, envKeys: ReadonlyMap<string, string>): string[] {
    const out: string[] = [];
    for (const [k, v] of [...args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v === undefined || envKeys.has(k)) continue;
      out.push(`${k}=${v}`);
    }
    for (const p of PREDEFINED_ARGS) {
      const v = this.given?.[p];
      if (v !== undefined && !args.has(p)) {
        out.push(`${p}=${v}`);
        this.used.add(p);
      }
    }
    return out;
  }

  /** Given build args no step used (predefined ones aside). */
  unused(): string[] {
    return Object.keys(this.given ?? {}).filter((a) => !this.used.has(a) && !PREDEFINED_ARGS.has(a));
  }
}

/** Words of a `--build-arg`-like list (KEY=VALUE; a bare KEY takes hull's environment, or is dropped). */
export function parseKeyValueFlags(list: readonly string[], what: string, hostEnv: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UsageError(`${what}: invalid ${JSON.stringify(item)}: empty name`);
    if (eq < 0) {
      const v = hostEnv[item];
      if (v !== undefined) out[item] = v;
      continue;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
