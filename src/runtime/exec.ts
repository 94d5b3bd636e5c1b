/**
 * Running a process in a running container (`exec`): prepared by prepare.ts (the container's
 * namespaces and cgroup, the plan), launched by the one launcher through a joiner.
 */
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { ConflictError } from '../errors.js';
import { openProcess } from './liveness.js';
import { type ExecRequest, type PreparedExec, prepareExec } from './prepare.js';
import { ContainerProcess } from './process.js';
import { type WiredStdio, wireStdio } from './stdio.js';
import { type ExecProcess, StartedProcess, consoleTerminal } from './started.js';
import type { Runtime } from './runtime.js';
import type { ContainerRecord } from './container-store.js';
import { mayAct, statusOfRecord } from './states.js';
import { containerEvent } from '../events/emit.js';

export interface ExecOptions extends Omit<ExecRequest, 'consoleSize'> {
  interactive?: boolean;
  /** Relay the pty to hull's own terminal (`exec -t` from the CLI). */
  attachTerminal?: boolean;
}

/**
 * Run a process in a running container: it joins every namespace and the cgroup of the
 * container, keeps its limits and capabilities, and is non-dumpable until its execve.
 */
export async function exec(rt: Runtime, idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
  // The state checked is the state acted on: under the container's lock until the process runs.
  return rt.locked(idOrName, (record) => execLocked(rt, record, opts));
}

async function execLocked(rt: Runtime, record: ContainerRecord, opts: ExecOptions): Promise<ExecProcess> {
  const notRunning = () => new ConflictError(`container ${record.id} is not running`);
  mayAct('exec', statusOfRecord(record), record.id);
  const pidfd = await openProcess(record.state.pid, record.state.pidStartTime);
  if (pidfd === undefined) throw notRunning();
  let prepared: PreparedExec | undefined;
  let stdio: WiredStdio | undefined;
  // Docker's exec events: the action names the command (`exec_start: sh -c …`), execID ties the three together.
  const execID = randomBytes(32).toString('hex');
  const command = opts.cmd.join(' ');
  containerEvent(rt.paths.runRoot, record, `exec_create: ${command}`, { execID });
  try {
    const consoleSize = opts.attachTerminal && process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
    prepared = await prepareExec(rt, record, { ...opts, ...(consoleSize ? { consoleSize } : {}) }, notRunning);
    stdio = wireStdio(prepared.routes);
    let proc: ContainerProcess;
    try {
      proc = ContainerProcess.spawn({
        plan: prepared.launch,
        cgroupFd: prepared.cgroupFd,
        stdio: stdio.childFds,
        joinNamespaceFds: prepared.namespaceFds,
        keepAlive: !opts.detach,
      });
    } finally {
      stdio.closeChildEnds();
    }
    const { consoleFd } = await proc.start().catch(async (err: unknown) => {
      await proc.wait(); // reaped here, or it would be a zombie of the container's init
      throw err;
    });
    const terminal = await consoleTerminal(consoleFd, opts);
    containerEvent(rt.paths.runRoot, record, `exec_start: ${command}`, { execID });
    return new StartedProcess(proc, stdio, terminal, async (code) => {
      containerEvent(rt.paths.runRoot, record, 'exec_die', { execID, exitCode: String(code) });
    });
  } catch (err) {
    stdio?.stop();
    stdio?.closeChildEnds();
    throw err;
  } finally {
    prepared?.release();
    closeSync(pidfd);
  }
}
