/**
 * Starting a container under its own hull-monitor (`run -d`, `start`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, RuntimeError } from '../errors.js';
import { cliPath } from '../native/index.js';
import { crashPoint } from './crash-point.js';
import { type ContainerRecord, currentBootId } from './container-store.js';
import { processStartTime } from './liveness.js';
import { type PreparedStart, prepareStart } from './prepare.js';
import { recordFailedStart } from './start.js';
import type { Runtime } from './runtime.js';
import { type Attachment, attach, controlSocketPath } from './monitor-client.js';
import { mayAct, statusOfRecord } from './states.js';
import { removeFile } from '../files.js';
import { writeMonitorEvents } from '../events/emit.js';
import { eventsFile } from '../events/log.js';
import { beginHealth, spawnHealthMonitor } from './health-checker.js';

/**
 * Start a created or stopped container under its own monitor, attached: the monitor lets it run
 * once this connection is there, so its output is seen from the first byte (`start -a`), with its
 * stdin when `stdin` (`start -ai`; ending it ends the container's stdin).
 */
export async function startAttached(rt: Runtime, idOrName: string, opts: { stdin: boolean }): Promise<{ record: ContainerRecord; attachment: Attachment }> {
  return rt.locked(idOrName, async (record) => {
    if (!mayAct('start', statusOfRecord(record), idOrName)) throw new ConflictError(`container ${idOrName} is already running: use attach`);
    const attachment = await startUnderMonitor(rt, record, { stdin: opts.stdin && record.openStdin === true });
    if (!attachment) throw new RuntimeError(`cannot attach to container ${idOrName}: its monitor did not answer`);
    return { record, attachment };
  });
}

/** Attach to a running container's monitor: its output from now on, its stdin with `stdin` (when it has one). */
export async function attachTo(rt: Runtime, idOrName: string, opts: { stdin: boolean }): Promise<{ record: ContainerRecord; attachment: Attachment }> {
  const record = await rt.get(idOrName);
  mayAct('attach', statusOfRecord(record), idOrName);
  if (record.state.monitorPid === undefined) throw new ConflictError(`cannot attach to container ${idOrName}: it runs in the foreground of another hull`);
  const attachment = await attach(controlSocketPath(rt.paths.runRoot, record.id), {
    stdin: opts.stdin && record.openStdin === true,
    once: false,
    terminal: record.tty === true,
  });
  if (!attachment) throw new ConflictError(`you cannot attach to a stopped container, start it first`);
  return { record, attachment };
}

/** Start a created or stopped container under its own monitor (`run -d`, `start`). A running one is left as it is. */
export async function startDetached(rt: Runtime, idOrName: string): Promise<ContainerRecord> {
  return rt.locked(idOrName, async (record) => {
    if (!mayAct('start', statusOfRecord(record), idOrName)) return record; // running already
    await startUnderMonitor(rt, record);
    return record;
  });
}

export async function startUnderMonitor(rt: Runtime, record: ContainerRecord, attach?: { stdin: boolean }): Promise<Attachment | undefined> {
  let prepared: PreparedStart | undefined;
  try {
    // -i (without a terminal): its stdin is a pipe the monitor holds, for attached clients.
    prepared = await prepareStart(rt, record, { stdio: 'monitor', monitorStdin: record.openStdin === true && record.tty !== true });
    const statusPath = rt.containers.monitorStatusPath(record.id);
    const stopMarker = rt.containers.stopMarkerPath(record.id);
    removeFile(statusPath);
    removeFile(stopMarker);
    const memoryEvents = path.join(prepared.cgroup.path, 'memory.events');
    const { startMonitor } = await import('./monitor.js');
    const terminal = prepared.spec.process.terminal === true;
    const started = await startMonitor(
      {
        controlPath: controlSocketPath(rt.paths.runRoot, record.id),
        openStdin: record.openStdin === true && !terminal,
        attachFirst: attach !== undefined,
        launch: prepared.launch,
        cgroup: prepared.cgroup.path,
        logPath: record.logDriver === 'none' ? '/dev/null' : rt.containers.logPath(record.id), // --log-driver none: nothing kept
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
        // Its start, die and oom, and its volumes' mount and unmount, are logged by the monitor, which sees them in order (src/events/).
        eventsPath: eventsFile(rt.paths.runRoot),
        eventLinesPath: writeMonitorEvents(rt.containers.eventLinesPath(record.id), record),
      },
      attach ? { stdin: attach.stdin, once: true, terminal } : undefined,
    );
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
    const healthToken = beginHealth(rt, record);
    if (healthToken !== undefined) spawnHealthMonitor(rt, record, healthToken);
    return started.attachment;
  } catch (err) {
    await recordFailedStart(rt, record, prepared, err);
    throw err;
  }
}
