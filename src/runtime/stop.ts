/**
 * Stopping, killing, restarting and waiting for containers.
 */
import { closeSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { ConflictError, RuntimeError } from '../errors.js';
import { sys } from '../native/index.js';
import { readMonitorStatus } from './monitor-status.js';
import { parseSignal } from './signals.js';
import { type ContainerRecord } from './container-store.js';
import { isSameProcess, openProcess, processName } from './liveness.js';

import { startUnderMonitor } from './detached.js';
import type { Runtime } from './runtime.js';
import { releaseSharedShm } from './shm.js';
import { mayAct, statusOfRecord } from './states.js';

const SIGKILL = 9;

/** Docker's stop: the image's StopSignal (or SIGTERM), SIGKILL after `timeoutSeconds`; resolves once it is recorded as ended. */
export async function stop(rt: Runtime, idOrName: string, timeoutSeconds = 10): Promise<void> {
  await rt.locked(idOrName, (record) => stopLocked(rt, record, timeoutSeconds));
}

export async function stopLocked(rt: Runtime, record: ContainerRecord, timeoutSeconds: number): Promise<void> {
  mayAct('stop', statusOfRecord(record), record.name); // refuses only a container being removed
  if (record.state.status === 'running' && record.state.pid === undefined) await startReported(rt, record);
  if (record.state.monitorPid !== undefined) {
    mkdirSync(rt.containers.runDir(record.id), { recursive: true });
    writeFileSync(rt.containers.stopMarkerPath(record.id), ''); // no restart after this
  }
  if (record.state.status === 'running') {
    // A paused container is thawed first, so that it can act on its stop signal.
    const cgroup = rt.existingCgroup(record);
    if (cgroup?.frozen()) await cgroup.setFrozen(false);
    const fd = await openProcess(record.state.pid, record.state.pidStartTime);
    if (fd !== undefined) {
      try {
        signalQuietly(fd, parseSignal(record.stopSignal ?? 'SIGTERM'));
        if (!(await sys.pidfdWait(fd, Math.max(0, timeoutSeconds) * 1000))) {
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
}

/**
 * A container whose monitor is cloning it (its hull was killed before recording the start)
 * has no pid yet: the monitor reports it within moments, or dies (then it is not running).
 */
export async function startReported(rt: Runtime, record: ContainerRecord, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const now = rt.containers.read(record.id);
    if (!now || now.state.status !== 'running' || now.state.pid !== undefined || Date.now() > deadline) {
      if (now) record.state = now.state;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the container is recorded as not running, and its monitor has gone. */
export async function settled(rt: Runtime, record: ContainerRecord, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const now = rt.containers.read(record.id);
    if (!now) return; // removed (--rm) meanwhile
    const { status, monitorPid, monitorStartTime } = now.state;
    const monitorLeft = monitorPid !== undefined && monitorPid !== process.pid && isSameProcess(monitorPid, monitorStartTime) &&
      processName(monitorPid) === 'hull-monitor';
    if (status !== 'running' && status !== 'restarting' && !monitorLeft) {
      record.state = now.state;
      return;
    }
    if (Date.now() > deadline) {
      throw new RuntimeError(`container ${record.name} did not stop within ${limitMs / 1000}s (state ${status}, monitor ${monitorLeft ? 'alive' : 'gone'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
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
export async function restart(rt: Runtime, idOrName: string, timeoutSeconds = 10): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    await stopLocked(rt, record, timeoutSeconds);
    await startUnderMonitor(rt, record);
  });
}

/** The container's exit code once it has ended (waiting for it when it runs). */
export async function wait(rt: Runtime, idOrName: string): Promise<number> {
  const id = await rt.containers.resolveId(idOrName);
  const statusPath = rt.containers.monitorStatusPath(id);
  let last: number | undefined;
  for (;;) {
    const record = rt.containers.read(id);
    if (!record) return last ?? 255; // removed (--rm) as it ended
    const s = record.state;
    if (s.status === 'exited') return s.exitCode ?? 255;
    const fd = s.status === 'running' ? await openProcess(s.pid, s.pidStartTime) : undefined;
    if (fd !== undefined) {
      try {
        await sys.pidfdWait(fd, -1);
      } finally {
        closeSync(fd);
      }
      // Catch the monitor's record of the end before an exit command (rm) removes it.
      for (let i = 0; i < 400; i++) {
        const m = readMonitorStatus(statusPath);
        if (m?.status === 'exited' || m?.status === 'restarting') {
          last = m.exitCode;
          break;
        }
        if (!existsSync(statusPath) && !existsSync(rt.containers.dir(id))) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } else {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** pidfd_send_signal, where a process that has just exited (ESRCH) is not an error. */
function signalQuietly(pidfd: number, signal: number): void {
  try {
    sys.pidfdSignal(pidfd, signal);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'ESRCH') throw err;
  }
}
