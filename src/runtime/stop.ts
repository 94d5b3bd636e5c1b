/**
 * Stopping, killing, restarting and waiting for containers.
 */
import { type FSWatcher, closeSync, mkdirSync, watch, writeFileSync } from 'node:fs';
import { ConflictError } from '../errors.js';
import { sys } from '../native/index.js';
import { parseSignal } from './signals.js';
import type { ContainerRecord } from './container-store.js';
import { openProcess } from './liveness.js';
import { startUnderMonitor } from './detached.js';
import type { Runtime } from './runtime.js';
import { askStop, controlSocketPath, monitorDone, nextExit, startedPid } from './monitor-client.js';
import { withLock } from './lock.js';
import { releaseSharedShm } from './shm.js';
import { mayAct, statusOfRecord } from './states.js';
import { containerEvent } from '../events/emit.js';

const SIGKILL = 9;

/** Docker's default grace period of `stop`, when neither the caller nor the container (`--stop-timeout`) gives one. */
export const DEFAULT_STOP_TIMEOUT = 10;

/**
 * Docker's stop: the container's stop signal (`--stop-signal`, else the image's StopSignal, else
 * SIGTERM), SIGKILL after `timeoutSeconds` (default: its `--stop-timeout`, else 10); resolves once
 * it is recorded as ended.
 */
export async function stop(rt: Runtime, idOrName: string, timeoutSeconds?: number): Promise<void> {
  await rt.locked(idOrName, (record) => stopLocked(rt, record, timeoutSeconds));
}

export async function stopLocked(rt: Runtime, record: ContainerRecord, timeoutSeconds?: number): Promise<void> {
  const grace = timeoutSeconds ?? record.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
  mayAct('stop', statusOfRecord(record), record.name); // refuses only a container being removed
  if (record.state.status === 'running' && record.state.pid === undefined) await startReported(rt, record);
  if (record.state.monitorPid !== undefined) {
    mkdirSync(rt.containers.runDir(record.id), { recursive: true });
    writeFileSync(rt.containers.stopMarkerPath(record.id), ''); // no restart after this
    if (record.state.status === 'restarting') await askStop(controlSocketPath(rt.paths.runRoot, record.id)); // wakes its back-off
  }
  const wasRunning = record.state.status === 'running' || record.state.status === 'restarting';
  if (record.state.status === 'running') {
    // A paused container is thawed first, so that it can act on its stop signal.
    const cgroup = rt.existingCgroup(record);
    if (cgroup?.frozen()) await cgroup.setFrozen(false);
    const fd = await openProcess(record.state.pid, record.state.pidStartTime);
    if (fd !== undefined) {
      try {
        const stopSignal = parseSignal(record.stopSignal ?? 'SIGTERM');
        containerEvent(rt.paths.runRoot, record, 'kill', { signal: String(stopSignal) });
        signalQuietly(fd, stopSignal);
        if (!(await sys.pidfdWait(fd, grace < 0 ? -1 : grace * 1000))) {
          containerEvent(rt.paths.runRoot, record, 'kill', { signal: String(SIGKILL) });
          signalQuietly(fd, SIGKILL);
          await sys.pidfdWait(fd, -1);
        }
      } finally {
        closeSync(fd);
      }
    }
  }
  await settled(rt, record);
  await rt.network.tearDown(record.id);
  releaseSharedShm(rt.containers.runDir(record.id));
  if (wasRunning) containerEvent(rt.paths.runRoot, record, 'stop');
}

/**
 * A container whose monitor is cloning it (its hull was killed before recording the start) has no
 * pid yet: its monitor tells when it runs (or that the start failed).
 */
export async function startReported(rt: Runtime, record: ContainerRecord): Promise<void> {
  await startedPid(controlSocketPath(rt.paths.runRoot, record.id));
  const now = rt.containers.read(record.id);
  if (now) record.state = now.state;
}

/**
 * Waits until the container has ended for good: its monitor says so (its final exit, written down,
 * no restart after it), or, for a container of a foreground hull, its process's end (a pidfd).
 */
export async function settled(rt: Runtime, record: ContainerRecord): Promise<void> {
  const now = rt.containers.read(record.id);
  if (!now) return; // removed (--rm) meanwhile
  const { status, monitorPid } = now.state;
  if (monitorPid !== undefined && monitorPid !== process.pid && (status === 'running' || status === 'restarting')) {
    await monitorDone(controlSocketPath(rt.paths.runRoot, record.id));
  } else if (status === 'running') {
    const fd = await openProcess(now.state.pid, now.state.pidStartTime);
    if (fd !== undefined) {
      try {
        await sys.pidfdWait(fd, -1);
      } finally {
        closeSync(fd);
      }
    }
  }
  record.state = rt.containers.read(record.id)?.state ?? record.state;
}

/** Send a signal to the container's first process (under its lock: the state checked is the state acted on). */
export async function kill(rt: Runtime, idOrName: string, signal: number): Promise<void> {
  await rt.locked(idOrName, (record) => killLocked(rt, record, idOrName, signal));
}

async function killLocked(rt: Runtime, record: ContainerRecord, idOrName: string, signal: number): Promise<void> {
  mayAct('kill', statusOfRecord(record), idOrName);
  const fd = await openProcess(record.state.pid, record.state.pidStartTime);
  if (fd === undefined) throw new ConflictError(`container ${idOrName} is not running`);
  try {
    if (record.state.monitorPid !== undefined && (signal === SIGKILL || signal === parseSignal(record.stopSignal ?? 'SIGTERM'))) {
      writeFileSync(rt.containers.stopMarkerPath(record.id), ''); // Docker: a killed container is not restarted
    }
    containerEvent(rt.paths.runRoot, record, 'kill', { signal: String(signal) });
    signalQuietly(fd, signal);
  } finally {
    closeSync(fd);
  }
}

/** Tear down the network of a container that has ended (its monitor's exit command); a running one is left alone. */
export async function releaseNetwork(rt: Runtime, idOrName: string): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    if (record.state.status !== 'running' && record.state.status !== 'restarting') await rt.network.tearDown(record.id);
  });
}

/** Stop (if running) and start again. */
export async function restart(rt: Runtime, idOrName: string, timeoutSeconds?: number): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    await stopLocked(rt, record, timeoutSeconds);
    await startUnderMonitor(rt, record);
    containerEvent(rt.paths.runRoot, record, 'restart');
  });
}

/**
 * The container's exit code once it has ended (waiting for it when it runs): its monitor tells the
 * end as it happens; a foreground hull's container ends with its process (a pidfd), and that hull
 * records it under the container's lock; a created one is waited for through changes to its files.
 */
export async function wait(rt: Runtime, idOrName: string): Promise<number> {
  const id = await rt.containers.resolveId(idOrName);
  for (;;) {
    const record = rt.containers.read(id);
    if (!record) return 255; // removed before its end was seen
    const s = record.state;
    if (s.status === 'exited') return s.exitCode ?? 255;
    if (s.monitorPid !== undefined && (s.status === 'running' || s.status === 'restarting')) {
      // Its last end: a restart policy's restarts are waited through, as hull always has.
      const end = await nextExit(controlSocketPath(rt.paths.runRoot, id), true);
      if (end) return end.code; // an exit command (--rm) may remove the record right after
      continue; // the monitor has gone: its status file has the end
    }
    if (s.status === 'running') {
      const fd = await openProcess(s.pid, s.pidStartTime);
      if (fd !== undefined) {
        try {
          await sys.pidfdWait(fd, -1);
        } finally {
          closeSync(fd);
        }
      }
      // Its hull records the end under the container's lock: taking the lock waits for that.
      await withLock(rt.containers.lockPath(id), idOrName, async () => undefined).catch(() => undefined);
      const after = rt.containers.read(id);
      if (after?.state.status === 'running') return 255; // its hull died with it: the code is unknown
      continue;
    }
    await recordChange(rt, id); // created (or removing): until something changes
  }
}

/** Resolves at the next change to the container's files (inotify), or after `limitMs`. */
export async function recordChange(rt: Runtime, id: string, limitMs = 60_000): Promise<void> {
  const watchers: FSWatcher[] = [];
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    const timer = setTimeout(done, limitMs);
    for (const dir of [rt.containers.dir(id), rt.containers.runDir(id)]) {
      try {
        watchers.push(
          watch(dir, () => {
            clearTimeout(timer);
            done();
          }),
        );
      } catch {
        // not there (yet, or any more)
      }
    }
    if (watchers.length === 0) {
      clearTimeout(timer);
      done();
    }
  });
  for (const w of watchers) w.close();
}

/** pidfd_send_signal, where a process that has just exited (ESRCH) is not an error. */
function signalQuietly(pidfd: number, signal: number): void {
  try {
    sys.pidfdSignal(pidfd, signal);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
  }
}
