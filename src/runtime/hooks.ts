/**
 * OCI hooks (runtime-spec config.md, "POSIX-platform Hooks"): each one a host program run with the
 * container's state JSON on its stdin, its `args` (argv[0] included) and exactly its `env`, killed
 * after its `timeout`. Where each kind runs:
 *
 *   prestart, createRuntime   the runtime's namespaces, during create (the container's namespaces
 *                             made, before pivot_root: the process waits at its hooks point)
 *   createContainer           the container's namespaces, at the same point (its path resolves as
 *                             the runtime's: pivot_root has not happened yet)
 *   startContainer            the container's namespaces, during start, before the command runs
 *                             (its path resolves inside the container)
 *   poststart                 the runtime's namespaces, after start
 *   poststop                  the runtime's namespaces, during delete
 *
 * A failure of the first four fails the operation (the caller stops the container and deletes
 * it); a failure of poststart or poststop is a warning, and the rest go on.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import net from 'node:net';
import { HookError } from '../errors.js';
import { sys } from '../native/index.js';
import { ContainerProcess } from './process.js';
import { openNamespaces } from './namespaces.js';
import type { SpecHook, SpecHooks } from './spec.js';

export type HookKind = keyof SpecHooks;

/** The state JSON a hook reads (runtime-spec runtime.md#state). */
export interface OciState {
  ociVersion: string;
  id: string;
  /** runtime-spec's four, and runc's 'paused' (a frozen cgroup: `state` only, never a hook's). */
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

const SIGKILL = 9;
const OUTPUT_LIMIT = 4096;

/** What a hook printed (its tail), for the error. */
function tail(text: string): string {
  const t = text.trim();
  return t === '' ? '' : `: ${t.length > OUTPUT_LIMIT ? `…${t.slice(-OUTPUT_LIMIT)}` : t}`;
}

/** A hook in the runtime's namespaces: a plain child of hull. */
function runHost(kind: HookKind, hook: SpecHook, stateJson: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const env: Record<string, string> = {};
    for (const e of hook.env ?? []) {
      const eq = e.indexOf('=');
      if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    const child = spawn(hook.path, args.slice(1), { argv0: args[0] ?? hook.path, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-OUTPUT_LIMIT * 2);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => undefined); // a hook that does not read its stdin
    child.stdin.end(stateJson);
    const limit = timeLimit(hook, () => child.kill('SIGKILL'));
    child.once('error', (err) => {
      limit.clear();
      reject(new HookError(kind, hook.path, err.message));
    });
    child.once('close', (code, signal) => {
      limit.clear();
      if (limit.reached) reject(new HookError(kind, hook.path, `timed out after ${hook.timeout}s${tail(output)}`));
      else if (code === 0) resolve();
      else reject(new HookError(kind, hook.path, `${code === null ? `killed by ${signal}` : `exit status ${code}`}${tail(output)}`));
    });
  });
}

/** The hook's timeout: `kill` once it is past (then `reached`); no limit without one. */
function timeLimit(hook: SpecHook, kill: () => void): { readonly reached: boolean; clear(): void } {
  const limit = { reached: false, clear: (): void => undefined };
  if (hook.timeout === undefined) return limit;
  const timer = setTimeout(() => {
    limit.reached = true;
    kill();
  }, hook.timeout * 1000);
  limit.clear = () => {
    clearTimeout(timer);
  };
  return limit;
}

/** A hook in the namespaces of the process `pid` (the container's first process): joined as exec joins them. */
async function runInContainer(kind: HookKind, hook: SpecHook, stateJson: string, pid: number, namespaces: readonly string[]): Promise<void> {
  const fds: number[] = [];
  const [inRead, inWrite] = sys.pipe();
  const [outRead, outWrite] = sys.pipe();
  let input: net.Socket | undefined;
  let output: net.Socket | undefined;
  try {
    fds.push(...openNamespaces(pid, namespaces)); // unchecked: the caller holds the process (created, at its gate)
    const args = hook.args ?? [hook.path];
    const proc = ContainerProcess.spawn({
      plan: {
        namespaces: { pid: false, mount: false, uts: false, ipc: false, net: false, cgroup: false },
        rootfs: '/',
        terminal: false,
        parentDeathSignal: SIGKILL,
        steps: [{ op: 'exec', file: hook.path, argv: args, env: hook.env ?? [], path: '' }],
      },
      cgroupFd: -1,
      stdio: [inRead, outWrite, outWrite],
      joinNamespaceFds: fds,
    });
    closeSync(inRead);
    closeSync(outWrite);
    input = new net.Socket({ fd: inWrite, readable: false, writable: true });
    input.on('error', () => undefined);
    input.end(stateJson);
    let printed = '';
    output = new net.Socket({ fd: outRead, readable: true, writable: false });
    output.on('data', (d: Buffer) => {
      printed = (printed + d.toString('utf8')).slice(-OUTPUT_LIMIT * 2);
    });
    const closed = new Promise<void>((resolve) => output!.once('close', () => resolve()));
    try {
      await proc.start();
    } catch (err) {
      await proc.wait();
      throw new HookError(kind, hook.path, (err as Error).message);
    }
    const limit = timeLimit(hook, () => proc.signal(SIGKILL));
    const status = await proc.wait();
    limit.clear();
    await closed;
    if (limit.reached) throw new HookError(kind, hook.path, `timed out after ${hook.timeout}s${tail(printed)}`);
    if (status.code !== 0)
      throw new HookError(kind, hook.path, `${status.code === null ? `killed by signal ${status.signal}` : `exit status ${status.code}`}${tail(printed)}`);
  } finally {
    for (const fd of fds) closeSync(fd);
    if (input === undefined) closeSync(inWrite);
    if (output === undefined) closeSync(outRead);
    output?.destroy();
  }
}

export interface HookContext {
  /** The state JSON's fields. */
  state: OciState;
  /** For createContainer and startContainer: the container's first process, and its namespaces
   *  (the names under /proc/PID/ns, in the order they are joined). */
  container?: { pid: number; namespaces: readonly string[] };
}

/**
 * Run the hooks of one kind in order. The first failure throws a HookError — for poststart and
 * poststop the caller turns it into a warning and runs the rest with `runHooksWarning`.
 */
export async function runHooks(kind: HookKind, hooks: SpecHooks | undefined, ctx: HookContext): Promise<void> {
  const json = JSON.stringify(ctx.state);
  for (const hook of hooks?.[kind] ?? []) {
    if ((kind === 'createContainer' || kind === 'startContainer') && ctx.container) {
      await runInContainer(kind, hook, json, ctx.container.pid, ctx.container.namespaces);
    } else {
      await runHost(kind, hook, json);
    }
  }
}

/** poststart, poststop: every hook runs; the failures come back as warnings. */
export async function runHooksWarning(kind: 'poststart' | 'poststop', hooks: SpecHooks | undefined, ctx: HookContext): Promise<string[]> {
  const warnings: string[] = [];
  for (const hook of hooks?.[kind] ?? []) {
    try {
      await runHooks(kind, { [kind]: [hook] }, ctx);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return warnings;
}

const HOOK_KINDS: readonly HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** The kinds of hook a spec has (at least one hook of each), in the order they run. */
export function hookKinds(hooks: SpecHooks | undefined): HookKind[] {
  return HOOK_KINDS.filter((kind) => (hooks?.[kind]?.length ?? 0) > 0);
}

/** Whether a spec has hooks that run at the create's hooks point. */
export function hasCreateHooks(hooks: SpecHooks | undefined): boolean {
  return (hooks?.prestart?.length ?? 0) + (hooks?.createRuntime?.length ?? 0) + (hooks?.createContainer?.length ?? 0) > 0;
}
