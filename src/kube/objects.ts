/**
 * The Kubernetes objects `kube play` understands, typed, and the parser that turns multi-document
 * YAML into them: Pod, Deployment, ConfigMap, Secret and PersistentVolumeClaim. A field hull does
 * not apply gets one warning naming it (fields.ts); malformed YAML, an unknown kind or a field of the
 * wrong type is a UsageError that names the line of its document.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { UsageError } from '../errors.js';
import { Fields, type ReadContext } from './fields.js';

export interface KubeMetadata {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type RestartPolicyKind = 'Always' | 'OnFailure' | 'Never';

export interface EnvVar {
  name: string;
  value?: string;
  /** configMapKeyRef / secretKeyRef. */
  valueFrom?: { kind: 'ConfigMap' | 'Secret'; name: string; key: string; optional: boolean };
}

export interface EnvFromSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  prefix: string;
  optional: boolean;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Published on the host when given. */
  hostPort?: number;
  hostIP?: string;
  protocol: 'tcp' | 'udp';
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
  subPath?: string;
}

export type ProbeAction =
  | { type: 'exec'; command: string[] }
  | { type: 'httpGet'; host?: string; port: number | string; path: string; scheme: 'http' | 'https' }
  | { type: 'tcpSocket'; host?: string; port: number | string };

export interface Probe {
  action: ProbeAction;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  capAdd: string[];
  capDrop: string[];
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env: EnvVar[];
  envFrom: EnvFromSource[];
  ports: ContainerPort[];
  volumeMounts: VolumeMount[];
  limits: { cpu?: string | number; memory?: string | number };
  requests: { cpu?: string | number; memory?: string | number };
  securityContext: ContainerSecurity;
  livenessProbe?: Probe;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  stdin: boolean;
  tty: boolean;
}

/** A key of a ConfigMap or Secret projected into a file of a volume. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export type VolumeSource =
  | { type: 'hostPath'; path: string; hostPathType: string }
  | { type: 'emptyDir'; medium: '' | 'Memory'; sizeLimit?: string | number }
  | { type: 'configMap' | 'secret'; name: string; items?: KeyToPath[]; defaultMode?: number; optional: boolean }
  | { type: 'persistentVolumeClaim'; claimName: string; readOnly: boolean };

export interface VolumeSpec {
  name: string;
  source: VolumeSource;
}

export interface PodSpec {
  containers: ContainerSpec[];
  initContainers: ContainerSpec[];
  volumes: VolumeSpec[];
  restartPolicy: RestartPolicyKind;
  hostname?: string;
  hostNetwork: boolean;
  /** Pod-level runAsUser/runAsGroup: each container's own securityContext overrides them. */
  runAsUser?: number;
  runAsGroup?: number;
  terminationGracePeriodSeconds?: number;
  hostAliases: { ip: string; hostnames: string[] }[];
}

interface Located {
  /** The line of the document's first line in its source (1-based). */
  line: number;
  /** The file the document came from ('-' for stdin). */
  source: string;
  metadata: KubeMetadata;
}

export type KubeObject =
  | (Located & { kind: 'Pod'; spec: PodSpec })
  | (Located & { kind: 'Deployment'; replicas: number; template: { labels: Record<string, string>; annotations: Record<string, string>; spec: PodSpec } })
  | (Located & { kind: 'ConfigMap'; data: Record<string, Buffer> })
  | (Located & { kind: 'Secret'; data: Record<string, Buffer> })
  | (Located & { kind: 'PersistentVolumeClaim' });

export type KubeKind = KubeObject['kind'];

export const KUBE_KINDS: readonly KubeKind[] = ['Pod', 'Deployment', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'];

/** Kubernetes object names (RFC 1123 subdomain; a pod's containers' names are DNS labels). */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every object of a YAML stream, in order, with the warnings about the fields hull ignores. */
export function parseKubeYaml(text: string, source = '-'): { objects: KubeObject[]; warnings: string[] } {
  const lineCounter = new LineCounter();
  // YAML 1.1, as Kubernetes reads it (go-yaml): `defaultMode: 0644` is octal there, decimal in YAML 1.2.
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, version: '1.1' });
  if (!Array.isArray(docs)) return { objects: [], warnings: [] };
  // Syntax first, over every document: a broken stream plays nothing.
  for (const doc of docs) {
    const error = doc.errors[0];
    if (!error) continue;
    const at = error.linePos?.[0];
    const firstLine = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`${source}${at ? `:${at.line}:${at.col}` : ''}: invalid YAML: ${firstLine}`);
  }
  const objects: KubeObject[] = [];
  const warnings: string[] = [];
  for (const doc of docs) {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // an empty document (`---` at the end)
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    objects.push(parseObject(value, source, line, warnings));
  }
  return { objects, warnings };
}

function parseObject(value: unknown, source: string, line: number, warnings: string[]): KubeObject {
  const where = `${source}:${line}`;
  const top = Fields.of(value, '', { object: where, warnings });
  const kind = top.string('kind');
  if (kind === undefined) throw new UsageError(`${where}: the document has no kind`);
  if (!(KUBE_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`${where}: kind "${kind}" is not supported by hull kube play (${KUBE_KINDS.join(', ')})`);
  }
  const meta = top.object('metadata');
  const rawName = meta?.value.name;
  const ctx: ReadContext = { object: `${kind} "${typeof rawName === 'string' ? rawName : '?'}" (${where})`, warnings };
  const reread = new Fields(top.value, '', ctx);
  reread.accept('kind', 'metadata');
  const apiVersion = reread.string('apiVersion');
  if (apiVersion === undefined) reread.fail('apiVersion', 'is required');
  const metadata = parseMetadata(Fields.of(top.value.metadata ?? {}, 'metadata', ctx), kind === 'Pod' || kind === 'Deployment');
  const located = { line, source, metadata };
  let object: KubeObject;
  switch (kind) {
    case 'Pod': {
      const spec = reread.object('spec') ?? reread.fail('spec', 'is required');
      object = { ...located, kind, spec: parsePodSpec(spec) };
      break;
    }
    case 'Deployment': {
      const spec = reread.object('spec') ?? reread.fail('spec', 'is required');
      const replicas = spec.integer('replicas') ?? 1;
      spec.accept('selector'); // the template's labels are the pods' labels; a selector picks nothing on one host
      const template = spec.object('template') ?? spec.fail('template', 'is required');
      const tmeta = template.object('metadata');
      const labels = tmeta?.stringMap('labels') ?? {};
      const annotations = tmeta?.stringMap('annotations') ?? {};
      if (tmeta) {
        tmeta.accept('name');
        tmeta.done();
      }
      const podSpec = parsePodSpec(template.object('spec') ?? template.fail('spec', 'is required'));
      template.done();
      spec.done();
      object = { ...located, kind, replicas, template: { labels, annotations, spec: podSpec } };
      break;
    }
    case 'ConfigMap':
    case 'Secret': {
      const data: Record<string, Buffer> = {};
      const text = reread.stringMap(kind === 'Secret' ? 'stringData' : 'data');
      const binary = reread.stringMap(kind === 'Secret' ? 'data' : 'binaryData');
      for (const [k, v] of Object.entries(binary)) {
        if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) reread.fail(`${kind === 'Secret' ? 'data' : 'binaryData'}.${k}`, 'is not base64');
        data[k] = Buffer.from(v, 'base64');
      }
      // Kubernetes: stringData wins over data for a key in both.
      for (const [k, v] of Object.entries(text)) data[k] = Buffer.from(v, 'utf8');
      if (kind === 'Secret') {
        const type = reread.string('type');
        if (type !== undefined && type !== 'Opaque') ctx.warnings.push(`${ctx.object}: type ${type} is kept as Opaque data`);
      }
      reread.accept('immutable');
      object = { ...located, kind, data };
      break;
    }
    case 'PersistentVolumeClaim': {
      // A named volume on one host: the claim's size, access modes and storage class have no meaning here.
      const spec = reread.object('spec');
      spec?.accept('accessModes', 'resources', 'storageClassName', 'volumeMode');
      spec?.done();
      object = { ...located, kind };
      break;
    }
    default:
      throw new UsageError(`${where}: kind "${kind}" is not supported`);
  }
  reread.accept('status');
  reread.done();
  return object;
}

function parseMetadata(meta: Fields, podLike: boolean): KubeMetadata {
  const name = meta.requiredString('name');
  if (!NAME.test(name) || name.length > (podLike ? 63 : 253)) meta.fail('name', `"${name}" is not a valid name (lower case letters, digits, '-' and '.')`);
  const labels = meta.stringMap('labels');
  const annotations = meta.stringMap('annotations');
  // One host has one namespace; the others are set by a cluster, not by the author of the YAML.
  meta.accept('namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields');
  meta.done();
  return { name, labels, annotations };
}

function parseRestartPolicy(spec: Fields): RestartPolicyKind {
  const policy = spec.string('restartPolicy') ?? 'Always';
  if (policy !== 'Always' && policy !== 'OnFailure' && policy !== 'Never') spec.fail('restartPolicy', `must be Always, OnFailure or Never, not "${policy}"`);
  return policy;
}

function parsePodSpec(spec: Fields): PodSpec {
  const containers = spec.list('containers').map((c) => parseContainer(c, false));
  if (containers.length === 0) spec.fail('containers', 'must have at least one container');
  const initContainers = spec.list('initContainers').map((c) => parseContainer(c, true));
  const volumes = spec.list('volumes').map(parseVolume);
  const restartPolicy = parseRestartPolicy(spec);
  const hostname = spec.string('hostname');
  const hostNetwork = spec.boolean('hostNetwork') ?? false;
  const security = spec.object('securityContext');
  const runAsUser = security?.integer('runAsUser');
  const runAsGroup = security?.integer('runAsGroup');
  security?.done();
  const terminationGracePeriodSeconds = spec.integer('terminationGracePeriodSeconds');
  const hostAliases = spec.list('hostAliases').map((a) => {
    const alias = { ip: a.requiredString('ip'), hostnames: a.stringList('hostnames') ?? [] };
    a.done();
    return alias;
  });
  // A scheduler's fields: one host is the only node.
  spec.accept('nodeName', 'nodeSelector', 'affinity', 'tolerations', 'schedulerName', 'priorityClassName', 'dnsPolicy', 'serviceAccountName', 'serviceAccount');
  spec.done();
  const pod: PodSpec = { containers, initContainers, volumes, restartPolicy, hostNetwork, hostAliases };
  if (hostname !== undefined) pod.hostname = hostname;
  if (runAsUser !== undefined) pod.runAsUser = runAsUser;
  if (runAsGroup !== undefined) pod.runAsGroup = runAsGroup;
  if (terminationGracePeriodSeconds !== undefined) pod.terminationGracePeriodSeconds = terminationGracePeriodSeconds;
  return pod;
}

function parseContainer(c: Fields, init: boolean): ContainerSpec {
  const name = c.requiredString('name');
  if (!LABEL_NAME.test(name)) c.fail('name', `"${name}" is not a valid container name (lower case letters, digits and '-')`);
  const image = c.string('image');
  if (image === undefined || image === '') throw new UsageError(`${c.ctx.object}: container "${name}" has no image`);
  const spec: ContainerSpec = {
    name,
    image,
    env: c.list('env').map(parseEnvVar),
    envFrom: c.list('envFrom').map(parseEnvFrom),
    ports: c.list('ports').map(parsePort),
    volumeMounts: c.list('volumeMounts').map((m) => {
      const mount: VolumeMount = { name: m.requiredString('name'), mountPath: m.requiredString('mountPath'), readOnly: m.boolean('readOnly') ?? false };
      const subPath = m.string('subPath');
      if (subPath !== undefined && subPath !== '') {
        if (subPath.startsWith('/') || subPath.split('/').includes('..')) m.fail('subPath', `"${subPath}" must be a relative path without ".."`);
        mount.subPath = subPath;
      }
      m.done();
      return mount;
    }),
    limits: {},
    requests: {},
    securityContext: { capAdd: [], capDrop: [] },
    stdin: c.boolean('stdin') ?? false,
    tty: c.boolean('tty') ?? false,
  };
  const command = c.stringList('command');
  if (command !== undefined) spec.command = command;
  const args = c.stringList('args');
  if (args !== undefined) spec.args = args;
  const workingDir = c.string('workingDir');
  if (workingDir !== undefined) spec.workingDir = workingDir;
  const resources = c.object('resources');
  if (resources) {
    for (const which of ['limits', 'requests'] as const) {
      const r = resources.object(which);
      if (!r) continue;
      for (const key of ['cpu', 'memory'] as const) {
        const v = r.raw(key);
        if (v === undefined) continue;
        if (typeof v !== 'string' && typeof v !== 'number') r.fail(key, 'must be a quantity');
        spec[which][key] = v as string | number;
      }
      r.done();
    }
    resources.done();
  }
  const sec = c.object('securityContext');
  if (sec) {
    const s = spec.securityContext;
    const user = sec.integer('runAsUser');
    if (user !== undefined) s.runAsUser = user;
    const group = sec.integer('runAsGroup');
    if (group !== undefined) s.runAsGroup = group;
    const caps = sec.object('capabilities');
    if (caps) {
      s.capAdd = caps.stringList('add') ?? [];
      s.capDrop = caps.stringList('drop') ?? [];
      caps.done();
    }
    const ro = sec.boolean('readOnlyRootFilesystem');
    if (ro !== undefined) s.readOnlyRootFilesystem = ro;
    const privileged = sec.boolean('privileged');
    if (privileged !== undefined) s.privileged = privileged;
    const escalation = sec.boolean('allowPrivilegeEscalation');
    if (escalation !== undefined) s.allowPrivilegeEscalation = escalation;
    // runAsNonRoot is a check a kubelet makes against the image; hull applies runAsUser as given.
    sec.done();
  }
  const probe = c.object('livenessProbe');
  if (probe) {
    if (init) probe.fail('', 'is not allowed on an init container');
    spec.livenessProbe = parseProbe(probe);
  }
  const pull = c.string('imagePullPolicy');
  if (pull !== undefined) {
    if (pull !== 'Always' && pull !== 'IfNotPresent' && pull !== 'Never') c.fail('imagePullPolicy', `must be Always, IfNotPresent or Never, not "${pull}"`);
    spec.imagePullPolicy = pull;
  }
  // Kubernetes' defaults for the termination log: nothing to do on one host.
  c.accept('terminationMessagePath', 'terminationMessagePolicy');
  c.done();
  return spec;
}

function parseEnvVar(e: Fields): EnvVar {
  const name = e.requiredString('name');
  const env: EnvVar = { name };
  const value = e.string('value');
  if (value !== undefined) env.value = value;
  const from = e.object('valueFrom');
  if (from) {
    const cm = from.object('configMapKeyRef');
    const secret = from.object('secretKeyRef');
    const ref = cm ?? secret;
    if (ref) {
      env.valueFrom = {
        kind: cm ? 'ConfigMap' : 'Secret',
        name: ref.requiredString('name'),
        key: ref.requiredString('key'),
        optional: ref.boolean('optional') ?? false,
      };
      ref.done();
    }
    // fieldRef and resourceFieldRef read a cluster's API objects: warned by done().
    from.done();
  }
  e.done();
  return env;
}

function parseEnvFrom(e: Fields): EnvFromSource {
  const prefix = e.string('prefix') ?? '';
  const cm = e.object('configMapRef');
  const secret = e.object('secretRef');
  const ref = cm ?? secret;
  if (!ref || (cm && secret)) e.fail('', 'needs one of configMapRef or secretRef');
  const source: EnvFromSource = { kind: cm ? 'ConfigMap' : 'Secret', name: ref.requiredString('name'), prefix, optional: ref.boolean('optional') ?? false };
  ref.done();
  e.done();
  return source;
}

function parsePort(p: Fields): ContainerPort {
  const containerPort = p.integer('containerPort', 1);
  if (containerPort === undefined || containerPort > 65535) p.fail('containerPort', 'must be a port number (1-65535)');
  const proto = (p.string('protocol') ?? 'TCP').toUpperCase();
  if (proto !== 'TCP' && proto !== 'UDP') p.fail('protocol', `${proto} is not supported (TCP or UDP)`);
  const port: ContainerPort = { containerPort, protocol: proto === 'TCP' ? 'tcp' : 'udp' };
  const name = p.string('name');
  if (name !== undefined) port.name = name;
  const hostPort = p.integer('hostPort', 0);
  if (hostPort !== undefined && hostPort > 65535) p.fail('hostPort', 'must be a port number (1-65535)');
  if (hostPort) port.hostPort = hostPort;
  const hostIP = p.string('hostIP');
  if (hostIP !== undefined && hostIP !== '') port.hostIP = hostIP;
  p.done();
  return port;
}

function parseProbe(p: Fields): Probe {
  const exec = p.object('exec');
  const http = p.object('httpGet');
  const tcp = p.object('tcpSocket');
  let action: ProbeAction;
  if (exec) {
    action = { type: 'exec', command: exec.stringList('command') ?? exec.fail('command', 'is required') };
    exec.done();
  } else if (http) {
    const scheme = (http.string('scheme') ?? 'HTTP').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') http.fail('scheme', 'must be HTTP or HTTPS');
    const port = http.intOrString('port') ?? http.fail('port', 'is required');
    const host = http.string('host');
    action = {
      type: 'httpGet',
      port,
      path: http.string('path') ?? '/',
      scheme: scheme === 'https' ? 'https' : 'http',
      ...(host !== undefined ? { host } : {}),
    };
    http.done();
  } else if (tcp) {
    const port = tcp.intOrString('port') ?? tcp.fail('port', 'is required');
    const host = tcp.string('host');
    action = { type: 'tcpSocket', port, ...(host !== undefined ? { host } : {}) };
    tcp.done();
  } else {
    p.fail('', 'needs one of exec, httpGet or tcpSocket');
  }
  const probe: Probe = { action };
  for (const key of ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold'] as const) {
    const v = p.integer(key);
    if (v !== undefined) probe[key] = v;
  }
  // A liveness probe's successThreshold must be 1 in Kubernetes: nothing to apply.
  p.accept('successThreshold');
  p.done();
  return probe;
}

function parseKeyToPath(items: Fields[]): KeyToPath[] {
  return items.map((i) => {
    const item: KeyToPath = { key: i.requiredString('key'), path: i.requiredString('path') };
    if (item.path.startsWith('/') || item.path.split('/').includes('..')) i.fail('path', `"${item.path}" must be a relative path without ".."`);
    const mode = i.integer('mode');
    if (mode !== undefined) item.mode = mode;
    i.done();
    return item;
  });
}

function parseVolume(v: Fields): VolumeSpec {
  const name = v.requiredString('name');
  const kinds = ['hostPath', 'emptyDir', 'configMap', 'secret', 'persistentVolumeClaim'].filter((k) => v.has(k));
  if (kinds.length > 1) v.fail('', `volume "${name}" has more than one source (${kinds.join(', ')})`);
  let source: VolumeSource;
  const hostPath = v.object('hostPath');
  const emptyDir = v.object('emptyDir');
  const configMap = v.object('configMap');
  const secret = v.object('secret');
  const pvc = v.object('persistentVolumeClaim');
  if (hostPath) {
    const path = hostPath.requiredString('path');
    if (!path.startsWith('/')) hostPath.fail('path', `"${path}" must be absolute`);
    source = { type: 'hostPath', path, hostPathType: hostPath.string('type') ?? '' };
    const allowed = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File'];
    if (!allowed.includes(source.hostPathType)) hostPath.fail('type', `${source.hostPathType} is not supported (${allowed.slice(1).join(', ')})`);
    hostPath.done();
  } else if (emptyDir) {
    const medium = emptyDir.string('medium') ?? '';
    if (medium !== '' && medium !== 'Memory') emptyDir.fail('medium', `must be "" or Memory, not "${medium}"`);
    const size = emptyDir.raw('sizeLimit');
    if (size !== undefined && typeof size !== 'string' && typeof size !== 'number') emptyDir.fail('sizeLimit', 'must be a quantity');
    source = { type: 'emptyDir', medium: medium === 'Memory' ? 'Memory' : '', ...(size !== undefined ? { sizeLimit: size as string | number } : {}) };
    emptyDir.done();
  } else if (configMap || secret) {
    const f = (configMap ?? secret) as Fields;
    const refName = configMap ? f.requiredString('name') : f.requiredString('secretName');
    source = { type: configMap ? 'configMap' : 'secret', name: refName, optional: f.boolean('optional') ?? false };
    const items = f.list('items');
    if (items.length > 0) source.items = parseKeyToPath(items);
    const mode = f.integer('defaultMode');
    if (mode !== undefined) source.defaultMode = mode;
    f.done();
  } else if (pvc) {
    source = { type: 'persistentVolumeClaim', claimName: pvc.requiredString('claimName'), readOnly: pvc.boolean('readOnly') ?? false };
    pvc.done();
  } else {
    v.done();
    v.fail('', `volume "${name}" has no source hull supports (hostPath, emptyDir, configMap, secret, persistentVolumeClaim)`);
  }
  v.done();
  return { name, source };
}
