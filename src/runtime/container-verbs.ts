/**
 * The smaller verbs on one container: inspect, logs, cp, update, pause/unpause, rename, rm.
 */
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { DirectoryChanges } from '../directory-changes.js';
import { containerEvent, writeMonitorEvents } from '../events/emit.js';
import path from 'node:path';
import { ContainerNotFoundError, UsageError } from '../errors.js';
import { sys } from '../native/index.js';
import { withLock } from './lock.js';
import { finishRemoval } from './removal.js';
import { inspectContainer } from '../present/containers.js';
import { type LogEntry, type LogSelection, readLog } from './logs.js';
import { crashPoint } from './crash-point.js';
import { ContainerCgroup, cgroupHost } from './cgroups.js';
import { checkControllers } from './cgroups/index.js';
import { mergeResources } from './cgroups/resources.js';
import type { SpecResources } from './spec.js';
import { type ContainerRecord } from './container-store.js';
import type { RuntimeSpec } from './spec.js';
import { validateContainerName } from './validate.js';
import { openProcess } from './liveness.js';
import { inContainerRoot } from './container-root.js';

import { recordChange, settled } from './stop.js';
import type { Runtime } from './runtime.js';
import { mayAct, statusOfRecord } from './states.js';

/** Docker's `inspect` shape of the container. */
export async function inspect(rt: Runtime, idOrName: string): Promise<Record<string, unknown>> {
  const record = await rt.get(idOrName);
  let spec: RuntimeSpec | undefined;
  try {
    spec = JSON.parse(readFileSync(path.join(rt.containers.dir(record.id), 'config.json'), 'utf8')) as RuntimeSpec;
  } catch {
    spec = undefined; // removed meanwhile: the record alone
  }
  const paused = record.state.status === 'running' && (rt.existingCgroup(record)?.frozen() ?? false);
  const out = inspectContainer(record, spec, {
    logPath: rt.containers.logPath(record.id),
    runDir: rt.containers.runDir(record.id),
    cgroupPath: record.cgroupParent,
    paused,
  });
  return { ...out, ...rt.network.inspectFields(record, out.HostConfig) };
}

/** The log's entries, in batches (one block read each); with `follow`, new ones until the container has ended (or `signal` aborts: a reader that went away). */
export async function* logs(
  rt: Runtime,
  idOrName: string,
  opts: LogSelection & { follow?: boolean; fromOffset?: number; signal?: AbortSignal } = {},
): AsyncGenerator<LogEntry[]> {
  const record = await rt.get(idOrName);
  if (record.logDriver === 'none') throw new UsageError('configured logging driver does not support reading');
  const file = rt.containers.logPath(record.id);
  // A follower wakes when the log's directory changes (a write, a rotation: inotify), not on a
  // timer: one that slept through more rotations than there are files would lose their lines.
  const growth = opts.follow ? new DirectoryChanges(path.dirname(file)) : undefined;
  try {
    yield* readLog(file, {
      ...opts,
      follow: opts.follow ?? false,
      waitForMore: async () => {
        if (opts.signal?.aborted) return true;
        const stop = new AbortController();
        const onAbort = () => stop.abort();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          const gone = new Promise<boolean>((resolve) => stop.signal.addEventListener('abort', () => resolve(true), { once: true }));
          return await Promise.race([waitForChange(rt, record.id, 1000, stop.signal), growth!.next().then(() => false), gone]);
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
          stop.abort();
        }
      },
    });
  } finally {
    growth?.close();
  }
}

/**
 * For followers: waits up to `ms` for the container to end; true once it has ended and its
 * monitor has written everything down, false while it runs (or restarts).
 */
export async function waitForChange(rt: Runtime, id: string, ms: number, signal?: AbortSignal): Promise<boolean> {
  const record = rt.containers.read(id);
  if (!record) return true;
  const s = record.state;
  if (s.status === 'running') {
    const fd = await openProcess(s.pid, s.pidStartTime);
    if (fd !== undefined) {
      try {
        if (!(await sys.pidfdWait(fd, ms, signal))) return false;
      } finally {
        closeSync(fd);
      }
    }
  } else if (s.status === 'restarting') {
    await recordChange(rt, id, ms); // its monitor starts it again: its status file changes
    return false;
  }
  await settled(rt, record).catch(() => undefined);
  const now = rt.containers.read(id);
  return !now || (now.state.status !== 'running' && now.state.status !== 'restarting');
}

/**
 * `cp`: between the host and a container's root, in any state but restarting (container-root.ts),
 * every container path resolved inside it (openat2 RESOLVE_IN_ROOT). `direction` says which side
 * `containerPath` is on.
 */
export async function copy(
  rt: Runtime,
  idOrName: string,
  direction: 'from' | 'to',
  containerPath: string,
  hostPath: string,
  opts: { followLink?: boolean } = {},
): Promise<void> {
  const { copyFromContainer, copyToContainer } = await import('./copy.js');
  await rt.locked(idOrName, (record) =>
    inContainerRoot(rt, record, idOrName, async ({ root, checkWritable }) => {
      const how = { container: idOrName, followLink: opts.followLink ?? false };
      if (direction === 'from') await copyFromContainer(root, containerPath, hostPath, how);
      else await copyToContainer(hostPath, root, containerPath, { ...how, checkWritable });
    }),
  );
}

/**
 * `update`: new limits over the container's, written into its cgroup when it runs and into its
 * config.json for its next start.
 */
export async function update(rt: Runtime, idOrName: string, changes: SpecResources): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    mayAct('update', statusOfRecord(record), idOrName);
    const specPath = path.join(rt.containers.dir(record.id), 'config.json');
    const spec = JSON.parse(readFileSync(specPath, 'utf8')) as RuntimeSpec;
    const resources = mergeResources(spec.linux.resources, changes);
    const host = cgroupHost();
    checkControllers(resources, host.root, host.mode);
    if (record.state.status === 'running' && host.root !== undefined) {
      ContainerCgroup.existing(host.root, record.id, record.cgroupParent)?.applyResources(host.root, record.cgroupParent, changedOnly(resources, changes));
    }
    spec.linux.resources = resources;
    rt.containers.saveSpec(record.id, spec);
  });
}

/** The cgroup directory of a running container (for stats and top). */
export async function cgroupDir(rt: Runtime, idOrName: string): Promise<{ record: ContainerRecord; dir: string }> {
  const record = await rt.get(idOrName);
  mayAct('top', statusOfRecord(record), idOrName);
  const cgroup = await rt.runningCgroup(record, idOrName);
  return { record, dir: cgroup.path };
}

/** `pause`: freeze every process of a running container (cgroup.freeze). */
export async function pause(rt: Runtime, idOrName: string): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    mayAct('pause', statusOfRecord(record), idOrName);
    await (await rt.runningCgroup(record, idOrName)).setFrozen(true);
    containerEvent(rt.paths.runRoot, record, 'pause');
  });
}

/** `unpause`: thaw a paused container. */
export async function unpause(rt: Runtime, idOrName: string): Promise<void> {
  await rt.locked(idOrName, async (record) => {
    mayAct('unpause', statusOfRecord(record), idOrName);
    await (await rt.runningCgroup(record, idOrName)).setFrozen(false);
    containerEvent(rt.paths.runRoot, record, 'unpause');
  });
}

export async function rename(rt: Runtime, idOrName: string, newName: string): Promise<void> {
  validateContainerName(newName);
  await rt.locked(idOrName, async (record) => {
    mayAct('rename', statusOfRecord(record), idOrName);
    const oldName = record.name;
    await rt.containers.rename(record, newName);
    // A detached container's monitor logs its start and die with the name in this file.
    if (existsSync(rt.containers.eventLinesPath(record.id))) writeMonitorEvents(rt.containers.eventLinesPath(record.id), record);
    containerEvent(rt.paths.runRoot, record, 'rename', { oldName });
  });
}

/**
 * Remove a container, with whatever a killed hull or monitor left of it (its cgroup). A running
 * one only with `force` (killed first, as Docker's rm -f).
 */
export async function remove(rt: Runtime, idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const id = await rt.containers.resolveId(idOrName);
  await withLock(rt.containers.lockPath(id), idOrName, async () => {
    const record = rt.containers.read(id);
    if (!record) throw new ContainerNotFoundError(idOrName);
    crashPoint('rm: locked');
    if (record.state.status !== 'removing') {
      mayAct(opts.force ? 'forceRemove' : 'remove', statusOfRecord(record), idOrName);
      // The tombstone first: from here on, whoever meets the container finishes the removal.
      rt.containers.markRemoving(record, opts.volumes ?? false);
      crashPoint('rm: tombstone written');
    }
    await finishRemoval(rt, record);
  });
}

/** The merged resources, limited to the controllers `changes` touches (the others stay as they are). */
function changedOnly(merged: SpecResources, changes: SpecResources): SpecResources {
  const out: SpecResources = {};
  if (changes.memory) out.memory = merged.memory;
  if (changes.cpu) out.cpu = merged.cpu;
  if (changes.pids) out.pids = merged.pids;
  if (changes.blockIO) out.blockIO = merged.blockIO;
  return out;
}
