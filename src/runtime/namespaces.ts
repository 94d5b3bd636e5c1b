/**
 * Which pid, IPC, UTS and cgroup namespaces a container gets (Docker's PidMode, IpcMode, UTSMode,
 * CgroupnsMode): its own (the default), the host's, or another container's. At create the spec says
 * it: a host namespace is left out of linux.namespaces, another container's is named in an
 * annotation, and at each start `joinContainers` turns that into the namespace files of that
 * container's running process (a pid namespace is joined before the clone, the others by the
 * plan's setns steps). IPC is joined with the donor's /dev/shm, which the donor must have made
 * shareable (`--ipc shareable`), as Docker requires: such a container's /dev/shm is a tmpfs on the
 * host side (shm.ts), bound into it and into those that join it.
 */
import { closeSync, openSync } from 'node:fs';
import { ConflictError, UsageError, fromNodeError } from '../errors.js';
import { isSameProcess } from './liveness.js';
import { hasUserns } from './userns.js';
import type { ContainerRecord } from './container-store.js';
import type { NamespaceType, RuntimeSpec } from './spec.js';

export type PidMode = { mode: 'private' | 'host' } | { mode: 'container'; container: string };
export type IpcMode = { mode: 'private' | 'shareable' | 'host' | 'none' } | { mode: 'container'; container: string };
/** `container`: another container's UTS namespace (a pod's infra: `hostname` there is the pod's; no flag of Docker's says it). */
export type UtsMode = { mode: 'private' | 'host' } | { mode: 'container'; container: string };
export type CgroupnsMode = { mode: 'private' | 'host' };

export interface NamespaceOptions {
  pid?: PidMode;
  ipc?: IpcMode;
  uts?: UtsMode;
  cgroupns?: CgroupnsMode;
}

/** The namespaces a container may join of another container's by annotation (the network's is its network mode's). */
export type JoinedType = 'pid' | 'ipc' | 'uts';

/** The annotation naming the container whose namespace of a type is joined (its id). */
export const ANNOTATION_JOIN = (type: JoinedType): string => `io.hull.namespace.${type}`;
/** The annotation saying the container's IPC namespace may be joined (`--ipc shareable`). */
export const ANNOTATION_IPC_SHAREABLE = 'io.hull.ipc.shareable';

/** Docker's mode strings, for inspect's HostConfig (PidMode, IpcMode, UTSMode, CgroupnsMode). */
export function modeText(mode: PidMode | IpcMode | UtsMode | CgroupnsMode | undefined, fallback: string): string {
  if (mode === undefined) return fallback;
  return mode.mode === 'container' ? `container:${mode.container}` : mode.mode;
}

function drop(spec: RuntimeSpec, type: NamespaceType): void {
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== type);
}

/**
 * Apply the modes to a new container's spec. `resolve` turns a container name into its id (the
 * annotation keeps the id: a rename does not break the join). `hostnameGiven`: `-h` was given.
 */
export async function applyNamespaces(
  spec: RuntimeSpec,
  opts: NamespaceOptions,
  resolve: (idOrName: string) => Promise<string>,
  hostnameGiven: boolean,
): Promise<void> {
  spec.annotations ??= {};
  const pid = opts.pid ?? { mode: 'private' };
  if (pid.mode === 'host') drop(spec, 'pid');
  else if (pid.mode === 'container') spec.annotations[ANNOTATION_JOIN('pid')] = await resolve(pid.container);

  const ipc = opts.ipc ?? { mode: 'private' };
  const shm = spec.mounts.findIndex((m) => m.destination === '/dev/shm');
  if (ipc.mode === 'host') {
    drop(spec, 'ipc');
    if (shm >= 0) spec.mounts[shm] = { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] };
  } else if (ipc.mode === 'none') {
    if (shm >= 0) spec.mounts.splice(shm, 1);
  } else if (ipc.mode === 'container') {
    spec.annotations[ANNOTATION_JOIN('ipc')] = await resolve(ipc.container);
  } else if (ipc.mode === 'shareable') {
    spec.annotations[ANNOTATION_IPC_SHAREABLE] = 'true';
  }

  if (opts.uts?.mode === 'host') {
    if (hostnameGiven) throw new UsageError('conflicting options: hostname and the UTS mode');
    drop(spec, 'uts');
    delete spec.hostname;
  } else if (opts.uts?.mode === 'container') {
    // The joined namespace's name is not set again (a joined namespace is never sethostname'd: plan.ts);
    // spec.hostname stays for /etc/hostname and $HOSTNAME, which the caller makes the donor's.
    spec.annotations[ANNOTATION_JOIN('uts')] = await resolve(opts.uts.container);
  }
  if (opts.cgroupns?.mode === 'host') drop(spec, 'cgroup');
}

/** At start of a `--ipc shareable` container: its /dev/shm is `source` (a host-side tmpfs, shm.ts). */
export function useSharedShm(spec: RuntimeSpec, source: string): void {
  const bind = { destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] };
  const shm = spec.mounts.findIndex((m) => m.destination === '/dev/shm');
  if (shm >= 0) spec.mounts[shm] = bind;
  else spec.mounts.push(bind);
}

/**
 * At start: the namespaces of other containers the spec joins, as the files of their running
 * first process (/proc/PID/ns/…), and the donor's /dev/shm for IPC. The spec is changed in memory
 * for this start only. `lookup` reads a container's record by id.
 */
export function joinContainers(spec: RuntimeSpec, lookup: (id: string) => ContainerRecord | undefined, shmOf: (id: string) => string): void {
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const id = spec.annotations?.[ANNOTATION_JOIN(type)];
    if (id === undefined) continue;
    const donor = lookup(id);
    const pid = donor?.state.status === 'running' ? donor.state.pid : undefined;
    if (pid === undefined) throw new ConflictError(`cannot join ${type.toUpperCase()} of a non running container: ${id}`);
    const ns = spec.linux.namespaces.find((n) => n.type === type);
    const file = `/proc/${pid}/ns/${type}`;
    if (ns) ns.path = file;
    else spec.linux.namespaces.push({ type, path: file });
    if (type === 'ipc') {
      if (donor?.ipcShareable !== true) throw new ConflictError('non-shareable IPC (hint: use --ipc shareable for the donor container)');
      const shm = spec.mounts.findIndex((m) => m.destination === '/dev/shm');
      const bind = { destination: '/dev/shm', type: 'bind', source: shmOf(id), options: ['rbind', 'rprivate'] };
      if (shm >= 0) spec.mounts[shm] = bind;
      else spec.mounts.push(bind);
    }
  }
}

/** The namespaces a process joining a container enters (exec, a hook in the container), in the order it joins them: a new user namespace first. */
export function namespacesToJoin(spec: RuntimeSpec): string[] {
  return [...(hasUserns(spec) ? ['user'] : []), 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'];
}

/**
 * fds of the namespaces `names` of `pid`. With `check`, they name the container's only if the pid
 * was still the process started at `check.startTime` after they were opened: undefined (and none
 * left open) when not.
 */
export function openNamespaces(pid: number, names: readonly string[]): number[];
export function openNamespaces(pid: number, names: readonly string[], check: { startTime: number | undefined }): number[] | undefined;
export function openNamespaces(pid: number, names: readonly string[], check?: { startTime: number | undefined }): number[] | undefined {
  const fds: number[] = [];
  try {
    for (const ns of names) {
      const file = `/proc/${pid}/ns/${ns}`;
      try {
        fds.push(openSync(file, 'r'));
      } catch (err) {
        throw fromNodeError(err, 'open', file);
      }
    }
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    throw err;
  }
  if (check !== undefined && !isSameProcess(pid, check.startTime)) {
    for (const fd of fds) closeSync(fd);
    return undefined;
  }
  return fds;
}
