/**
 * Running a process in a running container (`exec`).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, UsageError, fromNodeError } from '../errors.js';
import { ContainerCgroup, cgroup2Root } from './cgroups.js';
import { readImageFile } from './image-files.js';
import { buildExecPlan, namespacesOf } from './plan.js';
import { ContainerProcess } from './process.js';
import type { RuntimeSpec } from './spec.js';
import { mergeEnv } from './specconv.js';
import { type StdioOptions, ALL_NULL_ROUTES, type WiredStdio, nullStdioMask, routeStdio, wireStdio } from './stdio.js';
import { resolveUser } from './user.js';
import { hasUserns } from './userns.js';
import { isSameProcess, openProcess } from './liveness.js';

import { type ExecProcess, StartedProcess } from './started.js';
import type { Runtime } from './runtime.js';

export interface ExecOptions extends StdioOptions {
  cmd: string[];
  /** KEY=VALUE entries over the container's environment. */
  env?: string[];
  /** USER[:GROUP], looked up in the container's /etc/passwd and /etc/group. */
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
  /** Relay the pty to hull's own terminal (`exec -t` from the CLI). */
  attachTerminal?: boolean;
  /** Leave it running on its own: no stdio, not killed with hull. */
  detach?: boolean;
}

/**
 * Run a process in a running container: it joins every namespace and the cgroup of the
 * container, keeps its limits and capabilities, and is non-dumpable until its execve.
 */
export async function exec(rt: Runtime, idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
  const record = await rt.get(idOrName);
  const notRunning = () => new ConflictError(`container ${record.id} is not running`);
  if (record.state.status !== 'running') throw notRunning();
  const pidfd = await openProcess(record.state.pid, record.state.pidStartTime);
  if (pidfd === undefined) throw notRunning();
  const pid = record.state.pid as number;
  const nsFds: number[] = [];
  let cgroupFd = -1;
  let stdio: WiredStdio | undefined;
  try {
    const userFirst = hasUserns(JSON.parse(readFileSync(path.join(rt.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec);
    for (const ns of [...(userFirst ? ['user'] : []), 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt']) {
      try {
        nsFds.push(openSync(`/proc/${pid}/ns/${ns}`, 'r'));
      } catch (err) {
        throw fromNodeError(err, 'open', `/proc/${pid}/ns/${ns}`);
      }
    }
    // The fds name the container's namespaces only if the pid was still its process after they were opened.
    if (!isSameProcess(pid, record.state.pidStartTime)) throw notRunning();
    const spec = JSON.parse(readFileSync(path.join(rt.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
    let user = { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: spec.process.user.additionalGids ?? [] };
    if (opts.user !== undefined) {
      const layers = [...[...record.rootfs.lower].reverse(), record.rootfs.upper];
      const resolved = resolveUser(opts.user, readImageFile(layers, '/etc/passwd'), readImageFile(layers, '/etc/group'));
      user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
    }
    const tty = opts.tty ?? false;
    const env = mergeEnv(spec.process.env, tty ? ['TERM=xterm'] : [], opts.env ?? []);
    const cwd = opts.workdir ?? spec.process.cwd;
    if (!path.posix.isAbsolute(cwd)) throw new UsageError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
    const consoleSize = opts.attachTerminal && process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
    const routes = tty || opts.detach ? ALL_NULL_ROUTES : routeStdio(opts);
    const nullStdio = tty ? 0 : nullStdioMask(routes);
    const steps = buildExecPlan(spec, { args: opts.cmd, env, cwd, user, tty, consoleSize, seccompFilter: await rt.seccompFilter(spec), nullStdio });
    cgroupFd = ContainerCgroup.existing(await cgroup2Root(), record.id, record.cgroupParent)?.openFd() ?? -1;
    stdio = wireStdio(routes);
    let proc: ContainerProcess;
    try {
      proc = ContainerProcess.spawn({
        namespaces: namespacesOf(spec),
        rootfs: spec.root.path,
        cgroupFd,
        stdio: stdio.childFds,
        steps,
        dieWithParent: !opts.detach,
        joinNamespaceFds: nsFds,
        keepAlive: !opts.detach,
      });
    } finally {
      stdio.closeChildEnds();
    }
    const { consoleFd } = await proc.start().catch(async (err: unknown) => {
      await proc.wait(); // reaped here, or it would be a zombie of the container's init
      throw err;
    });
    const terminal = consoleFd === undefined ? undefined : new (await import('./terminal.js')).Terminal(consoleFd, {
      relayToHost: opts.attachTerminal ?? false,
      interactive: opts.interactive ?? false,
    });
    return new StartedProcess(proc, stdio, terminal);
  } catch (err) {
    stdio?.stop();
    stdio?.closeChildEnds();
    throw err;
  } finally {
    for (const fd of nsFds) closeSync(fd);
    if (cgroupFd >= 0) closeSync(cgroupFd);
    closeSync(pidfd);
  }
}
