/**
 * Starting a container in the foreground (hull's child), and the clean-up when it ends.
 */
import { closeSync } from 'node:fs';
import { ConflictError, HullError } from '../errors.js';
import { withLock } from './lock.js';
import type { ContainerCgroup } from './cgroups.js';
import type { ContainerRecord } from './container-store.js';
import { ContainerProcess } from './process.js';
import { type PreparedStart, prepareStart } from './prepare.js';
import { type WiredStdio, wireStdio } from './stdio.js';
import { processStartTime } from './liveness.js';
import { trace } from '../trace.js';
import { containerEvent, volumeEvents } from '../events/emit.js';
import { releaseSharedShm } from './shm.js';
import { type StartOptions, RunningContainer, consoleTerminal } from './started.js';
import type { Runtime } from './runtime.js';
import { mayAct, statusOfRecord } from './states.js';
import { removeFile } from '../files.js';
import { beginHealth, checkInForeground } from './health-checker.js';

const SIGKILL = 9;

/**
 * Start a created or stopped container in the foreground (hull's child); resolves once its
 * command is running. The container's lock is held until its state says so.
 */
export async function start(rt: Runtime, record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
  return rt.locked(record.id, async (now) => {
    if (!mayAct('start', statusOfRecord(now), record.name)) {
      throw new ConflictError(`container ${record.name} is already running; attaching to a running container is not supported yet`);
    }
    Object.assign(record, now);
    return startForeground(rt, record, opts);
  });
}

export async function startForeground(rt: Runtime, record: ContainerRecord, opts: StartOptions): Promise<RunningContainer> {
  let prepared: PreparedStart | undefined;
  let stdio: WiredStdio | undefined;
  let proc: ContainerProcess | undefined;
  try {
    // A detached run's status would speak for this one (see ContainerStore.read).
    removeFile(rt.containers.monitorStatusPath(record.id));
    const consoleSize = opts.attachTerminal && process.stdout.isTTY ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
    prepared = await prepareStart(rt, record, { stdio: opts, ...(consoleSize ? { consoleSize } : {}) });
    stdio = wireStdio(prepared.routes);
    const cgroupFd = prepared.cgroup.openFd();
    trace('stdio wired, cgroup opened');
    try {
      proc = ContainerProcess.spawn({ plan: prepared.launch, cgroupFd, stdio: stdio.childFds });
    } finally {
      closeSync(cgroupFd);
      stdio.closeChildEnds();
    }
    trace('spawned');
    const { consoleFd } = await proc.start();
    prepared.started();
    trace('started (execve reached)');
    const terminal = await consoleTerminal(consoleFd, opts);
    record.state = { status: 'running', pid: proc.pid, pidStartTime: processStartTime(proc.pid), startedAt: new Date().toISOString() };
    await rt.containers.save(record);
    trace('state saved');
    volumeEvents(rt.paths.runRoot, record, 'mount');
    containerEvent(rt.paths.runRoot, record, 'start');
    const made = prepared.cgroup;
    // Its health checks run here, in its parent, until it ends (health-checker.ts).
    const healthToken = beginHealth(rt, record);
    const health = healthToken !== undefined ? checkInForeground(rt, record, healthToken) : undefined;
    return new RunningContainer(record, proc, stdio, terminal, async () => {
      await health?.stop(); // first: a probe's result is recorded under the lock finish takes
      await withLock(rt.containers.lockPath(record.id), record.name, () => finish(rt, record, made));
    });
  } catch (err) {
    stdio?.stop();
    stdio?.closeChildEnds();
    if (proc) {
      proc.signal(SIGKILL); // it may be waiting at its gate
      await proc.wait();
    }
    await recordFailedStart(rt, record, prepared, err);
    throw err;
  }
}

/**
 * After a start that failed (in the foreground or under a monitor): what was prepared rolled back,
 * and the container recorded as exited with the failure (hull's own: 125), or removed (--rm).
 */
export async function recordFailedStart(rt: Runtime, record: ContainerRecord, prepared: PreparedStart | undefined, err: unknown): Promise<void> {
  await prepared?.rollback();
  record.state = {
    status: 'exited',
    exitCode: err instanceof HullError ? err.exitCode : 125,
    error: err instanceof Error ? err.message : String(err),
    finishedAt: new Date().toISOString(),
  };
  if (record.autoRemove) await rt.dropContainer(record, true);
  else await rt.containers.save(record);
}

export async function finish(rt: Runtime, record: ContainerRecord, cgroup: ContainerCgroup): Promise<void> {
  trace('exited, output drained');
  // Killed by the OOM killer: only memory.events knows, and only until the cgroup is gone.
  if (cgroup.oomKills() > 0) {
    record.state.oomKilled = true;
    containerEvent(rt.paths.runRoot, record, 'oom');
  }
  containerEvent(rt.paths.runRoot, record, 'die', { exitCode: String(record.state.exitCode ?? 0) });
  volumeEvents(rt.paths.runRoot, record, 'unmount');
  await cgroup.remove();
  trace('cgroup removed');
  await rt.network.tearDown(record.id);
  releaseSharedShm(rt.containers.runDir(record.id));
  trace('network torn down');
  if (record.autoRemove) await rt.dropContainer(record, true);
  else await rt.containers.save(record);
  trace('container removed or saved');
}
