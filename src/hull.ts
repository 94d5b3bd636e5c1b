/**
 * The library's front door: everything the CLI does, typed. `new Hull().run({ image, cmd })`.
 * Options are typed values (CreateOptions; src/options/ parses Docker's flag syntax into them),
 * and nothing here prints: warnings are returned to the caller.
 */
import type { EventReadOptions } from './events/follow.js';
import type { EventMessage } from './events/log.js';
import { containerEvent, objectEvent } from './events/emit.js';
import { familiar } from './image/reference.js';
import type { Attachment } from './runtime/monitor-client.js';
import type { Readable, Writable } from 'node:stream';
import type { CommitOptions, ImportOptions } from './build/commit.js';
import type { Change } from './runtime/container-fs.js';
import { NO_PRUNE_FILTERS, type PruneFilters, prunable } from './filters/prune.js';
import { type ContainerWorld, type PsSelection, selectContainers } from './filters/containers.js';
import { healthStatusOf } from './runtime/health.js';
import { type ImageFilters, selectImages } from './filters/images.js';
import { type NetworkFilters, type VolumeFilters, parseNetworkFilters, selectNetworks, selectVolumes } from './filters/resources.js';
import { normalize, parseReference } from './image/reference.js';
import type { SaveFormat } from './image/archive/save.js';
import type { CheckProblem, CheckResult } from './store/check.js';
import type { ContainerCheckResult, ContainerProblem } from './runtime/check.js';
import { ImageStore, type PruneResult, type RemoveResult, type ResolvedImage } from './store/image-store.js';
import {
  type DiskUsage,
  type HistoryEntry,
  type ImageInspect,
  type ImageSummary,
  type UsageFigures,
  diskUsage,
  imageHistory,
  imageInspect,
  imageSummaries,
} from './present/images.js';
import { type StorePaths, storePaths } from './store/paths.js';
import { ConflictError, HullError, ImageNotFoundError, UsageError } from './errors.js';
import type { Credentials, PullEvent, PullOptions, PullResult, PushOptions, PushResult, RegistrySettings } from './registry/index.js';
import { type ContainerRecord, containerLabels } from './runtime/container-store.js';
import {
  type CreateOptions,
  type CreatedContainer,
  type ExecOptions,
  type ExecProcess,
  type RunningContainer,
  Runtime,
  type StartOptions,
} from './runtime/runtime.js';
import { validateCreateOptions } from './runtime/validate.js';
import type { LogEntry, LogSelection } from './runtime/logs.js';
import type { SpecResources } from './runtime/spec.js';
import { type CgroupSample, cgroupPids, cpuPercent, sampleCgroup } from './runtime/stats.js';
import { totalmem } from 'node:os';
import type { BuildRequest, BuildResult } from './build/index.js';
import { BuildCache } from './build/cache.js';
import type { VolumeRecord } from './volume/store.js';
import type { NetworkRecord } from './network/store.js';
import type { NetworkCreateOptions } from './network/bridges.js';
import type { PortMapping } from './network/nft.js';
import type { PodContainerStats, PodSummary, Pods } from './pods/pods.js';
import type { PodCreateOptions } from './pods/options.js';
import type { PodRecord } from './pods/pod-store.js';
import type { ProcessTable } from './present/processes.js';

/** `system check`'s findings: the image store's and the containers'. */
export interface StoreCheckResult {
  readonly problems: (CheckProblem | ContainerProblem)[];
  readonly checked: CheckResult['checked'] & ContainerCheckResult['checked'];
  /** tmp/ leftovers of dead processes that were removed. */
  readonly cleaned: number;
}

export interface ContainerStats extends CgroupSample {
  id: string;
  name: string;
  cpuPercent: number;
}

export interface HullOptions {
  /** Persistent state (images, layers, containers). Default /var/lib/hull. */
  root?: string;
  /** Per-boot state (container root mounts, generated /etc files). Default /run/hull. */
  runRoot?: string;
  /** Registry settings over those from the environment (see src/registry/settings.ts). */
  registry?: Partial<RegistrySettings>;
}

/** Where `run`/`create` get an image that is not stored: Docker's --pull. */
export type PullPolicy = 'missing' | 'always' | 'never';

export interface ImageSourceOptions {
  /** Default 'missing': pull the image when it is not in the store. */
  pull?: PullPolicy;
  /** Progress of that pull. */
  onPullProgress?: (event: PullEvent) => void;
}

export interface RunOptions extends CreateOptions, StartOptions, ImageSourceOptions {}

export interface RunResult {
  id: string;
  name: string;
  exitCode: number;
  /** Docker's warnings about the options (e.g. published ports discarded under the host network). */
  warnings: string[];
  /** Collected output, when stdout/stderr were 'pipe'. */
  stdout?: Buffer;
  stderr?: Buffer;
}

async function collect(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A network as `network ls` lists it: a stored one, or Docker's pre-defined `host` and `none` (no id, never stored). */
export type ListedNetwork = Pick<NetworkRecord, 'id' | 'name' | 'created' | 'labels'> & { driver: string; subnet?: string; bridge?: string };

export class Hull {
  readonly paths: StorePaths;
  readonly images: ImageStore;
  readonly runtime: Runtime;

  private readonly registryOverrides: Partial<RegistrySettings>;
  private readonly buildCache: BuildCache;
  private podsCache: Pods | undefined;

  constructor(opts: HullOptions = {}) {
    this.registryOverrides = opts.registry ?? {};
    this.paths = storePaths(opts.root, opts.runRoot);
    this.images = new ImageStore(this.paths);
    // The build cache's layers are roots of the store's garbage collection (the store does not import the builder).
    this.buildCache = new BuildCache(this.paths);
    this.images.registerRoots(this.buildCache);
    this.runtime = new Runtime(this.paths, this.images);
  }

  /** Load an OCI image layout (directory or tar) or a `docker save` archive (path or stream). */
  load(source: string | Readable): Promise<ResolvedImage[]> {
    return this.images.load(source);
  }

  /** `images`: every stored image, newest first. */
  async listImages(): Promise<ImageSummary[]> {
    return imageSummaries(await this.images.list());
  }

  /** Name an image: `tag('busybox', 'me/box:1')`. */
  tag(source: string, target: string): Promise<void> {
    return this.images.tag(source, target);
  }

  /** Docker's `image inspect` shape for one image. */
  async inspectImage(refOrId: string): Promise<ImageInspect> {
    return imageInspect(await this.images.describe(refOrId));
  }

  /** `history`: the image's steps, newest first, with the size of each one's layer. */
  async imageHistory(refOrId: string): Promise<HistoryEntry[]> {
    return imageHistory(await this.images.describe(refOrId));
  }

  /** `rmi`: untag, and delete the image with the layers only it used (see ImageStore.remove). */
  removeImage(refOrId: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
    return this.images.remove(refOrId, options);
  }

  /**
   * `image prune`: dangling images (or with `all` every image no container uses), then garbage;
   * with `filters` (`until`, `label`, `label!`: src/filters/prune.ts) only the images they match;
   * `dangling=false` among them is `all`, as Docker's.
   */
  pruneImages(options: { all?: boolean; filters?: PruneFilters } = {}): Promise<PruneResult> {
    const { filters, ...rest } = options;
    if (filters?.dangling === false) rest.all = true;
    return this.images.prune(filters ? { ...rest, filter: (image) => prunable(filters, image.created, image.labels) } : rest);
  }

  /** `images --filter` (src/filters/images.ts): the images kept, each with only the names the filters keep. */
  async selectImages(filters: ImageFilters): Promise<ImageSummary[]> {
    const list = await this.listImages();
    if (filters.labels.length === 0) return selectImages(list, filters);
    const labelled = await Promise.all(
      list.map(async (i) => {
        const config = (await this.images.describe(i.id)).config.config as { Labels?: Record<string, string> | null } | undefined;
        return { ...i, labels: config?.Labels ?? {} };
      }),
    );
    return selectImages(labelled, filters).map(({ labels: _labels, ...i }) => i);
  }

  /**
   * `container prune`: removes every container that is not running (created or exited, as
   * Docker's), created before `filters.untilMs` when given; returns their ids and the bytes of
   * their writable layers; with label filters, on the container's labels (the image's with `-l` over them).
   */
  async pruneContainers(filters: PruneFilters = NO_PRUNE_FILTERS): Promise<{ containers: string[]; reclaimed: number }> {
    const { treeSize } = await import('./volume/store.js');
    const containers: string[] = [];
    let reclaimed = 0;
    for (const c of await this.listContainers()) {
      if (c.state.status !== 'exited' && c.state.status !== 'created') continue;
      if (!prunable(filters, c.created, containerLabels(c))) continue;
      const size = treeSize(c.rootfs.upper);
      try {
        await this.removeContainer(c.id);
        containers.push(c.id);
        reclaimed += size;
      } catch (err) {
        if (!(err instanceof HullError)) throw err; // removed meanwhile, or running again
      }
    }
    return { containers, reclaimed };
  }

  /**
   * `system prune`: stopped containers (as `pruneContainers`), unused networks, the build cache, then as `pruneImages`;
   * with `filters` (`until`, `label`, `label!`) only what they keep of each, and the build cache (whose entries have
   * no labels or times a filter could match) stays.
   */
  async pruneSystem(
    options: { all?: boolean; filters?: PruneFilters } = {},
  ): Promise<PruneResult & { containers: string[]; networks: string[]; buildCache: number }> {
    const { filters, ...rest } = options;
    const { containers } = await this.pruneContainers(filters);
    // As `docker system prune`: networks no container uses, and the build cache (its layers
    // are then garbage).
    const networks = await this.pruneNetworks(filters);
    const buildCache = filters ? 0 : this.buildCache.clear();
    return { ...(await this.pruneImages({ ...rest, ...(filters ? { filters } : {}) })), containers, networks, buildCache };
  }

  /** `build`: a Dockerfile and its context to an image in the store (src/build/). */
  async build(request: BuildRequest): Promise<BuildResult> {
    const { buildImage } = await import('./build/index.js');
    const progress = request.onPullProgress ? { onProgress: request.onPullProgress } : {};
    const { registryCredentials, ...rest } = request;
    return buildImage(this.paths, this.images, this.runtime, {
      ...rest,
      pullImage: async (reference) => {
        const credentials = registryCredentials?.[parseReference(reference).domain];
        await this.pull(reference, { ...progress, ...(credentials ? { credentials } : {}) });
      },
    });
  }

  /** `system df`: images, containers and the build cache, as Docker counts them. */
  async diskUsage(): Promise<DiskUsage> {
    return diskUsage(await this.images.usage());
  }

  /**
   * `system check`: verify blobs, layers, images and names, and find what interrupted commands left
   * of containers (orphan names, directories, network namespaces, leases, cgroups, unfinished
   * removals); `repair` removes what is damaged and finishes or removes what was left.
   */
  async checkStore(options: { repair?: boolean } = {}): Promise<StoreCheckResult> {
    const images = await this.images.check(options);
    const { checkContainers } = await import('./runtime/check.js');
    const containers = await checkContainers(this.paths, this.runtime, { repair: options.repair ?? false });
    return { ...images, problems: [...images.problems, ...containers.problems], checked: { ...images.checked, ...containers.checked } };
  }

  /** `save`: the images as a docker-archive (default) or OCI layout tar, written to `out`. */
  saveImages(refsOrIds: readonly string[], out: Writable, options: { format?: SaveFormat } = {}): Promise<void> {
    return this.images.save(refsOrIds, options.format ?? 'docker-archive', out);
  }

  private async registry() {
    const registry = await import('./registry/index.js');
    return { registry, settings: registry.registrySettings(this.paths.root, this.registryOverrides) };
  }

  /** Pull an image (`busybox`, `localhost:5000/a/b:1`, `name@sha256:…`) into the store. */
  async pull(reference: string, options: PullOptions = {}): Promise<PullResult> {
    const { registry, settings } = await this.registry();
    const result = await registry.pullImage(this.images, settings, reference, options);
    imageReferenceEvent(this.paths.runRoot, 'pull', result.reference);
    return result;
  }

  /** Push a stored image to the registry its name says. */
  async push(reference: string, options: PushOptions = {}): Promise<PushResult> {
    const { registry, settings } = await this.registry();
    const result = await registry.pushImage(this.images, settings, reference, options);
    imageReferenceEvent(this.paths.runRoot, 'push', result.reference);
    return result;
  }

  /** Check credentials with the registry, then store them (config.json or its credential helper). */
  async login(registryHost: string | undefined, credentials: Credentials): Promise<string> {
    const { registry, settings } = await this.registry();
    const host = registry.registryHost(registryHost);
    await registry.login(settings, host, credentials);
    return host;
  }

  /** Check credentials with the registry and store nothing (the Engine API's `/auth`); returns the registry's host. */
  async checkLogin(registryHost: string | undefined, credentials: Credentials): Promise<string> {
    const { registry, settings } = await this.registry();
    const host = registry.registryHost(registryHost);
    await registry.checkLogin(settings, host, credentials);
    return host;
  }

  /** Forget stored credentials; false when there were none. */
  async logout(registryHost: string | undefined): Promise<{ registry: string; removed: boolean }> {
    const { registry, settings } = await this.registry();
    const host = registry.registryHost(registryHost);
    return { registry: host, removed: await registry.logout(settings, host) };
  }

  /**
   * Runs `make` (which resolves the image) under the pull policy: 'always' pulls first,
   * 'missing' pulls when the image is not stored and tries again, 'never' does not pull.
   */
  private async withImage<T>(opts: CreateOptions & ImageSourceOptions, make: () => Promise<T>): Promise<T> {
    validateCreateOptions(opts); // before a pull: a bad name, hostname or typed value fetches nothing
    const policy = opts.pull ?? 'missing';
    if (policy !== 'missing' && policy !== 'always' && policy !== 'never') {
      throw new UsageError(`invalid pull policy "${String(policy)}": expected missing, always or never`);
    }
    const progress = { ...(opts.onPullProgress ? { onProgress: opts.onPullProgress } : {}), ...(opts.platform ? { platform: opts.platform } : {}) };
    if (policy === 'always') await this.pull(opts.image, progress);
    try {
      return await make();
    } catch (err) {
      if (policy !== 'missing' || !(err instanceof ImageNotFoundError)) throw err;
    }
    await this.pull(opts.image, progress);
    return make();
  }

  /**
   * Create and start a container; resolves once its command runs. Create's warnings are not
   * reported here: `createContainer` then `startForeground` gives them (and `run` returns them).
   */
  async start(opts: RunOptions): Promise<RunningContainer> {
    const { record } = await this.createContainer(opts);
    await this.preparePodMember(record);
    return this.runtime.start(record, opts);
  }

  /** Start a created (or stopped) container as a child of this process, with its stdio as `opts` says; resolves once its command runs. */
  async startForeground(record: ContainerRecord, opts: StartOptions = {}): Promise<RunningContainer> {
    await this.preparePodMember(record);
    return this.runtime.start(record, opts);
  }

  /** Run a container to completion: its exit code, its output when piped, and create's warnings. */
  async run(opts: RunOptions): Promise<RunResult> {
    const { record, warnings } = await this.createContainer(opts);
    await this.preparePodMember(record);
    const running = await this.runtime.start(record, opts);
    const [stdout, stderr, exitCode] = await Promise.all([collect(running.stdout), collect(running.stderr), running.wait()]);
    const result: RunResult = { id: running.id, name: running.name, exitCode, warnings };
    if (stdout) result.stdout = stdout;
    if (stderr) result.stderr = stderr;
    return result;
  }

  /**
   * `commit`: a new image from the container's writable layer and its config, with Docker's
   * `--change` lines; a running container is frozen while its layer is read unless `pause` is
   * false (a paused one stays paused). Returns the image (its id is `sha256:…`).
   */
  async commitContainer(idOrName: string, opts: CommitOptions & { pause?: boolean } = {}): Promise<ResolvedImage> {
    const { checkCommitOptions, commitContainer } = await import('./build/commit.js');
    checkCommitOptions(opts);
    const record = await this.runtime.get(idOrName);
    const inspected = await this.runtime.inspect(record.id);
    const config = inspected.Config as Record<string, unknown>;
    const state = inspected.State as { Running: boolean; Paused: boolean };
    const freeze = (opts.pause ?? true) && state.Running && !state.Paused;
    await this.images.createLayout();
    if (freeze) await this.runtime.pause(record.id);
    try {
      const lock = await this.images.lock('shared');
      try {
        const image = await commitContainer(this.paths, this.images, { id: record.id, imageId: record.imageId, upper: record.rootfs.upper, config }, opts);
        // Docker's: the container's `commit`, after the new image's tag, with the comment, the image and its name.
        const imageRef = opts.reference !== undefined ? familiar(normalize(opts.reference)) : '';
        containerEvent(this.paths.runRoot, record, 'commit', { comment: opts.message ?? '', imageID: image.id, imageRef });
        return image;
      } finally {
        lock.release();
      }
    } finally {
      if (freeze) await this.runtime.unpause(record.id);
    }
  }

  /** `diff`: the changes of the container's writable layer against its image (A, C, D), in Docker's order. */
  async containerChanges(idOrName: string): Promise<Change[]> {
    const record = await this.runtime.get(idOrName);
    const { containerChanges } = await import('./runtime/container-fs.js');
    return containerChanges(record.rootfs);
  }

  /** `export`: the container's whole root file system (its image and writable layer, no volumes) as a tar to `out`. */
  async exportContainer(idOrName: string, out: Writable): Promise<void> {
    const record = await this.runtime.get(idOrName);
    const { exportRoot } = await import('./runtime/container-fs.js');
    await exportRoot(record.rootfs, { tmp: this.paths.tmp, root: this.paths.root }, out);
  }

  /**
   * `import`: a tar (plain or compressed) as a one-layer image, its config from Docker's
   * `--change` lines, optionally named. Returns the image.
   */
  async importImage(source: Readable, opts: ImportOptions = {}): Promise<ResolvedImage> {
    const { applyChanges, importTar } = await import('./build/commit.js');
    applyChanges({}, opts.changes ?? []); // a bad change reads nothing
    if (opts.reference !== undefined) parseReference(opts.reference);
    await this.images.createLayout();
    const lock = await this.images.lock('shared');
    try {
      const image = await importTar(this.paths, this.images, source, opts);
      objectEvent(this.paths.runRoot, 'image', 'import', image.id, { name: image.id }); // Docker's: after the tag, named by the id
      return image;
    } finally {
      lock.release();
    }
  }

  /** `info`: Docker's `/info` body for this host and store. */
  async info(): Promise<Record<string, unknown>> {
    const { systemFacts } = await import('./present/host-facts.js');
    const counts = { running: 0, paused: 0, stopped: 0 };
    for (const c of await this.listContainers()) {
      if (c.state.status !== 'running') counts.stopped++;
      else if (this.runtime.existingCgroup(c)?.frozen()) counts.paused++;
      else counts.running++;
    }
    const images = (await this.images.list()).length;
    const { systemInfo } = await import('./present/system-info.js');
    return systemInfo(systemFacts({ containers: counts, images, root: this.paths.root }));
  }

  /** `version`: Docker's Client and Server sections, for hull. */
  async version(): Promise<{ Client: Record<string, unknown>; Server: Record<string, unknown> }> {
    const { versionFacts } = await import('./present/host-facts.js');
    const { versionInfo } = await import('./present/system-info.js');
    return versionInfo(versionFacts());
  }

  listContainers(): Promise<ContainerRecord[]> {
    return this.runtime.list();
  }

  /** `ps`: the containers Docker's list shows for -a, -n, -l and --filter (src/filters/containers.ts), newest first. */
  async selectContainers(selection: PsSelection = {}): Promise<ContainerRecord[]> {
    const f = selection.filters;
    const world: ContainerWorld = {};
    if (f && f.ancestors.length > 0) world.images = await this.images.list();
    if (f && f.networks.length > 0) world.networks = this.listNetworks();
    if (f && f.health.length > 0) world.health = healthStatusOf;
    // A running container's ephemeral host ports are known only to its network state.
    if (f && (f.publish.size > 0 || f.expose.size > 0)) world.ports = (r) => this.publishedPorts(r);
    return selectContainers(await this.listContainers(), selection, world);
  }

  /** Remove a container; a running one only with `force` (killed first); with `volumes` its anonymous volumes too. A pod's infra container goes only with its pod. */
  async removeContainer(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const record = await this.runtime.get(idOrName).catch(() => undefined);
    if (record?.pod !== undefined) {
      const pod = (await this.pods()).store.read(record.pod);
      if (pod?.infraId === record.id) {
        throw new ConflictError(`container ${record.id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`);
      }
    }
    return this.runtime.remove(idOrName, opts);
  }

  /** Create a container without starting it: its record, and Docker's warnings about the options (the API's `{Id, Warnings}`). `opts.pod` makes it in a pod. */
  async createContainer(opts: CreateOptions & ImageSourceOptions): Promise<CreatedContainer> {
    if (opts.pod === undefined) return this.withImage(opts, () => this.runtime.create(opts));
    return (await this.pods()).createMember(opts, (member) => this.withImage({ ...opts, ...member }, () => this.runtime.create(member)));
  }

  /** Create and start a container under its own monitor; it keeps running after this process ends. Returns its record and create's warnings. */
  async runDetached(opts: CreateOptions & ImageSourceOptions): Promise<CreatedContainer> {
    const { record, warnings } = await this.createContainer(opts);
    await this.preparePodMember(record);
    return { record: await this.runtime.startDetached(record.id), warnings };
  }

  /** Start a created or stopped container under its own monitor. */
  async startContainer(idOrName: string): Promise<ContainerRecord> {
    await this.preparePodMember(await this.runtime.get(idOrName));
    return this.runtime.startDetached(idOrName);
  }

  /** A container of a pod starts after its pod's infra container (started first when it is not running). */
  private async preparePodMember(record: ContainerRecord): Promise<void> {
    if (record.pod !== undefined) await (await this.pods()).prepareMember(record);
  }

  /**
   * Start a created or stopped container under its own monitor, attached from its first output:
   * `attachment.stdout`/`stderr` (one stream with a terminal), and with `stdin` its stdin (for a
   * container made with openStdin; ending it ends the container's). `waitContainer` gives the code.
   */
  async startContainerAttached(idOrName: string, opts: { stdin?: boolean } = {}): Promise<{ record: ContainerRecord; attachment: Attachment }> {
    await this.preparePodMember(await this.runtime.get(idOrName));
    return this.runtime.startAttached(idOrName, { stdin: opts.stdin ?? false });
  }

  /** Attach to a running detached container: its output from now on, and with `stdin` its stdin. */
  attachContainer(idOrName: string, opts: { stdin?: boolean } = {}): Promise<{ record: ContainerRecord; attachment: Attachment }> {
    return this.runtime.attach(idOrName, { stdin: opts.stdin ?? false });
  }

  /** The container's stop signal (`--stop-signal`, the image's StopSignal, or SIGTERM), then SIGKILL after `timeoutSeconds` (default: its `--stop-timeout`, else 10). */
  stopContainer(idOrName: string, timeoutSeconds?: number): Promise<void> {
    return this.runtime.stop(idOrName, timeoutSeconds);
  }

  /** New cgroup limits for a container (applied now when it runs). */
  updateContainer(idOrName: string, resources: SpecResources): Promise<void> {
    return this.runtime.update(idOrName, resources);
  }

  /** A running container's cgroup usage: two samples `intervalMs` apart, for CPU %. */
  async containerStats(idOrName: string, intervalMs = 500): Promise<ContainerStats> {
    const { record, dir } = await this.runtime.cgroupDir(idOrName);
    const first = sampleCgroup(dir, totalmem());
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const sample = sampleCgroup(dir, totalmem());
    return { id: record.id, name: record.name, cpuPercent: cpuPercent(first, sample), ...sample };
  }

  /** The processes of a running container: host pids, from its cgroup. */
  async containerProcesses(idOrName: string): Promise<number[]> {
    return cgroupPids((await this.runtime.cgroupDir(idOrName)).dir);
  }

  pauseContainer(idOrName: string): Promise<void> {
    return this.runtime.pause(idOrName);
  }

  unpauseContainer(idOrName: string): Promise<void> {
    return this.runtime.unpause(idOrName);
  }

  killContainer(idOrName: string, signal: number): Promise<void> {
    return this.runtime.kill(idOrName, signal);
  }

  async restartContainer(idOrName: string, timeoutSeconds?: number): Promise<void> {
    await this.preparePodMember(await this.runtime.get(idOrName));
    return this.runtime.restart(idOrName, timeoutSeconds);
  }

  /** Resolves with the container's exit code once it has ended. */
  waitContainer(idOrName: string): Promise<number> {
    return this.runtime.wait(idOrName);
  }

  renameContainer(idOrName: string, newName: string): Promise<void> {
    return this.runtime.rename(idOrName, newName);
  }

  getContainer(idOrName: string): Promise<ContainerRecord> {
    return this.runtime.get(idOrName);
  }

  /** Run a process in a running container (its namespaces, cgroup, limits and capabilities). */
  exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    return this.runtime.exec(idOrName, opts);
  }

  /** Docker's `inspect` shape. */
  inspectContainer(idOrName: string): Promise<Record<string, unknown>> {
    return this.runtime.inspect(idOrName);
  }

  /**
   * The container's log entries (json-file), following new ones until it ends with `follow`: in
   * batches, each the entries of one bounded block read, so a log of any size streams in little memory.
   * A follower stops when `signal` aborts (its reader went away).
   */
  async *containerLogs(idOrName: string, opts: LogSelection & { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<LogEntry[]> {
    yield* this.runtime.logs(idOrName, opts);
  }

  // ---- volumes ----

  /** `volume create`: a local volume (a generated name when none is given); an existing one is returned as it is. */
  createVolume(name?: string, opts: { labels?: Record<string, string>; options?: Record<string, string> } = {}): Promise<VolumeRecord> {
    return this.runtime.volumes.store.create(name, opts.labels ?? {}, opts.options);
  }

  listVolumes(): VolumeRecord[] {
    return this.runtime.volumes.store.list();
  }

  /** Docker's `volume inspect` shape. */
  inspectVolume(name: string): VolumeRecord {
    return this.runtime.volumes.store.get(name);
  }

  /** Remove a volume no container (running or not) uses; `force` ignores a missing one. */
  removeVolume(name: string, opts: { force?: boolean } = {}): Promise<boolean> {
    return this.runtime.volumes.store.remove(name, (n) => this.runtime.volumes.users(n), opts);
  }

  /** `volume ls --filter` (src/filters/resources.ts). */
  selectVolumes(filters: VolumeFilters): Promise<VolumeRecord[]> {
    return selectVolumes(this.listVolumes(), filters, async (n) => (await this.runtime.volumes.users(n)).length > 0);
  }

  /** Unused anonymous volumes (with `all`, every unused volume; with `filters`, those `label`/`label!` keep): the names removed and the bytes freed. */
  pruneVolumes(opts: { all?: boolean; filters?: PruneFilters } = {}): Promise<{ volumes: string[]; reclaimed: number }> {
    const { filters } = opts;
    return this.runtime.volumes.store.prune((n) => this.runtime.volumes.users(n), {
      all: opts.all ?? false,
      ...(filters ? { keep: (v: VolumeRecord) => prunable(filters, undefined, v.Labels) } : {}),
    });
  }

  /** `system df`'s volume row: how many, how many in use, bytes, bytes no container uses. */
  async volumesDiskUsage(): Promise<UsageFigures> {
    const { treeSize } = await import('./volume/store.js');
    const out = { total: 0, active: 0, size: 0, reclaimable: 0 };
    for (const v of this.listVolumes()) {
      const bytes = treeSize(v.Mountpoint);
      const used = (await this.runtime.volumes.users(v.Name)).length > 0;
      out.total++;
      out.size += bytes;
      if (used) out.active++;
      else out.reclaimable += bytes;
    }
    return out;
  }

  // ---- networks (src/network/) ----

  /** `network create`: a bridge network (a /24 of the configured pool unless `subnet` is given). */
  createNetwork(opts: NetworkCreateOptions): Promise<NetworkRecord> {
    return this.runtime.network.create(opts);
  }

  listNetworks(): NetworkRecord[] {
    return this.runtime.network.list();
  }

  /** Docker's `network inspect` shape. */
  async inspectNetwork(nameOrId: string): Promise<Record<string, unknown>> {
    const names = new Map((await this.runtime.list()).map((c) => [c.id, c.name]));
    return this.runtime.network.inspect(nameOrId, (id) => names.get(id));
  }

  /** `network rm`: refused while a container uses the network. */
  removeNetwork(nameOrId: string): Promise<void> {
    return this.runtime.network.remove(nameOrId);
  }

  /**
   * `network ls`: the networks (the default bridge once made, the user ones) and Docker's `host`
   * and `none`, those `filters` keep (src/filters/resources.ts).
   */
  listedNetworks(filters: NetworkFilters = parseNetworkFilters()): ListedNetwork[] {
    const builtin: ListedNetwork[] = [
      { id: '', name: 'host', driver: 'host', created: '' },
      { id: '', name: 'none', driver: 'null', created: '' },
    ];
    const all: ListedNetwork[] = [...this.listNetworks(), ...builtin];
    return selectNetworks(all, filters, (n) => 'subnet' in n && this.runtime.network.inUse(n as NetworkRecord));
  }

  /** `network prune`: removes the user networks no container uses (with `filters`, those `until`/`label`/`label!` keep); returns their names. */
  pruneNetworks(filters?: PruneFilters): Promise<string[]> {
    return this.runtime.network.prune(filters ? (n) => prunable(filters, n.created, n.labels ?? {}) : undefined);
  }

  /** `network connect`: a running container gets the interface at once, a stopped one at its next start (`ip`: its address there). */
  connectNetwork(nameOrId: string, container: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    return this.runtime.locked(container, (record) =>
      this.runtime.network.connect(record, nameOrId, opts.aliases ?? [], () => this.runtime.containers.save(record), opts.ip),
    );
  }

  /** `network disconnect`; with `force`, a container not on the network is no error (Docker's `--force`: the endpoint goes whatever its state). */
  disconnectNetwork(nameOrId: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.runtime.locked(container, (record) =>
      this.runtime.network.disconnect(record, nameOrId, () => this.runtime.containers.save(record), opts.force === true),
    );
  }

  /** The published ports of a container as they are now (none unless it runs): what `ps` shows and filters on. */
  publishedPorts(record: ContainerRecord): PortMapping[] {
    try {
      return this.runtime.network.ports(record);
    } catch (err) {
      // A listing never fails for one container's network state (being written, or left by a crash): it shows none.
      if (err instanceof SyntaxError || err instanceof HullError) return [];
      throw err;
    }
  }

  /** `port`: the published ports of a running container. */
  async containerPorts(idOrName: string): Promise<PortMapping[]> {
    return this.runtime.network.ports(await this.runtime.get(idOrName));
  }

  // ---- pods (src/pods/) ----

  private async pods(): Promise<Pods> {
    const { Pods } = await import('./pods/pods.js');
    return (this.podsCache ??= new Pods(this.paths, this.runtime, this.images));
  }

  /** `pod create`: the pod and its infra container (created; `startPod` or a container's start runs it). */
  async createPod(opts: PodCreateOptions = {}): Promise<PodRecord> {
    return (await this.pods()).create(opts);
  }

  /** A pod's record by name, id or unique id prefix (PodNotFoundError when none). */
  async getPod(nameOrId: string): Promise<PodRecord> {
    return (await this.pods()).get(nameOrId);
  }

  /** `pod start`: its infra container, then its other containers. */
  async startPod(nameOrId: string): Promise<PodRecord> {
    return (await this.pods()).start(nameOrId);
  }

  /** `pod stop`: its containers (each after `timeoutSeconds`, default its own), then infra. */
  async stopPod(nameOrId: string, timeoutSeconds?: number): Promise<PodRecord> {
    return (await this.pods()).stop(nameOrId, timeoutSeconds);
  }

  async restartPod(nameOrId: string, timeoutSeconds?: number): Promise<PodRecord> {
    return (await this.pods()).restart(nameOrId, timeoutSeconds);
  }

  /** `pod kill`: `signal` (default SIGKILL) to each running container of the pod. */
  async killPod(nameOrId: string, signal?: number): Promise<PodRecord> {
    return (await this.pods()).kill(nameOrId, signal);
  }

  async pausePod(nameOrId: string): Promise<PodRecord> {
    return (await this.pods()).pause(nameOrId, true);
  }

  async unpausePod(nameOrId: string): Promise<PodRecord> {
    return (await this.pods()).pause(nameOrId, false);
  }

  /** `pod rm`: its containers (running ones only with `force`), infra, cgroup and record; returns its id. */
  async removePod(nameOrId: string, opts: { force?: boolean } = {}): Promise<string> {
    return (await this.pods()).remove(nameOrId, opts);
  }

  /** `pod prune`: the pods none of whose containers runs; their ids. */
  async prunePods(): Promise<string[]> {
    return (await this.pods()).prune();
  }

  /** `pod ls`: every pod with its containers and state, newest first. */
  async listPods(): Promise<PodSummary[]> {
    return (await this.pods()).list();
  }

  /** `pod inspect`: Podman's shape. */
  async inspectPod(nameOrId: string): Promise<Record<string, unknown>> {
    return (await this.pods()).inspect(nameOrId);
  }

  /** `pod top`: the processes of the pod's running containers. */
  async podTop(nameOrId: string): Promise<ProcessTable> {
    return (await this.pods()).top(nameOrId);
  }

  /** `pod stats`: each running container of the pods named (all when none), two samples `intervalMs` apart. */
  async podStats(namesOrIds: readonly string[] = [], intervalMs = 500): Promise<PodContainerStats[]> {
    return (await this.pods()).stats(namesOrIds, intervalMs);
  }

  // ---- events (src/events/) ----

  /**
   * The events log: what it holds between `since` and `until` (nanoseconds since the epoch), then
   * the new events as they come until `until` (without one: until `signal`). Without either bound,
   * only new events (Docker's live stream).
   */
  async *events(opts: EventReadOptions = {}): AsyncGenerator<EventMessage> {
    const { readEvents } = await import('./events/follow.js');
    yield* readEvents(this.paths.runRoot, opts);
  }

  /**
   * Run a detached container's health checks until it ends for good (the process its start
   * spawns beside its monitor runs this; `token` is the one that start wrote: src/runtime/health-checker.ts).
   */
  async superviseHealth(id: string, token: string): Promise<void> {
    const { superviseHealth } = await import('./runtime/health-checker.js');
    return superviseHealth(this.runtime, id, token);
  }

  /** Release the network of an ended container (run by its monitor when it ends). */
  releaseContainerNetwork(idOrName: string): Promise<void> {
    return this.runtime.releaseNetwork(idOrName);
  }

  /** Remove the default bridge (when no container uses it) and, with no bridge left, hull's nft table. */
  removeDefaultNetwork(): Promise<void> {
    return this.runtime.network.removeDefault();
  }
}

/** Docker's pull and push events: the reference as the id (`busybox:latest`), its repository as the name. */
function imageReferenceEvent(runRoot: string, action: 'pull' | 'push', reference: string): void {
  const id = familiar(reference);
  const at = id.indexOf('@');
  const colon = id.lastIndexOf(':');
  const name = at >= 0 ? id.slice(0, at) : colon > id.lastIndexOf('/') ? id.slice(0, colon) : id;
  objectEvent(runRoot, 'image', action, id, { name });
}
