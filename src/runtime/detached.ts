/**
 * Starting a container under its own hull-monitor (`run -d`, `start`).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { HullError } from '../errors.js';
import { cliPath } from '../native/index.js';
import { crashPoint } from './crash-point.js';
import { type ContainerRecord, currentBootId } from './container-store.js';
import { processStartTime } from './liveness.js';
import { type PreparedStart, prepareStart } from './prepare.js';
import type { Runtime } from './runtime.js';
import { mayAct, statusOfRecord } from './states.js';


/** Start a created or stopped container under its own monitor (`run -d`, `start`). A running one is left as it is. */
export async function startDetached(rt: Runtime, idOrName: string): Promise<ContainerRecord> {
  return rt.locked(idOrName, async (record) => {
    if (!mayAct('start', statusOfRecord(record), idOrName)) return record; // running already
    await startUnderMonitor(rt, record);
    return record;
  });
}

export async function startUnderMonitor(rt: Runtime, record: ContainerRecord): Promise<void> {
  let prepared: PreparedStart | undefined;
  try {
    prepared = await prepareStart(rt, record, { stdio: 'monitor' });
    const statusPath = rt.containers.monitorStatusPath(record.id);
    const stopMarker = rt.containers.stopMarkerPath(record.id);
    rmSync(statusPath, { force: true });
    rmSync(stopMarker, { force: true });
    const memoryEvents = path.join(prepared.cgroup.path, 'memory.events');
    const { startMonitor } = await import('./monitor.js');
    const started = await startMonitor({
      launch: prepared.launch,
      cgroup: prepared.cgroup.path,
      logPath: rt.containers.logPath(record.id),
      statusPath,
      memoryEvents: existsSync(memoryEvents) ? memoryEvents : '',
      removeCgroup: true,
      restart: record.restartPolicy ?? { name: 'no', maximumRetryCount: 0 },
      stopMarker,
      exitCommand: record.autoRemove
        ? [process.execPath, cliPath(), '--root', rt.paths.root, '--run-root', rt.paths.runRoot, 'rm', '-f', '-v', record.id]
        : rt.network.readState(record.id) // its address and ports go when it ends, as Docker's
          ? [process.execPath, cliPath(), '--root', rt.paths.root, '--run-root', rt.paths.runRoot, 'network', 'release', record.id]
          : [],
      logMaxSize: record.logConfig?.maxSize ?? 0,
      logMaxFiles: record.logConfig?.maxFile ?? 1,
    });
    prepared.started();
    record.state = {
      status: 'running',
      pid: started.pid,
      pidStartTime: processStartTime(started.pid),
      startedAt: new Date().toISOString(),
      monitorPid: started.monitorPid,
      monitorStartTime: processStartTime(started.monitorPid),
      bootId: currentBootId(),
      restartCount: 0,
    };
    crashPoint('start: monitor reported');
    await rt.containers.save(record);
    crashPoint('start: state saved');
  } catch (err) {
    await prepared?.rollback();
    record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
    if (record.autoRemove) await rt.dropContainer(record, true);
    else await rt.containers.save(record);
    throw err;
  }
}
