/**
 * One Kubernetes container → the library's typed CreateOptions (what `hull create` flags or the
 * Engine API's JSON become), with Kubernetes' rules: `command` replaces the image's ENTRYPOINT and
 * `args` its CMD; envFrom first, then env over it; limits become cgroup limits as Podman converts
 * them; a livenessProbe becomes a health check with Kubernetes' default timings. The pod's
 * namespaces, ports and mounts are the executor's (play.ts): they need things that exist.
 */
import { UsageError } from '../errors.js';
import type { HealthConfig } from '../image/types.js';
import type { CreateOptions } from '../runtime/create-options.js';
import type { SpecResources } from '../runtime/spec.js';
import type { ContainerSpec, PodSpec, Probe } from './objects.js';
import { parseCpuQuantity, parseMemoryQuantity, parseQuantity } from './quantity.js';

export interface ContainerContext {
  pod: string;
  spec: PodSpec;
  init: boolean;
  data: { configMaps: Map<string, Record<string, Buffer>>; secrets: Map<string, Record<string, Buffer>> };
  warnings: string[];
}

const SECOND = 1_000_000_000;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function containerCreateOptions(c: ContainerSpec, ctx: ContainerContext): CreateOptions {
  const where = `pod "${ctx.pod}": container "${c.name}"`;
  // The hostname is the pod's (it owns the UTS namespace).
  const options: CreateOptions = { image: c.image, name: `${ctx.pod}-${c.name}` };
  if (c.command !== undefined) {
    options.entrypoint = c.command;
    options.cmd = c.args ?? [];
  } else if (c.args !== undefined) {
    options.cmd = c.args;
  }
  const env = containerEnv(c, ctx, where);
  if (env.length > 0) options.env = env;
  if (c.workingDir !== undefined) options.workdir = c.workingDir;
  if (c.tty) options.tty = true;
  if (c.stdin) options.openStdin = true;
  const resources = containerResources(c, where);
  if (resources) options.resources = resources;
  const s = c.securityContext;
  const uid = s.runAsUser ?? ctx.spec.runAsUser;
  const gid = s.runAsGroup ?? ctx.spec.runAsGroup;
  // runAsGroup alone: Kubernetes runs the image's user with that group; hull's user option needs a user, so root's uid is named.
  if (uid !== undefined || gid !== undefined) options.user = gid !== undefined ? `${uid ?? 0}:${gid}` : `${uid}`;
  if (gid !== undefined && uid === undefined) ctx.warnings.push(`${where}: runAsGroup without runAsUser runs as uid 0 in hull`);
  if (s.capAdd.length > 0) options.capAdd = s.capAdd;
  if (s.capDrop.length > 0) options.capDrop = s.capDrop;
  if (s.readOnlyRootFilesystem) options.readOnly = true;
  if (s.privileged) options.privileged = true;
  if (s.allowPrivilegeEscalation === false) options.noNewPrivileges = true;
  if (c.livenessProbe) options.healthcheck = probeHealthcheck(c.livenessProbe, c, where);
  // Init containers run once; the app containers follow the pod's policy (Kubernetes' names → Docker's).
  const policy = ctx.init ? 'Never' : ctx.spec.restartPolicy;
  options.restartPolicy = { name: policy === 'Always' ? 'always' : policy === 'OnFailure' ? 'on-failure' : 'no', maximumRetryCount: 0 };
  if (ctx.spec.terminationGracePeriodSeconds !== undefined) options.stopTimeout = ctx.spec.terminationGracePeriodSeconds;
  for (const p of c.ports) if (p.hostPort === undefined) (options.exposed ??= []).push({ port: p.containerPort, proto: p.protocol });
  return options;
}

function containerEnv(c: ContainerSpec, ctx: ContainerContext, where: string): string[] {
  const env = new Map<string, string>();
  const lookup = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, Buffer> | undefined =>
    (kind === 'ConfigMap' ? ctx.data.configMaps : ctx.data.secrets).get(name);
  for (const from of c.envFrom) {
    const object = lookup(from.kind, from.name);
    if (!object) {
      if (from.optional) continue;
      throw new UsageError(`${where}: envFrom needs ${from.kind} "${from.name}", which the YAML does not define`);
    }
    for (const [key, value] of Object.entries(object)) {
      const name = from.prefix + key;
      // Kubernetes skips such keys too (with an event): a name the shell cannot hold.
      if (!ENV_NAME.test(name)) {
        ctx.warnings.push(`${where}: envFrom ${from.kind} "${from.name}": key "${key}" is not a valid environment variable name, skipped`);
        continue;
      }
      env.set(name, value.toString('utf8'));
    }
  }
  for (const e of c.env) {
    if (e.valueFrom) {
      const object = lookup(e.valueFrom.kind, e.valueFrom.name);
      const value = object?.[e.valueFrom.key];
      if (value === undefined) {
        if (e.valueFrom.optional) continue;
        const what = object
          ? `key "${e.valueFrom.key}" of ${e.valueFrom.kind} "${e.valueFrom.name}"`
          : `${e.valueFrom.kind} "${e.valueFrom.name}", which the YAML does not define`;
        throw new UsageError(`${where}: env ${e.name} needs ${what}`);
      }
      env.set(e.name, value.toString('utf8'));
    } else {
      // $(VAR) references to earlier variables, as Kubernetes expands them; $$ escapes.
      env.set(e.name, expandReferences(e.value ?? '', env));
    }
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** Kubernetes' $(VAR) expansion: a defined variable is replaced, an undefined one kept as written, $$( is a literal $(. */
export function expandReferences(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    const value = name !== undefined ? env.get(name) : undefined;
    return value ?? match;
  });
}

function containerResources(c: ContainerSpec, where: string): SpecResources | undefined {
  const r: SpecResources = {};
  if (c.limits.memory !== undefined) (r.memory ??= {}).limit = parseMemoryQuantity(c.limits.memory, `${where}: resources.limits.memory`);
  if (c.requests.memory !== undefined) (r.memory ??= {}).reservation = parseMemoryQuantity(c.requests.memory, `${where}: resources.requests.memory`);
  if (c.limits.cpu !== undefined) r.cpu = { ...r.cpu, ...parseCpuQuantity(c.limits.cpu, `${where}: resources.limits.cpu`) };
  if (c.requests.cpu !== undefined) {
    // The kubelet's conversion: shares = milli-CPUs × 1024 / 1000, at least 2.
    const shares = Math.max(2, Math.round(parseQuantity(c.requests.cpu, `${where}: resources.requests.cpu`) * 1024));
    r.cpu = { ...r.cpu, shares };
  }
  return r.memory || r.cpu ? r : undefined;
}

function probePort(port: number | string, c: ContainerSpec, where: string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports.find((p) => p.name === port);
  if (!named) throw new UsageError(`${where}: livenessProbe names port "${port}", which the container does not declare`);
  return named.containerPort;
}

/** Single quotes for sh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The probe as Docker's HealthConfig. httpGet and tcpSocket run inside the container as Podman runs
 * them (curl -f, nc -z); an image without curl gets busybox's wget as the fallback.
 */
export function probeHealthcheck(probe: Probe, c: ContainerSpec, where: string): HealthConfig {
  let test: string[];
  const a = probe.action;
  if (a.type === 'exec') {
    test = ['CMD', ...a.command];
  } else if (a.type === 'httpGet') {
    const url = `${a.scheme}://${a.host ?? 'localhost'}:${probePort(a.port, c, where)}${a.path.startsWith('/') ? '' : '/'}${a.path}`;
    test = ['CMD-SHELL', `curl -fs ${quote(url)} >/dev/null || wget -q -O /dev/null ${quote(url)}`];
  } else {
    test = ['CMD-SHELL', `nc -z ${quote(a.host ?? 'localhost')} ${probePort(a.port, c, where)}`];
  }
  // Kubernetes' defaults (period 10 s, timeout 1 s, 3 failures) rather than Docker's.
  return {
    Test: test,
    Interval: (probe.periodSeconds ?? 10) * SECOND,
    Timeout: (probe.timeoutSeconds ?? 1) * SECOND,
    Retries: probe.failureThreshold ?? 3,
    ...(probe.initialDelaySeconds ? { StartPeriod: probe.initialDelaySeconds * SECOND } : {}),
  };
}
