/**
 * `POST /containers/create`'s body (Docker's Config with HostConfig and NetworkingConfig, as
 * docker CLI 20.10 and docker-compose 1.29 send them) → the library's typed CreateOptions, the
 * same options the CLI's flags become (src/cli/commands/container-flags.ts): the fields that are
 * strings in Docker's own syntax go through the same parsers of src/options/, the numbers through
 * the same checks (resourcesFromValues). A field hull cannot honour is refused with 400 naming it,
 * unless it holds its zero value (the CLI sends every field, most of them empty): never dropped.
 */
import type { HealthConfig } from '../image/types.js';
import { UsageError } from '../errors.js';
import type { CreateOptions } from '../runtime/runtime.js';
import type { SpecResources } from '../runtime/spec.js';
import type { DeviceMapping } from '../runtime/security.js';
import type { PortSpec } from '../network/ports.js';
import { RESTART_POLICIES, type RestartPolicyName } from '../runtime/plan-codec.js';
import { type MountRequest, PROPAGATIONS, type Propagation } from '../volume/requests.js';
import { parseCgroupnsMode, parseIpcMode, parsePidMode, parseUtsMode } from '../options/namespaces.js';
import { parseDevice, parseDeviceCgroupRule } from '../options/devices.js';
import { parseEnvEntries } from '../options/env.js';
import { parseLogConfig, parseLogDriver } from '../options/log.js';
import { mountFromFields, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from '../options/mounts.js';
import { parseExtraHost, parseNetworkMode } from '../options/network.js';
import { parseExpose, parseProto } from '../options/ports.js';
import { type ResourceValues, resourcesFromValues } from '../options/resources.js';
import { parseSecurityOpts } from '../options/security.js';
import { parseSysctls } from '../options/sysctls.js';
import { platformFromText } from '../image/platform.js';

type Json = Record<string, unknown>;

/** What a create request asks for: the typed options, and Docker's warnings about fields it discards (as its daemon's). */
export interface ApiCreate {
  options: CreateOptions;
  warnings: string[];
}

/** Docker's zero values: null, '', 0, false, and arrays or objects of nothing but zero values. */
export function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.every(isZero);
  if (typeof v === 'object') return Object.values(v as Json).every(isZero);
  return false;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Typed readers of one section's fields: each names the field (`HostConfig.Memory`) in its refusal. */
class Section {
  readonly used = new Set<string>();
  constructor(
    readonly name: string,
    readonly body: Json,
  ) {}

  private take(key: string): unknown {
    this.used.add(key);
    const v = this.body[key];
    return v === null ? undefined : v;
  }
  private bad(key: string, want: string): UsageError {
    return new UsageError(`${this.name}.${key}: ${want} expected, got ${JSON.stringify(this.body[key])}`);
  }
  str(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.bad(key, 'a string');
    return v;
  }
  /** A string, undefined when empty. */
  text(key: string): string | undefined {
    return this.str(key) || undefined;
  }
  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.bad(key, 'a boolean');
    return v;
  }
  int(key: string): number | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw this.bad(key, 'an integer');
    return v;
  }
  /** An integer, undefined when 0 (Docker's "not set"). */
  nonZero(key: string): number | undefined {
    return this.int(key) || undefined;
  }
  strings(key: string): string[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    // Docker's strslice: a string is a one-word list.
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw this.bad(key, 'a list of strings');
    return v;
  }
  map(key: string): Record<string, unknown> | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw this.bad(key, 'an object');
    return v;
  }
  stringMap(key: string): Record<string, string> | undefined {
    const m = this.map(key);
    if (m === undefined) return undefined;
    if (!Object.values(m).every((s) => typeof s === 'string')) throw this.bad(key, 'an object of strings');
    return m as Record<string, string>;
  }
  objects(key: string): Json[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(isObject)) throw this.bad(key, 'a list of objects');
    return v;
  }
  /** Fields hull knows it will not honour: refused unless zero. */
  refuse(keys: readonly string[], why: string): void {
    for (const key of keys) {
      this.used.add(key);
      if (!isZero(this.body[key])) throw new UsageError(`${this.name}.${key} is not supported by hull${why ? ` (${why})` : ''}`);
    }
  }
  /** Fields that only matter to the client (or to Windows), whatever they hold. */
  ignore(keys: readonly string[]): void {
    for (const key of keys) this.used.add(key);
  }
  /** Every field not read is a field hull does not know: refused unless zero, never dropped. */
  rest(): void {
    for (const [key, v] of Object.entries(this.body)) {
      if (!this.used.has(key) && !isZero(v)) throw new UsageError(`${this.name}.${key} is not supported by hull`);
    }
  }
}

function section(name: string, v: unknown): Section {
  if (v === undefined || v === null) return new Section(name, {});
  if (!isObject(v)) throw new UsageError(`${name}: an object expected`);
  return new Section(name, v);
}

/** Docker's PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}. */
function portBindings(bindings: Record<string, unknown>): PortSpec[] {
  const out: PortSpec[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const exposed = parseExpose(key);
    const entries = list === null ? [{}] : list;
    if (!Array.isArray(entries) || !entries.every(isObject)) throw new UsageError(`HostConfig.PortBindings.${key}: a list of {HostIp, HostPort} expected`);
    for (const b of entries) {
      const hostIp = typeof b.HostIp === 'string' && b.HostIp !== '0.0.0.0' ? b.HostIp : '';
      const hostPortText = typeof b.HostPort === 'string' ? b.HostPort : '';
      const [hStart, hEnd] = hostPortText === '' ? [0, 0] : hostPortText.split('-').map(Number);
      if (!Number.isInteger(hStart) || (hEnd !== undefined && !Number.isInteger(hEnd)) || hStart! < 0 || hStart! > 65535) {
        throw new UsageError(`HostConfig.PortBindings.${key}: invalid HostPort ${JSON.stringify(b.HostPort)}`);
      }
      exposed.forEach((p, i) => {
        const hostPort = hStart === 0 ? 0 : hStart! + (hEnd !== undefined && hEnd !== hStart ? i : 0);
        out.push({ proto: parseProto(p.proto), hostIp, hostPort, containerPort: p.port });
      });
    }
  }
  return out;
}

function restartPolicy(policy: Json | undefined): CreateOptions['restartPolicy'] {
  if (policy === undefined) return undefined;
  const name = policy.Name === undefined || policy.Name === '' ? 'no' : policy.Name;
  const count = policy.MaximumRetryCount ?? 0;
  if (typeof name !== 'string' || !(RESTART_POLICIES as readonly string[]).includes(name)) {
    throw new UsageError(`invalid restart policy ${JSON.stringify(name)}: use no, on-failure, always or unless-stopped`);
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
    throw new UsageError('HostConfig.RestartPolicy.MaximumRetryCount: an integer >= 0 expected');
  if (count > 0 && name !== 'on-failure') throw new UsageError(`invalid restart policy '${name}': maximum retry count can only be used with 'on-failure'`);
  return { name: name as RestartPolicyName, maximumRetryCount: count };
}

/** A HostConfig.Mounts entry (what `--mount` sends): the same checks as hull's `--mount` (mountFromFields). */
function structuredMount(raw: Json, i: number): MountRequest {
  const m = new Section(`HostConfig.Mounts[${i}]`, raw);
  const type = m.text('Type');
  const target = m.text('Target');
  if (target === undefined) throw new UsageError(`HostConfig.Mounts[${i}].Target must be set`);
  const bind = new Section(`HostConfig.Mounts[${i}].BindOptions`, m.map('BindOptions') ?? {});
  const volume = new Section(`HostConfig.Mounts[${i}].VolumeOptions`, m.map('VolumeOptions') ?? {});
  const tmpfs = new Section(`HostConfig.Mounts[${i}].TmpfsOptions`, m.map('TmpfsOptions') ?? {});
  const propagation = bind.text('Propagation');
  if (propagation !== undefined && !(PROPAGATIONS as readonly string[]).includes(propagation)) {
    throw new UsageError(`HostConfig.Mounts[${i}].BindOptions.Propagation: invalid '${propagation}' (use ${PROPAGATIONS.join(', ')})`);
  }
  const noCopy = volume.bool('NoCopy') ?? false;
  const size = tmpfs.nonZero('SizeBytes');
  const mode = tmpfs.nonZero('Mode');
  const given = new Set<string>();
  if (propagation !== undefined) given.add('bind-propagation');
  if (noCopy) given.add('volume-nocopy');
  if (size !== undefined) given.add('tmpfs-size');
  if (mode !== undefined) given.add('tmpfs-mode');
  m.ignore(['Consistency']); // macOS file sharing: nothing on Linux
  bind.refuse(['NonRecursive'], '');
  volume.refuse(['Labels'], 'labels of a volume made by a mount: create it with labels first');
  const driver = section('VolumeOptions.DriverConfig', volume.map('DriverConfig'));
  const driverName = driver.text('Name');
  if (driverName !== undefined && driverName !== 'local') throw new UsageError(`HostConfig.Mounts[${i}]: only the local volume driver exists in hull`);
  driver.refuse(['Options'], '');
  const source = m.text('Source');
  const readonly = m.bool('ReadOnly') ?? false;
  for (const sec of [m, bind, volume, tmpfs, driver]) sec.rest();
  return mountFromFields({
    ...(type !== undefined ? { type } : {}),
    ...(source !== undefined ? { source } : {}),
    target,
    readonly,
    ...(propagation !== undefined ? { propagation: propagation as Propagation } : {}),
    noCopy,
    ...(size !== undefined ? { size } : {}),
    ...(mode !== undefined ? { mode } : {}),
    given,
  });
}

/** A Devices entry ({PathOnHost, PathInContainer, CgroupPermissions}): checked as `--device` is. */
function deviceMapping(d: Json): DeviceMapping {
  const text = (key: string) => {
    const v = d[key];
    if (v !== undefined && v !== null && typeof v !== 'string') throw new UsageError(`HostConfig.Devices: ${key} must be a string`);
    return v ?? '';
  };
  const host = text('PathOnHost');
  const inContainer = text('PathInContainer') || host;
  const permissions = text('CgroupPermissions') || 'rwm';
  return parseDevice(`${host}:${inContainer}:${permissions}`);
}

/** HostConfig's resource numbers (0: not set, as Docker's). */
function resourceValues(h: Section, warnings: string[]): ResourceValues {
  const v: ResourceValues = {};
  const set = <K extends keyof ResourceValues>(key: K, value: ResourceValues[K] | undefined) => {
    if (value !== undefined) v[key] = value;
  };
  set('memory', h.nonZero('Memory'));
  set('memorySwap', h.nonZero('MemorySwap'));
  set('memoryReservation', h.nonZero('MemoryReservation'));
  set('nanoCpus', h.nonZero('NanoCpus'));
  set('cpuPeriod', h.nonZero('CpuPeriod'));
  set('cpuQuota', h.nonZero('CpuQuota'));
  set('cpuShares', h.nonZero('CpuShares'));
  set('cpusetCpus', h.text('CpusetCpus'));
  set('cpusetMems', h.text('CpusetMems'));
  // Docker: 0 and null are "not set" (and so is -1 with API < 1.41's clients); -1 is unlimited.
  set('pidsLimit', h.nonZero('PidsLimit'));
  set('blkioWeight', h.nonZero('BlkioWeight'));
  const swappiness = h.int('MemorySwappiness');
  if (swappiness !== undefined && swappiness !== -1) {
    // As Docker on cgroup v2 (the CLI's run says the same).
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
  }
  if (h.bool('OomKillDisable')) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
  return v;
}

/** The create request's body and query (`name`, `platform`) → CreateOptions. */
export function createOptionsFromApi(body: unknown, query: URLSearchParams): ApiCreate {
  if (!isObject(body)) throw new UsageError("the request body must be a JSON object (Docker's container Config)");
  const c = new Section('Config', body);
  const h = section('HostConfig', c.map('HostConfig'));
  const n = section('NetworkingConfig', c.map('NetworkingConfig'));
  const warnings: string[] = [];

  const image = c.str('Image');
  if (!image) throw new UsageError('Config.Image must be set: the image to create the container from');
  const entrypoint = c.strings('Entrypoint');
  const mounts: MountRequest[] = [];
  for (const bind of h.strings('Binds') ?? []) mounts.push(parseVolumeFlag(bind));
  // Anonymous volumes (`-v /data`): Config.Volumes keys.
  for (const target of Object.keys(c.map('Volumes') ?? {})) {
    if (!mounts.some((m) => m.target === target)) mounts.push(parseVolumeFlag(target));
  }
  for (const [target, opts] of Object.entries(h.stringMap('Tmpfs') ?? {})) mounts.push(parseTmpfsFlag(opts ? `${target}:${opts}` : target));
  (h.objects('Mounts') ?? []).forEach((m, i) => mounts.push(structuredMount(m, i)));
  const log = h.map('LogConfig');
  const logType = log?.Type;
  const logOpts = log?.Config ?? {};
  if ((logType !== undefined && typeof logType !== 'string') || !isObject(logOpts) || !Object.values(logOpts).every((s) => typeof s === 'string')) {
    throw new UsageError('HostConfig.LogConfig: {"Type": string, "Config": {string: string}} expected');
  }
  const networkText = h.text('NetworkMode');
  const network = networkText === undefined || networkText === 'default' ? undefined : parseNetworkMode(networkText);
  // NetworkingConfig.EndpointsConfig: the aliases and address on the container's network (the one of NetworkMode).
  const endpoints = n.map('EndpointsConfig') ?? {};
  let networkAliases: string[] | undefined;
  let ip: string | undefined;
  for (const [name, raw] of Object.entries(endpoints)) {
    const e = section(`NetworkingConfig.EndpointsConfig.${name}`, raw);
    if (name !== networkText && !isZero(raw))
      throw new UsageError(`NetworkingConfig.EndpointsConfig.${name}: only the network of HostConfig.NetworkMode can be joined at create`);
    networkAliases = e.strings('Aliases');
    ip = section(`NetworkingConfig.EndpointsConfig.${name}.IPAMConfig`, e.map('IPAMConfig')).text('IPv4Address');
    e.ignore(['IPAMConfig', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen', 'MacAddress', 'DriverOpts']);
    e.refuse(['Links'], 'legacy links');
    e.rest();
  }
  h.ignore(['ConsoleSize']);
  const consoleSize = h.body.ConsoleSize;
  const sysctls = h.stringMap('Sysctls');
  const pidMode = h.text('PidMode');
  const ipcMode = h.text('IpcMode');
  const utsMode = h.text('UTSMode');
  const cgroupnsMode = h.text('CgroupnsMode');
  const platform = query.get('platform');
  const options: CreateOptions = {
    image,
    ...(query.get('name') ? { name: query.get('name')! } : {}),
    ...(platform ? { platform: platformFromText(platform) } : {}),
    cmd: c.strings('Cmd') ?? [],
    // Docker's daemon: [""] (the CLI's `--entrypoint ""`) or [] clears the image's; null keeps it.
    ...(entrypoint !== undefined ? { entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint } : {}),
    env: parseEnvEntries(c.strings('Env') ?? [], {}),
    workdir: c.text('WorkingDir'),
    user: c.text('User'),
    hostname: c.text('Hostname'),
    ...(c.text('Domainname') ? { domainname: c.text('Domainname')! } : {}),
    tty: c.bool('Tty'),
    openStdin: c.bool('OpenStdin'),
    ...attachFrom(c.bool('AttachStdin'), c.bool('AttachStdout'), c.bool('AttachStderr')),
    ...healthcheckFrom(c.map('Healthcheck')),
    ...(c.stringMap('Labels') && Object.keys(c.stringMap('Labels')!).length > 0 ? { labels: c.stringMap('Labels')! } : {}),
    ...(c.text('StopSignal') ? { stopSignal: c.text('StopSignal')! } : {}),
    ...(c.int('StopTimeout') !== undefined ? { stopTimeout: c.int('StopTimeout')! } : {}),
    ...(c.text('MacAddress') ? { macAddress: c.text('MacAddress')! } : {}),
    exposed: Object.keys(c.map('ExposedPorts') ?? {}).flatMap(parseExpose),
    remove: h.bool('AutoRemove'),
    mounts,
    volumesFrom: (h.strings('VolumesFrom') ?? []).map(parseVolumesFrom),
    ...(logType || Object.keys(logOpts).length > 0
      ? { log: { ...parseLogConfig(Object.entries(logOpts as Record<string, string>)), driver: parseLogDriver(logType || undefined) } }
      : {}),
    network,
    ...(networkAliases ? { networkAliases } : {}),
    ...(ip ? { ip } : {}),
    ports: portBindings(h.map('PortBindings') ?? {}),
    publishAll: h.bool('PublishAllPorts'),
    restartPolicy: restartPolicy(h.map('RestartPolicy')),
    capAdd: h.strings('CapAdd') ?? [],
    capDrop: h.strings('CapDrop') ?? [],
    privileged: h.bool('Privileged'),
    readOnly: h.bool('ReadonlyRootfs'),
    // A seccomp profile comes as its JSON (the CLI reads the file): never a path on this host.
    ...parseSecurityOpts(h.strings('SecurityOpt') ?? [], (text) => text),
    devices: (h.objects('Devices') ?? []).map(deviceMapping),
    ...((h.strings('DeviceCgroupRules') ?? []).length > 0 ? { deviceCgroupRules: h.strings('DeviceCgroupRules')!.map(parseDeviceCgroupRule) } : {}),
    dns: h.strings('Dns') ?? [],
    dnsOptions: h.strings('DnsOptions') ?? [],
    dnsSearch: h.strings('DnsSearch') ?? [],
    extraHosts: (h.strings('ExtraHosts') ?? []).map(parseExtraHost),
    groupAdd: h.strings('GroupAdd') ?? [],
    ...(pidMode ? { pid: parsePidMode(pidMode) } : {}),
    ...(ipcMode ? { ipc: parseIpcMode(ipcMode) } : {}),
    ...(utsMode ? { uts: parseUtsMode(utsMode) } : {}),
    ...(cgroupnsMode ? { cgroupns: parseCgroupnsMode(cgroupnsMode) } : {}),
    ...(h.nonZero('OomScoreAdj') !== undefined ? { oomScoreAdj: h.nonZero('OomScoreAdj')! } : {}),
    ...(h.nonZero('ShmSize') !== undefined ? { shmSize: h.nonZero('ShmSize')! } : {}),
    ...(sysctls && Object.keys(sysctls).length > 0 ? { sysctls: parseSysctls(Object.entries(sysctls).map(([k, v]) => `${k}=${v}`)) } : {}),
    ...((h.objects('Ulimits') ?? []).length > 0
      ? { ulimits: h.objects('Ulimits')!.map((u) => ({ name: String(u.Name), soft: Number(u.Soft), hard: Number(u.Hard) })) }
      : {}),
    ...(h.text('CgroupParent') ? { cgroupParent: h.text('CgroupParent')!.replace(/^\/+/, '') } : {}),
    ...(h.bool('Init') !== undefined ? { init: h.bool('Init')! } : {}),
    ...(h.stringMap('Annotations') && Object.keys(h.stringMap('Annotations')!).length > 0 ? { annotations: h.stringMap('Annotations')! } : {}),
    ...(Array.isArray(consoleSize) && !isZero(consoleSize) ? { consoleSize: { rows: Number(consoleSize[0]), cols: Number(consoleSize[1]) } } : {}),
  };
  const resources = resourcesFromValues(resourceValues(h, warnings));
  if (resources) options.resources = resources;

  // What only the client (or Windows) uses, whatever it holds.
  c.ignore(['StdinOnce', 'ArgsEscaped', 'NetworkDisabled']);
  h.ignore(['ContainerIDFile', 'Isolation', 'VolumeDriver']);
  c.refuse(['OnBuild', 'Shell'], 'image build settings');
  h.refuse(['Links'], 'legacy links: use a user-defined network and the container name');
  h.refuse(['Runtime'], 'hull runs its containers itself');
  h.refuse(['UsernsMode', 'Cgroup', 'StorageOpt', 'DeviceRequests', 'MaskedPaths', 'ReadonlyPaths', 'KernelMemory', 'KernelMemoryTCP'], '');
  h.refuse(['CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth'], '');
  h.refuse(['BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'], 'not yet');
  c.rest();
  h.rest();
  n.rest();
  return { options, warnings };
}

/**
 * `POST /containers/{id}/update`'s body (Docker's UpdateConfig: the resource fields of HostConfig,
 * and RestartPolicy) → new cgroup limits, checked as `hull update`'s flags are (resourcesFromValues).
 */
export function updateFromApi(body: unknown): { resources: SpecResources; warnings: string[] } {
  if (!isObject(body)) throw new UsageError("the request body must be a JSON object (Docker's UpdateConfig)");
  const h = new Section('UpdateConfig', body);
  const warnings: string[] = [];
  const resources = resourcesFromValues(resourceValues(h, warnings)) ?? {};
  h.refuse(['RestartPolicy'], "a restart policy is kept by the container's monitor from its start: not changed by update yet");
  h.refuse(['KernelMemory', 'KernelMemoryTCP', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth'], '');
  h.refuse(
    [
      'BlkioWeightDevice',
      'BlkioDeviceReadBps',
      'BlkioDeviceWriteBps',
      'BlkioDeviceReadIOps',
      'BlkioDeviceWriteIOps',
      'Devices',
      'DeviceCgroupRules',
      'DeviceRequests',
      'Ulimits',
      'CgroupParent',
    ],
    'not yet',
  );
  h.rest();
  return { resources, warnings };
}

/** Config.AttachStdin/Stdout/Stderr: the streams the client attaches (Docker's CLI sends all three; `run -d` none). */
function attachFrom(stdin: boolean | undefined, stdout: boolean | undefined, stderr: boolean | undefined): Pick<CreateOptions, 'attach'> {
  if (stdin === undefined && stdout === undefined && stderr === undefined) return {};
  return { attach: { stdin: stdin ?? false, stdout: stdout ?? false, stderr: stderr ?? false } };
}

/** Config.Healthcheck (Docker's HealthConfig: durations in ns): over the image's HEALTHCHECK field by field; zero fields are unset. */
function healthcheckFrom(value: Record<string, unknown> | undefined): Pick<CreateOptions, 'healthcheck'> {
  if (value === undefined) return {};
  const out: HealthConfig = {};
  const test = value.Test;
  if (test !== undefined && test !== null) {
    if (!Array.isArray(test) || !test.every((t) => typeof t === 'string')) throw new UsageError('Healthcheck.Test must be a list of strings');
    if (test.length > 0) out.Test = test;
  }
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) {
    const v = value[key];
    if (v === undefined || v === null || v === 0) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new UsageError(`Healthcheck.${key} must be an integer`);
    out[key] = v;
  }
  return Object.keys(out).length > 0 ? { healthcheck: out } : {};
}
