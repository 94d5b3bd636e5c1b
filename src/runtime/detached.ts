/**
 * Starting a container under its own hull-monitor (`run -d`, `start`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { HullError } from '../errors.js';
import { cliPath } from '../native/index.js';
import { crashPoint } from './crash-point.js';
import { ContainerCgroup, cgroupHost, requireCgroup2 } from './cgroups.js';
import { checkControllers } from './cgroups/index.js';
import { type ContainerRecord, currentBootId } from './container-store.js';
import { type RootfsLayers, buildPlan, namespacesOf } from './plan.js';
import type { RuntimeSpec } from './spec.js';
import { attachDeviceFilter } from './devices.js';
import { hasUserns, prepareIdmappedRootfs } from './userns.js';
import { processStartTime } from './liveness.js';

import { ANNOTATION_CREATE_WORKDIR } from './create.js';
import { isHostFile } from './runtime.js';
import type { Runtime } from './runtime.js';

const SIGKILL = 9;

/** Start a created or stopped container under its own monitor (`run -d`, `start`). A running one is left as it is. */
export async function startDetached(rt: Runtime, idOrName: string): Promise<ContainerRecord> {
  return rt.locked(idOrName, async (record) => {
    if (record.state.status === 'running' || record.state.status === 'restarting') return record;
    await startUnderMonitor(rt, record);
    return record;
  });
}

export async function startUnderMonitor(rt: Runtime, record: ContainerRecord): Promise<void> {
  let cgroup: ContainerCgroup | undefined;
  let idmapped: { layers: RootfsLayers; detach: () => void } | undefined;
  try {
    const spec = JSON.parse(readFileSync(path.join(rt.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
    const etcFiles = await rt.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
    crashPoint('start: etc files written');
    await rt.network.setUp(record, spec, etcFiles, (id) => rt.containers.read(id));
    crashPoint('start: network set up');
    mkdirSync(spec.root.path, { recursive: true }); // the run root is per boot
    // A remapped root is mounted here; the monitor keeps a private copy of it for restarts.
    if (hasUserns(spec)) idmapped = prepareIdmappedRootfs(spec, record.rootfs, rt.containers.runDir(record.id), rt.searchPath(record.id));
    const createCwd = spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true';
    // The monitor gives the container a placeholder stdin (pipes for its output, or the console).
    const nullStdio = spec.process.terminal ? 0 : 0b001;
    const steps = buildPlan(spec, idmapped?.layers ?? record.rootfs, {
      createCwd, etcFiles, isFile: isHostFile, seccompFilter: await rt.seccompFilter(spec), rootMounted: idmapped !== undefined, nullStdio,
    });
    const host = cgroupHost();
    checkControllers(spec.linux.resources, host.root, host.mode);
    const root = requireCgroup2(host);
    await ContainerCgroup.existing(root, record.id, record.cgroupParent)?.remove(); // a killed monitor's
    cgroup = await ContainerCgroup.create(root, record.id, record.cgroupParent);
    cgroup.applyResources(root, record.cgroupParent, spec.linux.resources);
    attachDeviceFilter(cgroup.path, spec.linux.resources);
    crashPoint('start: cgroup made');
    const statusPath = rt.containers.monitorStatusPath(record.id);
    const stopMarker = rt.containers.stopMarkerPath(record.id);
    rmSync(statusPath, { force: true });
    rmSync(stopMarker, { force: true });
    const memoryEvents = path.join(cgroup.path, 'memory.events');
    const { startMonitor } = await import('./monitor.js');
    const started = await startMonitor({
      namespaces: namespacesOf(spec),
      rootfs: spec.root.path,
      cgroup: cgroup.path,
      logPath: rt.containers.logPath(record.id),
      statusPath,
      memoryEvents: existsSync(memoryEvents) ? memoryEvents : '',
      terminal: spec.process.terminal ?? false,
      parentDeathSignal: SIGKILL,
      removeCgroup: true,
      restart: record.restartPolicy ?? { name: 'no', maximumRetryCount: 0 },
      stopMarker,
      exitCommand: record.autoRemove
        ? [process.execPath, cliPath(), '--root', rt.paths.root, '--run-root', rt.paths.runRoot, 'rm', '-f', '-v', record.id]
        : rt.network.readState(record.id) // its address and ports go when it ends, as Docker's
          ? [process.execPath, cliPath(), '--root', rt.paths.root, '--run-root', rt.paths.runRoot, 'network', 'release', record.id]
          : [],
      steps,
      logMaxSize: record.logConfig?.maxSize ?? 0,
      logMaxFiles: record.logConfig?.maxFile ?? 1,
    });
    idmapped?.detach();
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
    idmapped?.detach();
    await cgroup?.remove();
    await rt.network.tearDown(record.id);
    record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
    if (record.autoRemove) await rt.dropContainer(record, true);
    else await rt.containers.save(record);
    throw err;
  }
}
