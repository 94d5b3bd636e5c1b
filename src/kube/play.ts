/**
 * `kube play` and `kube down`: a checked plan (plan.ts) made real, all or nothing. Each pod is a
 * hull pod (src/pods/) that owns the hostPorts; its ConfigMap/Secret volumes are files written under
 * `<root>/kube/<pod id>/volumes/` and bound read-only, its emptyDirs directories there shared by its
 * containers; a PersistentVolumeClaim is the named volume of its name (made when missing). Init
 * containers run to completion in order before the app containers start, and are removed once they
 * succeed (Podman's `once`). Any failure removes everything this play made, in reverse order.
 */
import dgram from 'node:dgram';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConflictError, RuntimeError, UsageError } from '../errors.js';
import type { ExtraHost } from '../network/hosts.js';
import type { NetworkMode } from '../network/container-config.js';
import type { PortSpec } from '../network/ports.js';
import type { ContainerRecord } from '../runtime/container-store.js';
import type { CreatedContainer, CreateOptions, MountRequest } from '../runtime/create-options.js';
import type { VolumeRecord } from '../volume/store.js';
import type { PullPolicy } from '../hull.js';
import type { ContainerPlan, PlayPlan, PodPlan, PodVolume } from './plan.js';
import { trace } from '../trace.js';

/** What a pod of `kube play` is made with (the pods library's PodCreateOptions, in the parts kube uses). */
export interface KubePodOptions {
  name: string;
  labels: Record<string, string>;
  hostname: string;
  ports?: PortSpec[];
  extraHosts?: ExtraHost[];
  network?: NetworkMode;
  cgroupParent?: string;
}

/** The library calls kube play and down make (the Hull class has them). */
export interface KubeHost {
  readonly paths: { readonly root: string };
  createPod(opts: KubePodOptions): Promise<{ id: string; name: string; infraId?: string }>;
  stopPod(nameOrId: string, timeoutSeconds?: number): Promise<unknown>;
  removePod(nameOrId: string, opts: { force?: boolean }): Promise<string>;
  listPods(): Promise<readonly { id: string; name: string }[]>;
  createContainer(opts: CreateOptions & { pod: string; pull?: PullPolicy }): Promise<CreatedContainer>;
  startContainer(idOrName: string): Promise<ContainerRecord>;
  waitContainer(idOrName: string): Promise<number>;
  removeContainer(idOrName: string, opts: { force?: boolean }): Promise<void>;
  containerLogs(idOrName: string, opts: { tail?: number }): AsyncGenerator<{ log: string }[]>;
  listVolumes(): VolumeRecord[];
  createVolume(name: string, opts: { labels?: Record<string, string> }): Promise<VolumeRecord>;
  removeVolume(name: string, opts: { force?: boolean }): Promise<boolean>;
}

export interface PlayedPod {
  name: string;
  id: string;
  /** The app containers (the init containers are gone once they succeeded). */
  containers: { id: string; name: string }[];
}

export interface PlayResult {
  pods: PlayedPod[];
  /** Named volumes this play made (the others existed). */
  volumesCreated: string[];
  warnings: string[];
}

export interface DownResult {
  /** The removed pods' ids. */
  pods: string[];
  volumes: string[];
  warnings: string[];
}

/** Where a pod's projected files and emptyDirs live: in the pod's own directory, so `pod rm` removes them with it. */
export function kubePodDir(root: string, podId: string): string {
  return path.join(root, 'pods', podId, 'kube');
}

/** A label on the volumes a play made: `kube down --force` removes volumes by the YAML's claims, this only says who made them. */
export const KUBE_VOLUME_LABEL = 'io.hull.kube.play';

export interface PlayOptions {
  /** Remove pods of the same names first. */
  replace?: boolean;
  /** Where the pods' cgroups are made (default the pods library's). */
  cgroupParent?: string;
}

/**
 * A hostPort a program on the host listens on: refused before anything is made. (hull publishes by
 * nftables, binding nothing; a port another hull pod publishes fails the publish, and the play rolls back.)
 */
async function checkHostPorts(plan: PlayPlan): Promise<void> {
  for (const pod of plan.pods) {
    for (const p of pod.ports) {
      const host = p.hostIp || '0.0.0.0';
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        if (p.proto === 'udp') {
          const s = dgram.createSocket('udp4');
          s.once('error', (e) => {
            s.close();
            resolve(e);
          });
          s.bind(p.hostPort, host, () => s.close(() => resolve(undefined)));
          return;
        }
        const s = net.createServer();
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
        s.listen({ port: p.hostPort, host, exclusive: true }, () => s.close(() => resolve(undefined)));
      });
      if (error?.code === 'EADDRINUSE')
        throw new ConflictError(`pod "${pod.name}": hostPort ${p.hostPort}/${p.proto} on ${host} is already in use on the host`);
    }
  }
}

export async function playKube(host: KubeHost, plan: PlayPlan, opts: PlayOptions = {}): Promise<PlayResult> {
  const warnings = [...plan.warnings];
  const existing = new Map((await host.listPods()).map((p) => [p.name, p.id]));
  for (const pod of plan.pods) {
    if (!existing.has(pod.name)) continue;
    if (!opts.replace) throw new ConflictError(`pod "${pod.name}" already exists (use --replace to replace it)`);
  }
  await checkHostPorts(plan);
  trace('kube: pods listed, ports checked');
  if (opts.replace) {
    for (const pod of plan.pods) {
      const id = existing.get(pod.name);
      if (id !== undefined) await removeKubePod(host, id);
    }
  }
  // Undo steps, newest last: run in reverse when anything fails.
  const undo: (() => Promise<unknown>)[] = [];
  const result: PlayResult = { pods: [], volumesCreated: [], warnings };
  try {
    // Listed only when the YAML claims some (a list sorts by name: localeCompare, whose first call sets up ICU's collator).
    const volumes = new Set(plan.volumes.length > 0 ? host.listVolumes().map((v) => v.Name) : []);
    for (const name of plan.volumes) {
      if (volumes.has(name)) continue;
      await host.createVolume(name, { labels: { [KUBE_VOLUME_LABEL]: 'true' } });
      undo.push(() => host.removeVolume(name, { force: true }));
      result.volumesCreated.push(name);
    }
    for (const pod of plan.pods) result.pods.push(await playPod(host, pod, undo, warnings, opts.cgroupParent));
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
  return result;
}

async function playPod(
  host: KubeHost,
  pod: PodPlan,
  undo: (() => Promise<unknown>)[],
  warnings: string[],
  cgroupParent: string | undefined,
): Promise<PlayedPod> {
  const made = await host.createPod({
    ...(cgroupParent !== undefined ? { cgroupParent } : {}),
    name: pod.name,
    labels: pod.labels,
    hostname: pod.hostname,
    ...(pod.ports.length > 0 ? { ports: pod.ports } : {}),
    ...(pod.extraHosts.length > 0 ? { extraHosts: pod.extraHosts } : {}),
    ...(pod.hostNetwork ? { network: { mode: 'host' } as const } : {}),
  });
  trace('kube: pod created');
  const dir = kubePodDir(host.paths.root, made.id);
  undo.push(() => removeKubePod(host, made.id));
  const member = async (c: ContainerPlan, sources: VolumeSources): Promise<CreateOptions & { pod: string; pull: PullPolicy }> => {
    const mounts: MountRequest[] = [];
    for (const m of c.mounts) mounts.push(await mountRequest(m, sources, pod.name));
    return {
      ...c.options,
      pod: made.id,
      pull: c.pull,
      mounts,
      ...(Object.keys(pod.annotations).length > 0 ? { annotations: { ...pod.annotations, ...c.options.annotations } } : {}),
    };
  };
  // The app containers are made side by side, as a kubelet makes them (no order among them); without
  // init containers, while the infra container starts (the others join its namespaces only when they
  // start). With init containers they are made once those succeeded, as before: an init container
  // may fill a volume an app container's create would otherwise copy the image's files into.
  const createApps = (sources: VolumeSources) => Promise.allSettled(pod.containers.map(async (c) => host.createContainer(await member(c, sources))));
  const early = pod.initContainers.length === 0;
  // Both are awaited before anything fails, so the rollback never races the infra's start.
  const [infra, prepared] = await Promise.allSettled([
    made.infraId !== undefined ? host.startContainer(made.infraId) : Promise.resolve(undefined),
    (async () => {
      const sources = await writePodVolumes(dir, pod.volumes);
      return { sources, created: early ? await createApps(sources) : undefined };
    })(),
  ]);
  if (prepared.status === 'rejected') throw prepared.reason;
  if (infra.status === 'rejected') throw infra.reason;
  trace('kube: infra started');
  const { sources } = prepared.value;
  for (const init of pod.initContainers) {
    const { record, warnings: w } = await host.createContainer(await member(init, sources));
    warnings.push(...w);
    await host.startContainer(record.id);
    const code = await host.waitContainer(record.id);
    if (code !== 0) {
      // Its last words say why: the container goes with the rollback.
      let last = '';
      for await (const batch of host.containerLogs(record.id, { tail: 3 })) last += batch.map((e) => e.log).join('');
      const why = last.trim().split('\n').join(' | ');
      throw new RuntimeError(`pod "${pod.name}": init container "${init.containerName}" exited with code ${code}${why ? `: ${why}` : ''}`);
    }
    await host.removeContainer(record.id, { force: true });
  }
  const created = prepared.value.created ?? (await createApps(sources));
  trace('kube: containers created');
  const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const containers: ContainerRecord[] = [];
  for (const r of created) {
    if (r.status !== 'fulfilled') continue;
    warnings.push(...r.value.warnings);
    containers.push(r.value.record);
  }
  const started = await Promise.allSettled(containers.map((record) => host.startContainer(record.id)));
  const notStarted = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (notStarted) throw notStarted.reason;
  trace('kube: containers started');
  return { name: pod.name, id: made.id, containers: containers.map((c) => ({ id: c.id, name: c.name })) };
}

type VolumeSources = Map<string, { kind: 'bind'; source: string; forceReadonly: boolean } | { kind: 'volume'; name: string; readonly: boolean }>;

/** Make each volume's host side: projected files, emptyDir directories, hostPaths as their type asks. */
async function writePodVolumes(dir: string, volumes: readonly PodVolume[]): Promise<VolumeSources> {
  const sources: VolumeSources = new Map();
  for (const v of volumes) {
    const s = v.source;
    switch (s.type) {
      case 'emptyDir': {
        const d = path.join(dir, 'volumes', v.name);
        // 0777 as Kubernetes makes an emptyDir: containers of one pod may run as different users.
        await fs.mkdir(d, { recursive: true });
        await fs.chmod(d, 0o777);
        sources.set(v.name, { kind: 'bind', source: d, forceReadonly: false });
        break;
      }
      case 'files': {
        const d = path.join(dir, 'volumes', v.name);
        await fs.mkdir(d, { recursive: true });
        for (const f of s.files) {
          const target = path.join(d, f.path);
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.writeFile(target, f.data, { mode: f.mode, flag: 'wx' });
          await fs.chmod(target, f.mode);
        }
        sources.set(v.name, { kind: 'bind', source: d, forceReadonly: true });
        break;
      }
      case 'hostPath': {
        if (s.create === 'directory') await fs.mkdir(s.path, { recursive: true, mode: 0o755 });
        if (s.create === 'file') {
          await fs.mkdir(path.dirname(s.path), { recursive: true, mode: 0o755 });
          await (await fs.open(s.path, 'a', 0o644)).close();
        }
        if (s.expect) {
          const st = await fs.stat(s.path).catch(() => undefined);
          const ok = s.expect === 'directory' ? st?.isDirectory() : st?.isFile();
          if (!ok) throw new UsageError(`volume "${v.name}": hostPath ${s.path} is not a ${s.expect}`);
        }
        sources.set(v.name, { kind: 'bind', source: s.path, forceReadonly: false });
        break;
      }
      case 'volume':
        sources.set(v.name, { kind: 'volume', name: s.volume, readonly: s.readOnly });
        break;
    }
  }
  return sources;
}

async function mountRequest(m: ContainerPlan['mounts'][number], sources: VolumeSources, pod: string): Promise<MountRequest> {
  const source = sources.get(m.volume);
  if (!source) throw new UsageError(`pod "${pod}": volume "${m.volume}" is not defined`);
  if (source.kind === 'volume') {
    const readonly = m.readonly || source.readonly;
    return { type: 'volume', name: source.name, target: m.target, readonly, noCopy: false, origin: 'mount-flag', mode: readonly ? 'ro' : '' };
  }
  const readonly = m.readonly || source.forceReadonly;
  const bindSource = m.subPath !== undefined ? await subPathSource(source.source, m.subPath, pod) : source.source;
  return { type: 'bind', source: bindSource, target: m.target, readonly, propagation: 'rprivate', origin: 'volume-flag', mode: readonly ? 'ro' : '' };
}

/**
 * A subPath inside its volume, made when missing (as the kubelet does). It may not lead out of the
 * volume: an init container can leave a symlink in an emptyDir (CVE-2017-1002101's class), so the
 * resolved path is checked against the volume's own.
 */
async function subPathSource(volume: string, subPath: string, pod: string): Promise<string> {
  const base = await fs.realpath(volume);
  const wanted = path.join(volume, subPath);
  if (!(await fs.lstat(wanted).catch(() => undefined))) await fs.mkdir(wanted, { recursive: true });
  const real = await fs.realpath(wanted);
  if (real !== base && !real.startsWith(`${base}/`)) throw new UsageError(`pod "${pod}": subPath ${subPath} leads out of its volume`);
  return real;
}

/** Remove a pod kube play made: its containers, infra, cgroup, network, and its directory (files and emptyDirs with its record). */
export async function removeKubePod(host: KubeHost, podId: string): Promise<void> {
  await host.removePod(podId, { force: true });
}

/**
 * `kube down`: the pods of the YAML by name, stopped as Podman's `kube down` stops them (SIGTERM,
 * then SIGKILL after each container's stop timeout: terminationGracePeriodSeconds, else 10 s), then
 * removed with their kube directories. Volumes stay, as with Podman's, unless `force`: then the named
 * volumes of the YAML's claims go too.
 */
export async function downKube(host: KubeHost, plan: PlayPlan, opts: { force?: boolean } = {}): Promise<DownResult> {
  const result: DownResult = { pods: [], volumes: [], warnings: [] };
  const existing = new Map((await host.listPods()).map((p) => [p.name, p.id]));
  for (const pod of plan.pods) {
    const id = existing.get(pod.name);
    if (id === undefined) {
      result.warnings.push(`pod "${pod.name}" does not exist`);
      continue;
    }
    await host.stopPod(id);
    trace('kube: pod stopped');
    await removeKubePod(host, id);
    trace('kube: pod removed');
    result.pods.push(id);
  }
  if (opts.force) {
    // Listed only when the YAML claims some (a list sorts by name: localeCompare, whose first call sets up ICU's collator).
    const volumes = new Set(plan.volumes.length > 0 ? host.listVolumes().map((v) => v.Name) : []);
    for (const name of plan.volumes) {
      if (!volumes.has(name)) continue;
      await host.removeVolume(name, { force: false });
      result.volumes.push(name);
    }
  }
  return result;
}
