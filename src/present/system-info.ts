/**
 * `info` and `version` in Docker's shapes: the objects are the Engine API's `/info` and `/version`
 * bodies (field names as Docker's, so `--format '{{json .}}'` and `{{.ContainersRunning}}` read as
 * they do with Docker), and the text is `docker info` / `docker version` 20.10's layout. hull has
 * no daemon: the "server" is this host and store, described as hull sees them. Facts in, objects
 * and text out: nothing is read here.
 */

import { HULL_VERSION } from '../version.js';

export { HULL_VERSION };
/** The Engine API version hull's shapes follow. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

/** What `info` reports, measured by the caller (src/hull.ts). */
export interface InfoFacts {
  containers: { running: number; paused: number; stopped: number };
  images: number;
  /** The store's root (Docker Root Dir). */
  root: string;
  /** Docker's name of the root's file system type (extfs, xfs, tmpfs, …). */
  backingFilesystem: string;
  cgroupVersion: '1' | '2';
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  /** uname -m (x86_64, aarch64). */
  architecture: string;
  ncpu: number;
  memTotal: number;
  name: string;
  id: string;
  systemTime: string;
  ipv4Forwarding: boolean;
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
  warnings: string[];
}

/** Docker's `/info` body (the fields that apply to hull, the rest with Docker's empty values). */
export function systemInfo(f: InfoFacts): Record<string, unknown> {
  const total = f.containers.running + f.containers.paused + f.containers.stopped;
  return {
    ID: f.id,
    Containers: total,
    ContainersRunning: f.containers.running,
    ContainersPaused: f.containers.paused,
    ContainersStopped: f.containers.stopped,
    Images: f.images,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', f.backingFilesystem],
      ['Supports d_type', 'true'],
      ['Native Overlay Diff', 'true'],
      ['userxattr', 'false'],
    ],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: false,
    KernelMemoryTCP: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: f.ipv4Forwarding,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: f.systemTime,
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: f.cgroupVersion,
    NEventsListener: 0,
    KernelVersion: f.kernelVersion,
    OperatingSystem: f.operatingSystem,
    OSVersion: f.osVersion,
    OSType: 'linux',
    Architecture: f.architecture,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['127.0.0.0/8'],
      IndexConfigs: {},
      Mirrors: [],
    },
    NCPU: f.ncpu,
    MemTotal: f.memTotal,
    GenericResources: null,
    DockerRootDir: f.root,
    HttpProxy: f.httpProxy,
    HttpsProxy: f.httpsProxy,
    NoProxy: f.noProxy,
    Name: f.name,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: HULL_VERSION,
    Runtimes: { hull: { path: 'hull' } },
    DefaultRuntime: 'hull',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: false,
    Isolation: '',
    InitBinary: 'hull-init',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: f.warnings.length > 0 ? f.warnings : null,
  };
}

/** Docker's units.BytesSize: binary units, 4 significant digits ("7.775GiB"). */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(4))}${units[u]}`;
}

/** `docker info`'s text (20.10): the Client section, then the Server's. */
export function infoText(info: Record<string, unknown>): string {
  const i = info;
  const v = (k: string): string => String(i[k]);
  const lines = ['Client:', ' Context:    default', ' Debug Mode: false', '', 'Server:'];
  lines.push(
    ` Containers: ${v('Containers')}`,
    `  Running: ${v('ContainersRunning')}`,
    `  Paused: ${v('ContainersPaused')}`,
    `  Stopped: ${v('ContainersStopped')}`,
  );
  lines.push(` Images: ${v('Images')}`, ` Server Version: ${v('ServerVersion')}`, ` Storage Driver: ${v('Driver')}`);
  for (const [k, v] of i.DriverStatus as [string, string][]) lines.push(`  ${k}: ${v}`);
  lines.push(` Logging Driver: ${v('LoggingDriver')}`, ` Cgroup Driver: ${v('CgroupDriver')}`, ` Cgroup Version: ${v('CgroupVersion')}`);
  const plugins = i.Plugins as { Volume: string[]; Network: string[]; Log: string[] };
  lines.push(' Plugins:', `  Volume: ${plugins.Volume.join(' ')}`, `  Network: ${plugins.Network.join(' ')}`, `  Log: ${plugins.Log.join(' ')}`);
  lines.push(' Swarm: inactive');
  lines.push(` Runtimes: ${Object.keys(i.Runtimes as object).join(' ')}`, ` Default Runtime: ${v('DefaultRuntime')}`, ` Init Binary: ${v('InitBinary')}`);
  lines.push(' Security Options:', '  seccomp', '   Profile: default');
  lines.push(
    ` Kernel Version: ${v('KernelVersion')}`,
    ` Operating System: ${v('OperatingSystem')}`,
    ` OSType: ${v('OSType')}`,
    ` Architecture: ${v('Architecture')}`,
  );
  lines.push(
    ` CPUs: ${v('NCPU')}`,
    ` Total Memory: ${bytesSize(i.MemTotal as number)}`,
    ` Name: ${v('Name')}`,
    ` ID: ${v('ID')}`,
    ` Docker Root Dir: ${v('DockerRootDir')}`,
  );
  lines.push(' Debug Mode: false');
  if (i.HttpProxy) lines.push(` HTTP Proxy: ${v('HttpProxy')}`);
  if (i.HttpsProxy) lines.push(` HTTPS Proxy: ${v('HttpsProxy')}`);
  if (i.NoProxy) lines.push(` No Proxy: ${v('NoProxy')}`);
  lines.push(` Registry: ${v('IndexServerAddress')}`, ' Labels:', ' Experimental: false', ' Insecure Registries:', '  127.0.0.0/8');
  lines.push(` Live Restore Enabled: ${v('LiveRestoreEnabled')}`, '');
  return lines.join('\n'); // the Warnings go to stderr, as Docker's
}

/** What `version` reports of the process and host. */
export interface VersionFacts {
  /** process.version (v20.11.1): where Docker says its Go version. */
  nodeVersion: string;
  /** Go's GOARCH of this machine (amd64, arm64). */
  arch: string;
  kernelVersion: string;
}

/**
 * Docker's `version` body: `Client` (the CLI) and `Server` (the Engine API's `/version`). The Go
 * version fields hold Node's version: the field names stay Docker's for the tools that read them.
 */
export function versionInfo(f: VersionFacts): { Client: Record<string, unknown>; Server: Record<string, unknown> } {
  const common = { Version: HULL_VERSION, ApiVersion: API_VERSION, GitCommit: '', GoVersion: f.nodeVersion, Os: 'linux', Arch: f.arch, BuildTime: '' };
  return {
    Client: { Platform: { Name: '' }, ...common, DefaultAPIVersion: API_VERSION, Context: 'default', Experimental: true },
    Server: {
      Platform: { Name: 'hull' },
      Components: [
        {
          Name: 'Engine',
          Version: HULL_VERSION,
          Details: {
            ApiVersion: API_VERSION,
            Arch: f.arch,
            BuildTime: '',
            Experimental: 'false',
            GitCommit: '',
            GoVersion: f.nodeVersion,
            KernelVersion: f.kernelVersion,
            MinAPIVersion: MIN_API_VERSION,
            Os: 'linux',
          },
        },
      ],
      ...common,
      MinAPIVersion: MIN_API_VERSION,
      KernelVersion: f.kernelVersion,
    },
  };
}

/** `docker version`'s text (20.10), "Go version" as "Node version". */
export function versionText(v: ReturnType<typeof versionInfo>): string {
  const c = v.Client;
  const s = v.Server;
  const row = (indent: string, label: string, value: unknown) => `${indent}${`${label}:`.padEnd(indent.length === 1 ? 19 : 18)}${String(value)}`;
  return [
    'Client:',
    row(' ', 'Version', c.Version),
    row(' ', 'API version', c.ApiVersion),
    row(' ', 'Node version', c.GoVersion),
    row(' ', 'Git commit', c.GitCommit),
    row(' ', 'Built', c.BuildTime),
    row(' ', 'OS/Arch', `${String(c.Os)}/${String(c.Arch)}`),
    row(' ', 'Context', c.Context),
    row(' ', 'Experimental', c.Experimental),
    '',
    `Server: ${(s.Platform as { Name: string }).Name}`,
    ' Engine:',
    row('  ', 'Version', s.Version),
    row('  ', 'API version', `${String(s.ApiVersion)} (minimum version ${String(s.MinAPIVersion)})`),
    row('  ', 'Node version', s.GoVersion),
    row('  ', 'Git commit', s.GitCommit),
    row('  ', 'Built', s.BuildTime),
    row('  ', 'OS/Arch', `${String(s.Os)}/${String(s.Arch)}`),
    row('  ', 'Experimental', 'false'),
    '',
  ].join('\n');
}
