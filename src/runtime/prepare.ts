/**
 * The one prepare step of hull's containers: their config.json (read and checked once) turned into
 * what launching needs — the etc files, the network namespace, the user-namespace root, the
 * launch plan, the cgroup — with one rollback for all of it. The foreground start, the monitor's
 * start and exec all go through here, and all launch through ContainerProcess / hull-monitor with
 * the one launcher (native/launch.h); an OCI bundle's create (src/oci/) builds its plan with the
 * same plan builder.
 */
import { joinContainers, namespacesToJoin, openNamespaces, useSharedShm } from './namespaces.js';
import { mountSharedShm, releaseSharedShm, sharedShmPath } from './shm.js';
import { closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { ContainerCgroup, cgroup2Root, cgroupHost, requireCgroup2 } from './cgroups.js';
import { checkControllers } from './cgroups/index.js';
import type { ContainerRecord } from './container-store.js';
import { ANNOTATION_CREATE_WORKDIR } from './create.js';
import { attachDeviceFilter } from './devices.js';
import { readImageFile } from './image-files.js';
import { type RootfsLayers, buildExecPlan, buildPlan, joinedBeforeClone, namespacesOf } from './plan.js';
import type { LaunchPlan } from './plan-codec.js';
import { crashPoint } from './crash-point.js';
import type { Runtime } from './runtime.js';
import { isHostFile } from './runtime.js';
import type { RuntimeSpec } from './spec.js';
import { mergeEnv } from './specconv.js';
import { ALL_NULL_ROUTES, type StdioOptions, type StdioRoutes, nullStdioMask, routeStdio } from './stdio.js';
import { resolveUser } from './user.js';
import { hasUserns, prepareIdmappedRootfs } from './userns.js';
import { trace } from '../trace.js';

const SIGKILL = 9;

/** A container's config.json, read and checked (src/runtime/spec-read.ts). */
export function containerSpec(rt: Runtime, id: string): RuntimeSpec {
  return rt.containers.spec(id);
}

export interface StartRequest {
  /** How the container's stdio reach it: from the caller's options (the foreground), or hull-monitor's own. */
  stdio: StdioOptions | 'monitor';
  /** hull-monitor gives the container a stdin pipe of its own (`-i`), not a placeholder. */
  monitorStdin?: boolean;
  /** The caller's terminal size, for a container with a terminal. */
  consoleSize?: { height: number; width: number };
}

export interface PreparedStart {
  spec: RuntimeSpec;
  launch: LaunchPlan;
  cgroup: ContainerCgroup;
  /** The foreground's stdio routes (the monitor wires its own). */
  routes: StdioRoutes;
  /** The container's process runs: what only the start needed goes (the remapped root's host mount). */
  started(): void;
  /** Undo what prepare made (idempotent): the remapped root, the cgroup, the network. */
  rollback(): Promise<void>;
}

/**
 * Everything starting a created or stopped container needs, made in order, each step undone by
 * the rollback if a later one (or the launch) fails. Called under the container's lock.
 */
export async function prepareStart(rt: Runtime, record: ContainerRecord, req: StartRequest): Promise<PreparedStart> {
  let cgroup: ContainerCgroup | undefined;
  let idmapped: { layers: RootfsLayers; detach: () => void } | undefined;
  let mountedShm = false;
  const rollback = async () => {
    idmapped?.detach();
    idmapped = undefined;
    if (mountedShm) releaseSharedShm(rt.containers.runDir(record.id));
    await cgroup?.remove();
    await rt.network.tearDown(record.id);
  };
  try {
    const spec = containerSpec(rt, record.id);
    if (req.consoleSize && spec.process.terminal) spec.process.consoleSize = req.consoleSize;
    joinContainers(
      spec,
      (id) => rt.containers.read(id),
      (id) => sharedShmPath(rt.containers.runDir(id)),
    ); // --pid/--ipc container:NAME, as it runs now
    if (record.ipcShareable) {
      mountedShm = true;
      useSharedShm(spec, mountSharedShm(rt.containers.runDir(record.id), record.shmSize));
    }
    trace('config read');
    const etcFiles = await rt.writeEtcFiles(record.id, spec.hostname ?? record.id.slice(0, 12));
    crashPoint('start: etc files written');
    await rt.network.setUp(record, spec, etcFiles, (id) => rt.containers.read(id));
    crashPoint('start: network set up');
    trace('network set up');
    mkdirSync(spec.root.path, { recursive: true }); // the run root is per boot
    // A remapped root is mounted here (hull-monitor keeps a private copy of it for restarts).
    if (hasUserns(spec)) idmapped = prepareIdmappedRootfs(spec, record.rootfs, rt.containers.runDir(record.id), rt.searchPath(record.id));
    // With a terminal, the console step gives the container its stdio; the monitor gives it pipes
    // for its output and a placeholder stdin, replaced by the container's own /dev/null.
    const routes = spec.process.terminal ? ALL_NULL_ROUTES : req.stdio === 'monitor' ? ALL_NULL_ROUTES : routeStdio(req.stdio);
    const nullStdio = spec.process.terminal ? 0 : req.stdio === 'monitor' ? (req.monitorStdin ? 0 : 0b001) : nullStdioMask(routes);
    const steps = buildPlan(spec, idmapped?.layers ?? record.rootfs, {
      // Docker makes a missing working directory; a bare OCI bundle (runc's contract) must have it.
      createCwd: spec.annotations?.[ANNOTATION_CREATE_WORKDIR] === 'true',
      etcFiles,
      isFile: isHostFile,
      seccompFilter: await rt.seccompFilter(spec),
      rootMounted: idmapped !== undefined,
      nullStdio,
    });
    trace('plan built');
    const host = cgroupHost();
    checkControllers(spec.linux.resources, host.root, host.mode);
    const root = requireCgroup2(host);
    await ContainerCgroup.existing(root, record.id, record.cgroupParent)?.remove(); // a killed hull's or monitor's
    cgroup = await ContainerCgroup.create(root, record.id, record.cgroupParent);
    cgroup.applyResources(root, record.cgroupParent, spec.linux.resources);
    attachDeviceFilter(cgroup.path, spec.linux.resources);
    crashPoint('start: cgroup made');
    trace('cgroup made');
    const launch: LaunchPlan = {
      namespaces: namespacesOf(spec),
      rootfs: spec.root.path,
      terminal: spec.process.terminal ?? false,
      parentDeathSignal: SIGKILL,
      joinPaths: joinedBeforeClone(spec),
      steps,
    };
    const made = cgroup;
    return {
      spec,
      launch,
      cgroup: made,
      routes,
      started: () => {
        idmapped?.detach(); // the container's mount namespace keeps its own copies
        idmapped = undefined;
      },
      rollback,
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}

export interface ExecRequest extends StdioOptions {
  cmd: string[];
  /** KEY=VALUE entries over the container's environment. */
  env?: string[];
  /** USER[:GROUP], looked up in the container's /etc/passwd and /etc/group. */
  user?: string;
  workdir?: string;
  tty?: boolean;
  /** The caller's terminal size, with `tty`. */
  consoleSize?: { rows: number; cols: number };
  /** Left to run on its own: no stdio, not killed with hull. */
  detach?: boolean;
  /** Run under a hull-monitor of its own, which wires its stdio (with a stdin pipe when `monitorStdin`) and is its parent. */
  underMonitor?: boolean;
  monitorStdin?: boolean;
}

export interface PreparedExec {
  launch: LaunchPlan;
  routes: StdioRoutes;
  /** The container's namespaces, in the order the joiner enters them. */
  namespaceFds: number[];
  /** Its cgroup (CLONE_INTO_CGROUP), or -1. */
  cgroupFd: number;
  /** Close the fds above. */
  release(): void;
}

/**
 * What a process joining a running container needs: its plan (the container's limits and
 * privileges, its own user, directory, environment and terminal), the container's namespaces
 * (opened while its pid is its process) and its cgroup.
 */
export async function prepareExec(rt: Runtime, record: ContainerRecord, req: ExecRequest, notRunning: () => Error): Promise<PreparedExec> {
  const pid = record.state.pid as number;
  const namespaceFds: number[] = [];
  let cgroupFd = -1;
  const release = () => {
    for (const fd of namespaceFds.splice(0)) closeSync(fd);
    if (cgroupFd >= 0) closeSync(cgroupFd);
    cgroupFd = -1;
  };
  try {
    const spec = containerSpec(rt, record.id);
    const opened = openNamespaces(pid, namespacesToJoin(spec), { startTime: record.state.pidStartTime });
    if (opened === undefined) throw notRunning();
    namespaceFds.push(...opened);
    let user = { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: spec.process.user.additionalGids ?? [] };
    if (req.user !== undefined) {
      const layers = [...[...record.rootfs.lower].reverse(), record.rootfs.upper];
      const resolved = resolveUser(req.user, readImageFile(layers, '/etc/passwd'), readImageFile(layers, '/etc/group'));
      user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
    }
    const tty = req.tty ?? false;
    const env = mergeEnv(spec.process.env, tty ? ['TERM=xterm'] : [], req.env ?? []);
    const cwd = req.workdir ?? spec.process.cwd;
    if (!path.posix.isAbsolute(cwd)) throw new UsageError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
    const routes = tty || req.detach || req.underMonitor ? ALL_NULL_ROUTES : routeStdio(req);
    // Under a monitor, as a detached container's first process: the monitor's pipes, /dev/null for a stdin it does not hold.
    const nullStdio = tty ? 0 : req.underMonitor ? (req.monitorStdin ? 0 : 0b001) : nullStdioMask(routes);
    const steps = buildExecPlan(spec, {
      args: req.cmd,
      env,
      cwd,
      user,
      tty,
      consoleSize: req.consoleSize,
      seccompFilter: await rt.seccompFilter(spec),
      nullStdio,
      // Under a monitor it waits at a gate, as a container's first process: an attached client sees its output from the first byte.
      startGate: req.underMonitor === true,
    });
    cgroupFd = ContainerCgroup.existing(await cgroup2Root(), record.id, record.cgroupParent)?.openFd() ?? -1;
    const none = { pid: false, mount: false, uts: false, ipc: false, net: false, cgroup: false };
    return {
      launch: { namespaces: none, rootfs: spec.root.path, terminal: tty, parentDeathSignal: req.detach && !req.underMonitor ? 0 : SIGKILL, steps },
      routes,
      namespaceFds,
      cgroupFd,
      release,
    };
  } catch (err) {
    release();
    throw err;
  }
}
