/**
 * A `kube play` plan: the parsed objects (objects.ts) checked together and resolved into what the
 * executor makes — pods (a Deployment's replicas each a pod, named as Podman names them:
 * `<deployment>-pod-<n>`), their volumes with ConfigMap and Secret contents already projected into
 * files, and each container's typed CreateOptions (container-options.ts). Everything that can be
 * refused is refused here, before anything exists: duplicate names, a reference to a ConfigMap,
 * Secret, volume or port that is not there, two hostPorts on one port.
 */
import { UsageError } from '../errors.js';
import type { ExtraHost } from '../network/hosts.js';
import type { PortSpec } from '../network/ports.js';
import type { CreateOptions } from '../runtime/create-options.js';
import type { PullPolicy } from '../hull.js';
import { containerCreateOptions } from './container-options.js';
import type { KeyToPath, KubeMetadata, KubeObject, PodSpec, VolumeSource } from './objects.js';
import { parseMemoryQuantity } from './quantity.js';

/** A file of a ConfigMap or Secret volume. */
export interface ProjectedFile {
  /** Relative to the volume's directory. */
  path: string;
  data: Buffer;
  mode: number;
}

export type PodVolumeSource =
  /** A host path; `create` makes it when missing (DirectoryOrCreate, FileOrCreate), `expect` checks what is there. */
  | { type: 'hostPath'; path: string; create?: 'directory' | 'file'; expect?: 'directory' | 'file' }
  /** A directory of the pod's own, shared by its containers and removed with the pod. */
  | { type: 'emptyDir' }
  /** A ConfigMap's or Secret's keys as files, written under the pod's directory and mounted read-only. */
  | { type: 'files'; of: 'configMap' | 'secret'; name: string; files: ProjectedFile[] }
  /** A PersistentVolumeClaim: the named volume of the same name. */
  | { type: 'volume'; volume: string; readOnly: boolean };

export interface PodVolume {
  name: string;
  source: PodVolumeSource;
}

export interface ContainerMount {
  volume: string;
  target: string;
  readonly: boolean;
  subPath?: string;
}

export interface ContainerPlan {
  /** The container's name in hull: `<pod>-<container>` (Podman's). */
  name: string;
  /** The name in the YAML. */
  containerName: string;
  init: boolean;
  /** Everything but the pod's shared namespaces, ports and the mounts (which need the pod's directory). */
  options: CreateOptions;
  mounts: ContainerMount[];
  pull: PullPolicy;
}

export interface PodPlan {
  name: string;
  /** The object it comes from: a Pod, or the Deployment of a replica. */
  from: { kind: 'Pod' | 'Deployment'; name: string };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostname: string;
  hostNetwork: boolean;
  /** Every container's hostPorts: the pod publishes them. */
  ports: PortSpec[];
  extraHosts: ExtraHost[];
  volumes: PodVolume[];
  initContainers: ContainerPlan[];
  containers: ContainerPlan[];
}

export interface PlayPlan {
  pods: PodPlan[];
  /** The named volumes PersistentVolumeClaims stand for, made when missing. */
  volumes: string[];
  warnings: string[];
}

type DataObjects = Map<string, Record<string, Buffer>>;

export function planPlay(objects: readonly KubeObject[], warnings: string[] = []): PlayPlan {
  const configMaps: DataObjects = new Map();
  const secrets: DataObjects = new Map();
  const claims = new Set<string>();
  const seen = new Map<string, KubeObject>();
  for (const o of objects) {
    // Kubernetes' names are unique per kind (in a namespace); a Pod and a Deployment's pods share one name space here.
    const key = `${o.kind === 'Deployment' ? 'Pod' : o.kind}/${o.metadata.name}`;
    const before = seen.get(key);
    if (before) {
      throw new UsageError(
        `${o.source}:${o.line}: ${o.kind} "${o.metadata.name}" is defined twice (first as ${before.kind} at ${before.source}:${before.line})`,
      );
    }
    seen.set(key, o);
    if (o.kind === 'ConfigMap') configMaps.set(o.metadata.name, o.data);
    if (o.kind === 'Secret') secrets.set(o.metadata.name, o.data);
    if (o.kind === 'PersistentVolumeClaim') claims.add(o.metadata.name);
  }
  const pods: PodPlan[] = [];
  for (const o of objects) {
    if (o.kind === 'Pod') pods.push(planPod(o.metadata.name, { kind: 'Pod', name: o.metadata.name }, o.metadata, o.spec, { configMaps, secrets }, warnings));
    if (o.kind === 'Deployment') {
      for (let i = 0; i < o.replicas; i++) {
        const name = `${o.metadata.name}-pod-${i}`;
        const meta: KubeMetadata = { name, labels: { ...o.template.labels }, annotations: { ...o.template.annotations } };
        pods.push(planPod(name, { kind: 'Deployment', name: o.metadata.name }, meta, o.template.spec, { configMaps, secrets }, warnings));
      }
    }
  }
  const podNames = new Map<string, PodPlan>();
  const hostPorts = new Map<string, string>();
  const volumes = new Set<string>();
  for (const pod of pods) {
    const other = podNames.get(pod.name);
    if (other)
      throw new UsageError(`pod "${pod.name}" of ${pod.from.kind} "${pod.from.name}" is defined twice (also by ${other.from.kind} "${other.from.name}")`);
    podNames.set(pod.name, pod);
    for (const p of pod.ports) {
      const key = `${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto}`;
      const owner = hostPorts.get(key);
      if (owner) throw new UsageError(`hostPort ${key} is used by both pod "${owner}" and pod "${pod.name}"`);
      hostPorts.set(key, pod.name);
    }
    for (const v of pod.volumes) {
      if (v.source.type !== 'volume') continue;
      // A claim not in this YAML may be a volume that exists already (Podman's behaviour): it is made when missing.
      if (!claims.has(v.source.volume))
        warnings.push(
          `pod "${pod.name}": PersistentVolumeClaim "${v.source.volume}" is not in the YAML: the volume of that name is used (and made if missing)`,
        );
      volumes.add(v.source.volume);
    }
  }
  for (const c of claims) volumes.add(c);
  return { pods, volumes: [...volumes], warnings };
}

function planPod(
  name: string,
  from: PodPlan['from'],
  meta: KubeMetadata,
  spec: PodSpec,
  data: { configMaps: DataObjects; secrets: DataObjects },
  warnings: string[],
): PodPlan {
  const where = `pod "${name}"`;
  const volumes = spec.volumes.map((v) => ({ name: v.name, source: planVolume(v.name, v.source, data, where, warnings) }));
  const volumeNames = new Set<string>();
  for (const v of volumes) {
    if (volumeNames.has(v.name)) throw new UsageError(`${where}: volume "${v.name}" is defined twice`);
    volumeNames.add(v.name);
  }
  const containerNames = new Set<string>();
  const ports: PortSpec[] = [];
  const all = [...spec.initContainers.map((c) => ({ c, init: true })), ...spec.containers.map((c) => ({ c, init: false }))];
  const plans: ContainerPlan[] = [];
  for (const { c, init } of all) {
    if (containerNames.has(c.name)) throw new UsageError(`${where}: container "${c.name}" is defined twice`);
    containerNames.add(c.name);
    for (const m of c.volumeMounts) {
      const v = volumes.find((x) => x.name === m.name);
      if (!v) throw new UsageError(`${where}: container "${c.name}" mounts volume "${m.name}", which the pod does not define`);
      if (m.subPath !== undefined && v.source.type === 'volume')
        throw new UsageError(`${where}: container "${c.name}": subPath on a persistentVolumeClaim is not supported`);
    }
    const targets = new Set<string>();
    for (const m of c.volumeMounts) {
      if (targets.has(m.mountPath)) throw new UsageError(`${where}: container "${c.name}" mounts two volumes on ${m.mountPath}`);
      targets.add(m.mountPath);
    }
    for (const p of c.ports) {
      if (p.hostPort === undefined) continue;
      if (init) {
        warnings.push(`${where}: init container "${c.name}": hostPort ${p.hostPort} is ignored (init containers publish no ports)`);
        continue;
      }
      ports.push({ proto: p.protocol, hostIp: p.hostIP ?? '', hostPort: p.hostPort, containerPort: p.containerPort });
    }
    plans.push({
      name: `${name}-${c.name}`,
      containerName: c.name,
      init,
      options: containerCreateOptions(c, { pod: name, spec, init, data, warnings }),
      mounts: c.volumeMounts.map((m) => ({
        volume: m.name,
        target: m.mountPath,
        readonly: m.readOnly,
        ...(m.subPath !== undefined ? { subPath: m.subPath } : {}),
      })),
      pull: c.imagePullPolicy === 'Always' ? 'always' : c.imagePullPolicy === 'Never' ? 'never' : 'missing',
    });
  }
  const seenPorts = new Set<string>();
  for (const p of ports) {
    const key = `${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto}`;
    if (seenPorts.has(key)) throw new UsageError(`${where}: hostPort ${key} is given twice`);
    seenPorts.add(key);
  }
  if (spec.hostNetwork && ports.length > 0) warnings.push(`${where}: hostNetwork: the pod uses the host's ports directly, hostPort is not published`);
  return {
    name,
    from,
    labels: meta.labels,
    annotations: meta.annotations,
    hostname: spec.hostname ?? name,
    hostNetwork: spec.hostNetwork,
    ports: spec.hostNetwork ? [] : ports,
    extraHosts: spec.hostAliases.flatMap((a) => a.hostnames.map((host) => ({ host, ip: a.ip }))),
    volumes,
    initContainers: plans.filter((p) => p.init),
    containers: plans.filter((p) => !p.init),
  };
}

function planVolume(
  name: string,
  source: VolumeSource,
  data: { configMaps: DataObjects; secrets: DataObjects },
  where: string,
  warnings: string[],
): PodVolumeSource {
  switch (source.type) {
    case 'hostPath': {
      const t = source.hostPathType;
      return {
        type: 'hostPath',
        path: source.path,
        ...(t === 'DirectoryOrCreate' ? { create: 'directory' as const } : t === 'FileOrCreate' ? { create: 'file' as const } : {}),
        ...(t === 'Directory' ? { expect: 'directory' as const } : t === 'File' ? { expect: 'file' as const } : {}),
      };
    }
    case 'emptyDir':
      if (source.medium === 'Memory') warnings.push(`${where}: volume "${name}": emptyDir medium Memory is kept on disk by hull`);
      if (source.sizeLimit !== undefined) {
        parseMemoryQuantity(source.sizeLimit, `${where}: volume "${name}" sizeLimit`);
        warnings.push(`${where}: volume "${name}": emptyDir sizeLimit is not enforced by hull`);
      }
      return { type: 'emptyDir' };
    case 'persistentVolumeClaim':
      return { type: 'volume', volume: source.claimName, readOnly: source.readOnly };
    case 'configMap':
    case 'secret': {
      const kind = source.type === 'configMap' ? 'ConfigMap' : 'Secret';
      const object = (source.type === 'configMap' ? data.configMaps : data.secrets).get(source.name);
      if (!object) {
        if (!source.optional) throw new UsageError(`${where}: volume "${name}" needs ${kind} "${source.name}", which the YAML does not define`);
        return { type: 'files', of: source.type, name: source.name, files: [] };
      }
      return {
        type: 'files',
        of: source.type,
        name: source.name,
        files: projectFiles(object, source.items, source.defaultMode ?? 0o644, `${where}: volume "${name}"`, source.optional),
      };
    }
  }
}

function projectFiles(data: Record<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number, where: string, optional: boolean): ProjectedFile[] {
  if (defaultMode > 0o777) throw new UsageError(`${where}: defaultMode ${defaultMode} is not a file mode (0-0777; YAML 0644 is octal, 420 decimal)`);
  // Kubernetes' key syntax: a file name, never a path.
  for (const key of Object.keys(data))
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..') throw new UsageError(`${where}: key "${key}" is not a valid file name`);
  if (items === undefined) return Object.entries(data).map(([key, bytes]) => ({ path: key, data: bytes, mode: defaultMode }));
  const files: ProjectedFile[] = [];
  for (const item of items) {
    const bytes = data[item.key];
    if (bytes === undefined) {
      if (optional) continue;
      throw new UsageError(`${where}: key "${item.key}" is not in the object`);
    }
    files.push({ path: item.path, data: bytes, mode: item.mode ?? defaultMode });
  }
  return files;
}
