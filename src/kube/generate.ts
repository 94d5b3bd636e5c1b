/**
 * `kube generate POD|CONTAINER`: Pod YAML that `kube play` makes the same pod from — read from what
 * exists (the pod's record, each container's record and runtime-spec, its image's config), not from
 * the YAML a pod may have been played from. What Kubernetes cannot say (a bind of a file kube play
 * projected is written back as a ConfigMap of those files; an emptyDir is the pod's own directory)
 * is mapped as `kube play` maps it the other way; what has no Pod field is left out with a warning.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { HealthConfig } from '../image/types.js';
import type { ExtraHost } from '../network/hosts.js';
import type { PortSpec } from '../network/ports.js';
import { DEFAULT_CAPABILITIES } from '../runtime/capabilities.js';
import { DEFAULT_PATH } from '../runtime/plan.js';
import type { ContainerRecord } from '../runtime/container-store.js';
import type { RuntimeSpec } from '../runtime/spec.js';

/** What generate reads of one container. */
export interface GenerateContainer {
  record: ContainerRecord;
  spec: RuntimeSpec;
  /** The image's config: what the container's own settings are compared with. */
  image: { env: string[]; entrypoint: string[]; cmd: string[]; workdir: string };
}

export interface GenerateInput {
  name: string;
  hostname: string;
  labels: Record<string, string>;
  ports: readonly PortSpec[];
  extraHosts: readonly ExtraHost[];
  hostNetwork: boolean;
  containers: readonly GenerateContainer[];
  /** `<root>/kube/<pod id>/volumes`: binds from there are the pod's emptyDirs and projected files. */
  kubeVolumes?: string;
}

type Yaml = Record<string, unknown>;

const SECOND = 1_000_000_000;

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The YAML (a Pod, and a ConfigMap per projected volume) and the warnings about what it leaves out. */
export async function generatePodYaml(input: GenerateInput): Promise<{ yaml: string; warnings: string[] }> {
  const warnings: string[] = [];
  const volumes = new Map<string, Yaml>();
  const configMaps: Yaml[] = [];
  const containers: Yaml[] = [];
  let restartPolicy: string | undefined;
  const annotations: Record<string, string> = {};
  const prefix = `${input.name}-`;
  for (const [index, c] of input.containers.entries()) {
    const r = c.record;
    const name = r.name.startsWith(prefix) ? r.name.slice(prefix.length) : r.name;
    const out: Yaml = { name, image: r.image };
    const entrypoint = r.entrypoint ?? [];
    const cmd = r.cmd ?? [];
    if (!same(entrypoint, c.image.entrypoint)) {
      out.command = entrypoint;
      if (cmd.length > 0) out.args = cmd;
    } else if (!same(cmd, c.image.cmd)) {
      out.args = cmd;
    }
    const imageEnv = new Set(c.image.env);
    // hull's own (PATH from the image, HOSTNAME, TERM) are not the container's settings.
    const env = c.spec.process.env.filter((e) => !imageEnv.has(e) && !/^(HOSTNAME|TERM)=/.test(e) && e !== `PATH=${DEFAULT_PATH}`);
    if (env.length > 0) out.env = env.map((e) => ({ name: e.slice(0, e.indexOf('=')), value: e.slice(e.indexOf('=') + 1) }));
    const cwd = c.spec.process.cwd;
    if (cwd !== (c.image.workdir || '/')) out.workingDir = cwd;
    if (index === 0 && input.ports.length > 0) {
      // The pod publishes them; Kubernetes writes a hostPort on a container: the first one carries them all.
      out.ports = input.ports.map((p) => ({
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        ...(p.proto !== 'tcp' ? { protocol: p.proto.toUpperCase() } : {}),
        ...(p.hostIp ? { hostIP: p.hostIp } : {}),
      }));
    }
    const resources = containerResources(c.spec);
    if (resources) out.resources = resources;
    const security = containerSecurity(c.spec, r);
    if (security) out.securityContext = security;
    if (r.healthcheck?.Test && r.healthcheck.Test.length > 0 && r.healthcheck.Test[0] !== 'NONE') out.livenessProbe = livenessProbe(r.healthcheck);
    const mounts: Yaml[] = [];
    for (const m of r.mounts ?? []) {
      const vname = await volumeFor(m, input, volumes, configMaps, warnings);
      if (vname === undefined) continue;
      mounts.push({ name: vname, mountPath: m.Destination, ...(m.RW ? {} : { readOnly: true }) });
    }
    if (mounts.length > 0) out.volumeMounts = mounts;
    if (r.tty) out.tty = true;
    if (r.openStdin) out.stdin = true;
    if (r.restartPolicy && restartPolicy === undefined) {
      restartPolicy =
        r.restartPolicy.name === 'always' ? 'Always' : r.restartPolicy.name === 'on-failure' ? 'OnFailure' : r.restartPolicy.name === 'no' ? 'Never' : 'Always';
      if (r.restartPolicy.name === 'unless-stopped') warnings.push(`container ${r.name}: restart policy unless-stopped is written as Always`);
    }
    Object.assign(annotations, r.annotations ?? {});
    containers.push(out);
  }
  const spec: Yaml = {};
  if (input.hostname !== input.name) spec.hostname = input.hostname;
  // One grace period for the pod: written when its containers agree on a stop timeout.
  const timeouts = new Set(input.containers.map((c) => c.record.stopTimeout));
  const [timeout] = timeouts;
  if (timeouts.size === 1 && timeout !== undefined) spec.terminationGracePeriodSeconds = timeout;
  if (input.hostNetwork) spec.hostNetwork = true;
  if (input.extraHosts.length > 0) {
    const byIp = new Map<string, string[]>();
    for (const h of input.extraHosts) byIp.set(h.ip, [...(byIp.get(h.ip) ?? []), h.host]);
    spec.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
  }
  spec.restartPolicy = restartPolicy ?? 'Always';
  spec.containers = containers;
  if (volumes.size > 0) spec.volumes = [...volumes.values()];
  const metadata: Yaml = { name: input.name };
  if (Object.keys(input.labels).length > 0) metadata.labels = input.labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  // A named volume is a claim in the YAML, so that kube play (and kube down --force) know it as theirs.
  const claims = [...volumes.values()].flatMap((v) => {
    const claim = (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
    return claim === undefined
      ? []
      : [
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ];
  });
  const docs = [...configMaps, ...claims, { apiVersion: 'v1', kind: 'Pod', metadata, spec }];
  const yaml = `# Generated by hull kube generate: hull kube play (or kubectl create -f) makes this pod from it.\n${docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')}`;
  return { yaml, warnings };
}

async function volumeFor(
  m: NonNullable<ContainerRecord['mounts']>[number],
  input: GenerateInput,
  volumes: Map<string, Yaml>,
  configMaps: Yaml[],
  warnings: string[],
): Promise<string | undefined> {
  const add = (name: string, source: Yaml): string => {
    if (!volumes.has(name)) volumes.set(name, { name, ...source });
    return name;
  };
  if (m.Type === 'volume') {
    if (m.Name === undefined || /^[0-9a-f]{64}$/.test(m.Name)) {
      warnings.push(`${m.Destination}: an anonymous volume is left out (the image's VOLUME makes one again)`);
      return undefined;
    }
    return add(m.Name, { persistentVolumeClaim: { claimName: m.Name } });
  }
  if (m.Type === 'tmpfs') return add(`tmpfs${m.Destination.replace(/[^a-z0-9]+/g, '-')}`.replace(/-+$/, ''), { emptyDir: { medium: 'Memory' } });
  const kube = input.kubeVolumes;
  if (kube !== undefined && path.dirname(m.Source) === kube) {
    const name = path.basename(m.Source);
    if (m.RW) return add(name, { emptyDir: {} });
    // A ConfigMap or Secret kube play projected: its files, as a ConfigMap of the pod's.
    const mapName = `${input.name}-${name}`;
    if (!volumes.has(name)) {
      const data: Record<string, string> = {};
      let mode: number | undefined;
      for (const entry of await fs.readdir(m.Source, { withFileTypes: true })) {
        if (!entry.isFile()) {
          warnings.push(`volume ${name}: ${entry.name} is not a file, left out`);
          continue;
        }
        const file = path.join(m.Source, entry.name);
        data[entry.name] = await fs.readFile(file, 'utf8');
        mode ??= (await fs.stat(file)).mode & 0o777;
      }
      configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: mapName }, data });
      add(name, { configMap: { name: mapName, ...(mode !== undefined && mode !== 0o644 ? { defaultMode: mode } : {}) } });
    }
    return name;
  }
  const name = `host${m.Source.replace(/[^a-z0-9]+/g, '-')}`.replace(/-+$/, '').slice(0, 63);
  return add(name, { hostPath: { path: m.Source, type: 'Directory' } });
}

function containerResources(spec: RuntimeSpec): Yaml | undefined {
  const r = spec.linux.resources;
  const limits: Yaml = {};
  const requests: Yaml = {};
  if (r?.memory?.limit !== undefined && r.memory.limit > 0) limits.memory = String(r.memory.limit);
  if (r?.memory?.reservation !== undefined && r.memory.reservation > 0) requests.memory = String(r.memory.reservation);
  if (r?.cpu?.quota !== undefined && r.cpu.quota > 0) limits.cpu = `${Math.round((r.cpu.quota / (r.cpu.period ?? 100_000)) * 1000)}m`;
  if (r?.cpu?.shares !== undefined && r.cpu.shares > 0) requests.cpu = `${Math.round((r.cpu.shares / 1024) * 1000)}m`;
  const out: Yaml = {};
  if (Object.keys(limits).length > 0) out.limits = limits;
  if (Object.keys(requests).length > 0) out.requests = requests;
  return Object.keys(out).length > 0 ? out : undefined;
}

function containerSecurity(spec: RuntimeSpec, record: ContainerRecord): Yaml | undefined {
  const out: Yaml = {};
  const user = spec.process.user;
  if (user.uid !== 0) out.runAsUser = user.uid;
  if (user.gid !== 0) out.runAsGroup = user.gid;
  const caps = spec.process.capabilities?.bounding ?? [...DEFAULT_CAPABILITIES];
  const add = caps.filter((c) => !DEFAULT_CAPABILITIES.includes(c)).map((c) => c.replace(/^CAP_/, ''));
  const drop = DEFAULT_CAPABILITIES.filter((c) => !caps.includes(c)).map((c) => c.replace(/^CAP_/, ''));
  // A privileged container has every capability and no seccomp filter.
  if (add.length > 10 && spec.linux.seccomp === undefined) out.privileged = true;
  else if (add.length > 0 || drop.length > 0) out.capabilities = { ...(add.length > 0 ? { add } : {}), ...(drop.length > 0 ? { drop } : {}) };
  if (spec.root.readonly) out.readOnlyRootFilesystem = true;
  if (spec.process.noNewPrivileges && !record.init) out.allowPrivilegeEscalation = false;
  return Object.keys(out).length > 0 ? out : undefined;
}

function livenessProbe(h: HealthConfig): Yaml {
  const test = h.Test ?? [];
  const command = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test.slice(1);
  return {
    exec: { command },
    ...(h.Interval ? { periodSeconds: Math.round(h.Interval / SECOND) } : {}),
    ...(h.Timeout ? { timeoutSeconds: Math.round(h.Timeout / SECOND) } : {}),
    ...(h.StartPeriod ? { initialDelaySeconds: Math.round(h.StartPeriod / SECOND) } : {}),
    ...(h.Retries ? { failureThreshold: h.Retries } : {}),
  };
}
