/**
 * Creating a container: image + typed options → its record and runtime-spec bundle, under the store's and the volumes' shared locks.
 */
import { ANNOTATION_IPC_SHAREABLE, ANNOTATION_JOIN, type NamespaceOptions, applyNamespaces } from './namespaces.js';
import path from 'node:path';
import { ContainerNotFoundError, ImageNotFoundError, UsageError, fromNodeError } from '../errors.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import { initPath } from '../native/index.js';
import type { RestartPolicy } from './plan-codec.js';
import type { CreateOptions, CreatedContainer, LogConfig } from './create-options.js';
import { crashPoint } from './crash-point.js';
import type { ResolvedImage } from '../store/image-store.js';
import { HULL_CGROUP_PARENT, cgroupHost } from './cgroups.js';
import { checkControllers, requiredControllers } from './cgroups/index.js';
import { completeResources } from './cgroups/resources.js';
import { type ContainerRecord, newContainerId } from './container-store.js';
import { readImageFile } from './image-files.js';
import { type RootfsLayers } from './plan.js';
import type { RuntimeSpec } from './spec.js';
import { buildSpec } from './specconv.js';
import { resolveUser } from './user.js';
import { applySecurity } from './security.js';
import { applyUserns } from './userns.js';
import { ensureInitLayer } from './init-layer.js';
import { validateCreateOptions } from './validate.js';
import { checkSysctls } from './sysctls.js';
import { rlimitsOf } from './ulimits.js';
import { trace } from '../trace.js';
import { containerEvent } from '../events/emit.js';
import { type ResolvedMounts, mergeMounts } from '../volume/resolve.js';

import type { ContainerNetworkConfig, LinkedContainer } from '../network/manager.js';

import type { Runtime } from './runtime.js';
import { mergeHealthcheck } from './health.js';

export type { CreateOptions, CreatedContainer, LogConfig } from './create-options.js';

/** Where `--init` binds hull-init in the container (on its /dev tmpfs: nothing is made in the image). */
export const INIT_PATH_IN_CONTAINER = '/dev/init';

/** Set on specs made by `create`: make the working directory if the image lacks it, as Docker does. */
export const ANNOTATION_CREATE_WORKDIR = 'io.hull.workdir.create';

/** What `create` decided before the record is written. */
interface NewContainer {
  id: string;
  image: ResolvedImage;
  spec: RuntimeSpec;
  rootfs: RootfsLayers;
  mounts: ResolvedMounts | undefined;
  network: ContainerNetworkConfig;
  restartPolicy: RestartPolicy;
}

/** `--link`s: each container as it is now (one that does not exist is Docker's error: nothing is made). */
async function linkedContainers(rt: Runtime, links: { container: string; alias: string }[]): Promise<LinkedContainer[]> {
  const out: LinkedContainer[] = [];
  for (const link of links) {
    try {
      const record = await rt.containers.get(link.container);
      out.push({ id: record.id, name: record.name, alias: link.alias });
    } catch (err) {
      if (err instanceof ContainerNotFoundError) throw new UsageError(`could not get container for ${link.container}: No such container: ${link.container}`);
      throw err;
    }
  }
  return out;
}

/** A new container (state created) from its typed options, and Docker's warnings about them. */
export async function create(rt: Runtime, opts: CreateOptions): Promise<CreatedContainer> {
  validateCreateOptions(opts); // before any lock, image or file: a bad name, hostname, path or typed value makes nothing
  // The store's shared lock from resolving the image until the record is written, so no rmi
  // or prune can delete the image's layers in between (they take it exclusively).
  const lock = await rt.images.lock('shared');
  // Volumes too: none chosen here can be removed before the record that uses it is written.
  const volumeLock = await rt.volumes.store.lock('shared').catch((err: unknown) => {
    lock.release();
    throw err;
  });
  try {
    return await createLocked(rt, opts);
  } finally {
    volumeLock.release();
    lock.release();
  }
}

export async function createLocked(rt: Runtime, opts: CreateOptions): Promise<CreatedContainer> {
  trace('create');
  // Limits this host cannot give fail here, before anything is made.
  const resources = completeResources(opts.resources && structuredClone(opts.resources));
  if (requiredControllers(resources).size > 0) {
    const host = cgroupHost();
    checkControllers(resources, host.root, host.mode);
  }
  const image = opts.resolvedImage ?? (await rt.images.resolve(opts.image));
  trace('image resolved');
  if (
    opts.platform &&
    !platformMatches(opts.platform, {
      os: image.config.os,
      architecture: image.config.architecture,
      ...(image.config.variant ? { variant: image.config.variant } : {}),
    })
  ) {
    // Docker's daemon: a NotFound, so that the pull policy fetches the platform's image.
    const actual = formatPlatform({
      os: image.config.os,
      architecture: image.config.architecture,
      ...(image.config.variant ? { variant: image.config.variant } : {}),
    });
    throw new ImageNotFoundError(
      opts.image,
      `image with reference ${opts.image} was found but does not match the specified platform: wanted ${formatPlatform(opts.platform)}, actual: ${actual}`,
    );
  }
  const restartPolicy: RestartPolicy = { ...(opts.restartPolicy ?? { name: 'no', maximumRetryCount: 0 }) };
  if (restartPolicy.name !== 'no' && opts.remove) throw new UsageError('conflicting options: cannot specify both --restart and --rm');
  const id = newContainerId();
  const hostname = opts.hostname ?? id.slice(0, 12);
  const lowestFirst = image.layerLinks;
  const passwd = readImageFile(image.layerDirs, '/etc/passwd');
  const group = readImageFile(image.layerDirs, '/etc/group');
  trace('passwd/group read');
  const user = resolveUser(opts.user ?? image.config.config?.User ?? '', passwd, group, opts.groupAdd);
  const dir = rt.containers.dir(id);
  const rootfs: RootfsLayers = {
    lower: [ensureInitLayer(rt.paths), ...[...lowestFirst].reverse()],
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
  };
  const warnings: string[] = [];
  if (resources?.memory?.swappiness !== undefined) {
    // As Docker on cgroup v2: the kernel has no swappiness there.
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    delete resources.memory.swappiness;
  }
  const spec = buildSpec({
    ...opts,
    image: image.config,
    user,
    hostname,
    rootfsPath: path.join(rt.containers.runDir(id), 'rootfs'),
    resources,
    annotations: { ...opts.annotations, 'io.hull.image': opts.image, 'io.hull.image.id': image.id, [ANNOTATION_CREATE_WORKDIR]: 'true' },
  });
  applyProcessLimits(spec, opts);
  const joined =
    opts.network?.mode === 'container' ? { mode: 'container' as const, container: await rt.containers.resolveId(opts.network.container) } : opts.network;
  const links = await linkedContainers(rt, opts.links ?? []);
  const { config: network, warnings: networkWarnings } = rt.network.containerConfig(
    { ...opts, network: joined },
    Object.keys(image.config.config?.ExposedPorts ?? {}),
    links,
  );
  warnings.push(...networkWarnings);
  rt.network.adjustSpec(network, spec, opts.hostname !== undefined);
  const resolve = (idOrName: string) => rt.containers.resolveId(idOrName);
  await applyNamespaces(spec, opts, resolve, opts.hostname !== undefined);
  applySecurity(spec, opts);
  applyUserns(spec, opts);
  if (spec.linux.namespaces.some((n) => n.type === 'user') && network.mode !== 'none' && network.mode !== 'host') {
    // The container's network namespace is made (and owned) by the host's user namespace
    // before the clone; a process already in a new user namespace may not join it.
    throw new UsageError(
      `user-namespace remapping needs --network none or --network host: the ${network.mode} network cannot be joined from a remapped container yet`,
    );
  }
  checkSysctls(spec); // the namespaces are decided: a sysctl they do not cover makes nothing
  if (opts.oomScoreAdj !== undefined && opts.oomScoreAdj < 0 && spec.linux.namespaces.some((n) => n.type === 'user')) {
    // The plan writes it from inside, where a new user namespace gives no right to lower it (plan.ts).
    throw new UsageError('--oom-score-adj below 0 cannot be set in a remapped user namespace yet');
  }
  if (opts.init) {
    spec.process.args = [INIT_PATH_IN_CONTAINER, '--', ...spec.process.args];
    spec.mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: initPath(), options: ['bind', 'ro', 'nosuid', 'nodev'] });
  }
  const mounts = await rt.volumes.resolve({
    mounts: opts.mounts,
    volumesFrom: opts.volumesFrom,
    imageConfig: opts.skipImageVolumes ? undefined : image.config.config,
  });
  if (mounts) {
    spec.mounts = mergeMounts(spec.mounts, mounts.specMounts);
    if (mounts.rootfsPropagation) spec.linux.rootfsPropagation = mounts.rootfsPropagation;
  }
  // The container's lock is held from before its name is reserved until its record is written:
  // a name over no record is then a create in progress, or (lock free) a killed one's leftover.
  const creating = await rt.containers.prepare(id);
  try {
    const record = await writeRecord(rt, opts, { id, image, spec, rootfs, mounts, network, restartPolicy });
    containerEvent(rt.paths.runRoot, record, 'create');
    return { record, warnings };
  } finally {
    creating.release();
  }
}

export async function writeRecord(rt: Runtime, opts: CreateOptions, made: NewContainer): Promise<ContainerRecord> {
  const { id, image, spec, rootfs, mounts, network, restartPolicy } = made;
  const dir = rt.containers.dir(id);
  const name = await rt.containers.reserveName(id, opts.name).catch(async (err: unknown) => {
    await rt.containers.dropLeftovers(id);
    rt.volumes.discard(mounts);
    throw err;
  });
  crashPoint('create: name reserved');
  trace('name reserved');
  const record: ContainerRecord = {
    id,
    name,
    image: opts.image,
    imageId: image.id,
    created: new Date().toISOString(),
    command: opts.init ? spec.process.args.slice(2) : spec.process.args,
    rootfs,
    autoRemove: opts.remove ?? false,
    cgroupParent: opts.cgroupParent ?? HULL_CGROUP_PARENT,
    state: { status: 'created' },
    restartPolicy,
    tty: opts.tty ?? false,
    openStdin: opts.openStdin ?? false,
    ...(opts.init ? { init: true } : {}),
    ...logConfigOf(opts.log),
    ...(opts.log?.driver === 'local' || opts.log?.driver === 'none' ? { logDriver: opts.log.driver } : {}),
    ...namespacesOfRecord(spec, opts),
    ...(mounts
      ? {
          mounts: mounts.mountPoints,
          binds: mounts.binds,
          tmpfs: mounts.tmpfs,
          volumesFrom: (opts.volumesFrom ?? []).map((v) => `${v.container}${v.readonly === undefined ? '' : v.readonly ? ':ro' : ':rw'}`),
        }
      : {}),
    network,
  };
  const imageCfg = image.config.config ?? {};
  record.entrypoint = opts.entrypoint !== undefined ? (opts.entrypoint.length === 0 ? null : [...opts.entrypoint]) : (imageCfg.Entrypoint ?? null);
  record.cmd = opts.cmd !== undefined && opts.cmd.length > 0 ? opts.cmd : opts.entrypoint !== undefined ? null : (imageCfg.Cmd ?? null);
  const stopSignal = opts.stopSignal ?? imageCfg.StopSignal;
  if (stopSignal) record.stopSignal = stopSignal;
  if (opts.stopTimeout !== undefined) record.stopTimeout = opts.stopTimeout;
  const labels = { ...imageCfg.Labels, ...opts.labels };
  if (Object.keys(labels).length > 0) record.labels = labels;
  if (opts.shmSize !== undefined) record.shmSize = opts.shmSize;
  const healthcheck = mergeHealthcheck(opts.healthcheck, imageCfg.Healthcheck);
  if (healthcheck) record.healthcheck = healthcheck;
  if (imageCfg.Shell?.length) record.shell = imageCfg.Shell;
  if (opts.annotations && Object.keys(opts.annotations).length > 0) record.annotations = { ...opts.annotations };
  if (opts.attach) record.attach = { ...opts.attach };
  if (opts.detachKeys && opts.detachKeys.length > 0) record.detachKeys = [...opts.detachKeys];
  if (opts.pod !== undefined) record.pod = opts.pod;
  if (opts.deviceCgroupRules?.length) {
    const n = (v: number | undefined) => (v === undefined || v < 0 ? '*' : String(v));
    record.deviceCgroupRules = opts.deviceCgroupRules.map((r) => `${r.type ?? 'a'} ${n(r.major)}:${n(r.minor)} ${r.access ?? 'rwm'}`);
  }
  try {
    await rt.containers.create(record, spec);
    trace('container dirs and bundle written');
    if (mounts) await rt.volumes.populate(mounts, rootfs.lower);
  } catch (err) {
    await rt.containers.remove(record);
    rt.volumes.discard(mounts);
    throw fromNodeError(err, 'create container', dir);
  }
  return record;
}

/** --ulimit, --oom-score-adj, --shm-size, --sysctl, --domainname: the spec's process limits and the kernel's settings. */
function applyProcessLimits(spec: RuntimeSpec, opts: CreateOptions): void {
  if (opts.ulimits?.length) spec.process.rlimits = rlimitsOf(opts.ulimits);
  if (opts.oomScoreAdj !== undefined) spec.process.oomScoreAdj = opts.oomScoreAdj;
  if (opts.shmSize !== undefined && opts.shmSize > 0) {
    const shm = spec.mounts.find((m) => m.destination === '/dev/shm');
    if (shm) shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith('size=')), `size=${opts.shmSize}`];
  }
  if (opts.sysctls && Object.keys(opts.sysctls).length > 0) spec.linux.sysctl = { ...opts.sysctls };
  if (opts.domainname) spec.domainname = opts.domainname;
}

/** The record's namespace modes (another container's by its id) and whether its IPC may be joined. */
function namespacesOfRecord(spec: RuntimeSpec, opts: CreateOptions): Pick<ContainerRecord, 'namespaces' | 'ipcShareable'> {
  const namespaces: NamespaceOptions = {};
  const joined = (type: 'pid' | 'ipc' | 'uts') => spec.annotations?.[ANNOTATION_JOIN(type)];
  if (opts.pid) namespaces.pid = opts.pid.mode === 'container' ? { mode: 'container', container: joined('pid') ?? opts.pid.container } : opts.pid;
  if (opts.ipc) namespaces.ipc = opts.ipc.mode === 'container' ? { mode: 'container', container: joined('ipc') ?? opts.ipc.container } : opts.ipc;
  if (opts.uts) namespaces.uts = opts.uts.mode === 'container' ? { mode: 'container', container: joined('uts') ?? opts.uts.container } : opts.uts;
  if (opts.cgroupns) namespaces.cgroupns = opts.cgroupns;
  return {
    ...(Object.keys(namespaces).length > 0 ? { namespaces } : {}),
    ...(spec.annotations?.[ANNOTATION_IPC_SHAREABLE] === 'true' ? { ipcShareable: true } : {}),
  };
}

/**
 * The record's logConfig: the values the monitor rotates by, and the options as inspect shows them
 * (Docker's LogConfig.Config: sizes in the largest of k, m, g that is exact). None when nothing was set.
 */
function logConfigOf(log: LogConfig | undefined): Pick<ContainerRecord, 'logConfig'> {
  if (log?.maxSize === undefined && log?.maxFile === undefined) return {};
  const opts = [
    ...(log.maxSize !== undefined ? [`max-size=${formatSize(log.maxSize)}`] : []),
    ...(log.maxFile !== undefined ? [`max-file=${log.maxFile}`] : []),
  ];
  return { logConfig: { maxSize: log.maxSize ?? 0, maxFile: log.maxFile ?? 1, opts } };
}

function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
