/**
 * Starting a container in the foreground (hull's child), and the clean-up when it ends.
 */
import { closeSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, HullError } from '../errors.js';
import { withLock } from './lock.js';
import { ContainerCgroup, cgroupHost, requireCgroup2 } from './cgroups.js';
import { checkControllers } from './cgroups/index.js';
import { type ContainerRecord } from './container-store.js';
import { type RootfsLayers, buildPlan, namespacesOf } from './plan.js';
import { ContainerProcess } from './process.js';
import type { RuntimeSpec } from './spec.js';
import { ALL_NULL_ROUTES, type WiredStdio, nullStdioMask, routeStdio, wireStdio } from './stdio.js';
import { attachDeviceFilter } from './devices.js';
import { hasUserns, prepareIdmappedRootfs, writeIdMaps } from './userns.js';
import { processStartTime } from './liveness.js';
import { trace } from '../trace.js';

import { type StartOptions, RunningContainer } from './started.js';
import { ANNOTATION_CREATE_WORKDIR } from './create.js';
import { isHostFile } from './runtime.js';
import type { Runtime } from './runtime.js';

/**
 * Start a created or stopped container in the foreground (hull's child); resolves once its
 * command is running. The container's lock is held until its state says so.
 */
export async function start(rt: Runtime, record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
  return rt.locked(record.id, async (now) => {
    if (now.state.status === 'running' || now.state.status === 'restarting') {
      throw new ConflictError(`container ${record.name} is already running; attaching to a running container is not supported yet`);
    }
    Object.assign(record, now);
    return startForeground(rt, record, opts);
  });
}

export async function startForeground(rt: Runtime, record: ContainerRecord, opts: StartOptions): Promise<RunningContainer> {
  let cgroup: ContainerCgroup | undefined;
  let stdio: WiredStdio | undefined;
  let proc: ContainerProcess | undefined;
  let idmapped: { layers: RootfsLayers; detach: () => void } | undefined;
  try {
    const spec = JSON.parse(readFileSync(path.join(rt.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
    if (hasUserns(spec)) idmapped = prepareIdmappedRootfs(spec, record.rootfs, rt.containers.runDir(record.id), rt.searchPath(record.id));
    if (opts.attachTerminal && spec.process.terminal && process.stdout.isTTY) {
      spec.process.consoleSize = { height: process.stdout.rows, width: process.stdout.columns };
    }
    trace('config read');
    // A detached run's status would speak for this one (see ContainerStore.read).
    rmSync(rt.containers.monitorStatusPath(record.id), { force: true });
    const etcFiles = await rt.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
    await rt.network.setUp(record, spec, etcFiles, (id) => rt.containers.read(id));
    trace('network set up');
    // Docker makes a missing working directory; a bare OCI bundle (runc's contract) must have it.
    const createCwd = spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true';
    // With a terminal, the console step gives the container its stdio.
    const routes = spec.process.terminal ? ALL_NULL_ROUTES : routeStdio(opts);
    const nullStdio = spec.process.terminal ? 0 : nullStdioMask(routes);
    const steps = buildPlan(spec, idmapped?.layers ?? record.rootfs, {
      createCwd, etcFiles, isFile: isHostFile, seccompFilter: await rt.seccompFilter(spec), rootMounted: idmapped !== undefined, nullStdio,
    });
    trace('etc files written, plan built');
    const host = cgroupHost();
    const resources = spec.linux.resources;
    checkControllers(resources, host.root, host.mode);
    const root = requireCgroup2(host);
    cgroup = await ContainerCgroup.create(root, record.id, record.cgroupParent);
    cgroup.applyResources(root, record.cgroupParent, resources);
    attachDeviceFilter(cgroup.path, resources);
    trace('cgroup made');
    stdio = wireStdio(routes);
    const cgroupFd = cgroup.openFd();
    trace('stdio wired, cgroup opened');
    try {
      proc = ContainerProcess.spawn({
        namespaces: namespacesOf(spec),
        rootfs: spec.root.path,
        cgroupFd,
        stdio: stdio.childFds,
        steps,
        dieWithParent: true,
      });
    } finally {
      closeSync(cgroupFd);
      stdio.closeChildEnds();
    }
    trace('spawned');
    if (hasUserns(spec)) writeIdMaps(proc.pid, spec);
    const { consoleFd } = await proc.start();
    idmapped?.detach(); // the container's mount namespace keeps its own copies
    trace('started (execve reached)');
    const terminal = consoleFd === undefined ? undefined : new (await import('./terminal.js')).Terminal(consoleFd, {
      relayToHost: opts.attachTerminal ?? false,
      interactive: opts.interactive ?? false,
    });
    record.state = { status: 'running', pid: proc.pid, pidStartTime: processStartTime(proc.pid), startedAt: new Date().toISOString() };
    await rt.containers.save(record);
    trace('state saved');
    const made = cgroup;
    return new RunningContainer(record, proc, stdio, terminal, () => withLock(rt.containers.lockPath(record.id), record.name, () => finish(rt, record, made)));
  } catch (err) {
    stdio?.stop();
    stdio?.closeChildEnds();
    if (proc) await proc.wait();
    idmapped?.detach();
    await cgroup?.remove();
    await rt.network.tearDown(record.id);
    record.state = { status: 'exited', exitCode: err instanceof HullError ? err.exitCode : 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
    if (record.autoRemove) await rt.dropContainer(record, true);
    else await rt.containers.save(record);
    throw err;
  }
}

export async function finish(rt: Runtime, record: ContainerRecord, cgroup: ContainerCgroup): Promise<void> {
  trace('exited, output drained');
  // Killed by the OOM killer: only memory.events knows, and only until the cgroup is gone.
  if (cgroup.oomKills() > 0) record.state.oomKilled = true;
  await cgroup.remove();
  trace('cgroup removed');
  await rt.network.tearDown(record.id);
  trace('network torn down');
  if (record.autoRemove) await rt.dropContainer(record, true);
  else await rt.containers.save(record);
  trace('container removed or saved');
}
