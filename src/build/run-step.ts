/**
 * RUN: its flags and command (exec form, shell form with the image's SHELL, a heredoc script),
 * the history line and cache description BuildKit's equivalents would give, and the step run as a
 * hull container on the current state (Env from the build args, User, WorkingDir), its output
 * relayed in order; the diff of its upper directory is the step's layer.
 */

import { closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BuildError, ContainerStartError, RunStepError } from '../errors.js';
import { sys } from '../native/index.js';
import type { RunningContainer, Runtime } from '../runtime/runtime.js';
import type { ResolvedImage } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { trace } from '../trace.js';
import { checkAbort } from './abort.js';
import type { Instruction } from './dockerfile.js';
import type { Expander } from './expand.js';
import { DEFAULT_SHELL } from './metadata.js';
import type { Progress } from './progress.js';
import type { Json } from './state.js';
import type { BuildWorkspace } from './workspace.js';

export type RunNetwork = 'none' | 'host';

export interface RunCommand {
  argv: string[];
  /** A heredoc script its interpreter reads from /dev/stdin. */
  script?: string;
  network: RunNetwork;
}

/** RUN's flags (only --network) and its command, with `config`'s Shell. */
export function runCommand(instr: Instruction, config: Json, defaultNetwork: RunNetwork, x: Expander): RunCommand {
  let network = defaultNetwork;
  for (const f of instr.flags) {
    if (f.name === 'network') {
      if (f.value === 'default') continue;
      if (f.value !== 'none' && f.value !== 'host') x.fail(instr, `RUN --network=${f.value} is not supported (none, host, default)`);
      network = f.value;
    } else x.fail(instr, `RUN --${f.name} is not supported by hull build`);
  }
  const shell = (config.Shell as string[] | undefined) ?? DEFAULT_SHELL;
  let argv: string[];
  let script: string | undefined;
  if (instr.json) argv = instr.json;
  else if (instr.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(instr.args.trim())) {
    const content = (instr.heredocs[0] as { content: string }).content;
    const shebang = /^#!([^\n]*)/.exec(content);
    if (shebang) {
      // BuildKit runs such a heredoc as a file; here the interpreter the `#!` line names (with
      // its one optional argument, as the kernel splits it) reads the script from /dev/stdin.
      const line = (shebang[1] as string).trim();
      const sp = line.search(/[ \t]/);
      const interp = sp < 0 ? [line] : [line.slice(0, sp), line.slice(sp).trim()];
      if (interp[0] === '') x.fail(instr, 'the heredoc\'s #! line names no interpreter');
      argv = [...interp, '/dev/stdin'];
      script = content;
    } else argv = [...shell, content];
  } else if (instr.heredocs.length > 0) {
    argv = [...shell, `${instr.args}\n${instr.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
  } else argv = [...shell, instr.args];
  return { argv, ...(script !== undefined ? { script } : {}), network };
}

/** The history's `created_by` of a RUN with these build args (`|2 A=1 B=2 …`, as BuildKit). */
export function runCreatedBy(cmd: RunCommand, args: readonly string[]): string {
  return `RUN ${args.length > 0 ? `|${args.length} ${args.join(' ')} ` : ''}${cmd.argv.join(' ')} # buildkit`;
}

/** What the step's cache key covers. */
export function runDescription(cmd: RunCommand, args: readonly string[]): string {
  const { argv, network, script } = cmd;
  return `RUN ${JSON.stringify({ argv, args, network, script })}`;
}

export interface RunContext {
  paths: StorePaths;
  runtime: Runtime;
  workspace: BuildWorkspace;
  progress: Progress;
  cgroupParent?: string;
  signal?: AbortSignal;
}

/** RUN: a container on the state (`resolved`, its `config`); returns the diffID of its changes (undefined: none). */
export async function runInContainer(ctx: RunContext, resolved: ResolvedImage, config: Json, cmd: RunCommand, args: string[]): Promise<string | undefined> {
  const { argv, network, script } = cmd;
  const { record } = await ctx.runtime.create({
    image: 'hull-build',
    resolvedImage: resolved,
    entrypoint: [],
    cmd: argv,
    env: args,
    ...(typeof config.User === 'string' && config.User !== '' ? { user: config.User } : {}),
    workdir: (config.WorkingDir as string | undefined) || '/',
    ...(ctx.cgroupParent !== undefined ? { cgroupParent: ctx.cgroupParent } : {}),
    network: { mode: network },
    skipImageVolumes: true,
  });
  let onAbort: (() => void) | undefined;
  try {
    checkAbort(ctx.signal);
    const tail: Buffer[] = [];
    let tailBytes = 0;
    const keep = (chunk: Buffer) => {
      tail.push(chunk);
      tailBytes += chunk.length;
      while (tailBytes > 64 * 1024 && tail.length > 1) tailBytes -= (tail.shift() as Buffer).length;
    };
    // The container's stdout and stderr share one pipe, relayed in order (and kept for errors).
    const [r, w] = sys.pipe();
    let running: RunningContainer;
    try {
      // A heredoc script reaches the shell through a pipe of hull's (/dev/stdin), never as a file.
      running = await ctx.runtime.start(record, { stdin: script === undefined ? 'ignore' : 'pipe', stdout: w, stderr: w });
      running.stdin?.end(script);
    } catch (err) {
      closeSync(r);
      // A command that cannot start fails the build (exit 1), naming why (not found, …).
      if (err instanceof ContainerStartError) throw new BuildError(`process "${argv.join(' ')}" did not complete successfully: ${err.message}`, { cause: err });
      throw err;
    } finally {
      closeSync(w);
    }
    // An abort kills the step's process (the build then fails as canceled).
    onAbort = () => running.kill(9);
    ctx.signal?.addEventListener('abort', onAbort);
    if (ctx.signal?.aborted) running.kill(9);
    const output = new net.Socket({ fd: r, readable: true, writable: false });
    const drained = new Promise<void>((resolve) => output.once('close', () => resolve()));
    output.on('data', (chunk: Buffer) => {
      keep(chunk);
      ctx.progress.relay(chunk);
    });
    const code = await running.wait();
    await drained;
    ctx.signal?.removeEventListener('abort', onAbort);
    checkAbort(ctx.signal);
    if (code !== 0) {
      const output = ctx.progress.silent && tailBytes > 0 ? `\n${Buffer.concat(tail).toString('utf8').trimEnd()}` : '';
      throw new RunStepError(`process "${argv.join(' ')}" did not complete successfully: exit code: ${code}${output}`, argv.join(' '), code);
    }
    trace('build: RUN done');
    return await ctx.workspace.commitLayer(path.join(ctx.paths.containers, record.id, 'upper'));
  } finally {
    if (onAbort) ctx.signal?.removeEventListener('abort', onAbort);
    await ctx.runtime.remove(record.id, { force: true });
  }
}
