/**
 * The Docker-shaped presentation of containers, shared by the CLI and (next) the Engine API:
 * the `inspect` shape (the fields that apply to hull; the rest with Docker's empty values, so
 * tools reading them find what they expect), and `ps`: its rows' status text and the fields its
 * templates and `--format json` see (its filters are src/filters/containers.ts). Typed values in, objects out: no printing.
 */
import { modeText } from '../runtime/namespaces.js';
import { statusOf } from '../runtime/states.js';
import { type ContainerRecord, containerLabels } from '../runtime/container-store.js';
import { ulimitsOf } from '../runtime/ulimits.js';
import type { RuntimeSpec } from '../runtime/spec.js';
import { shortId, timeAgo, truncate } from './human.js';
import { healthText, inspectHealth } from '../runtime/health.js';

// ---- inspect ----------------------------------------------------------------------------

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface InspectPaths {
  logPath: string;
  runDir: string;
  cgroupPath: string;
  /** Frozen by `pause` (cgroup.freeze). */
  paused?: boolean;
}

export function inspectContainer(record: ContainerRecord, spec: RuntimeSpec | undefined, paths: InspectPaths): Record<string, unknown> {
  const s = record.state;
  const status = statusOf(s, s.paused === true || paths.paused === true);
  const args = record.command;
  const proc = spec?.process;
  const restart = record.restartPolicy ?? { name: 'no', maximumRetryCount: 0 };
  const user = proc ? (proc.user.uid === 0 && proc.user.gid === 0 ? '' : `${proc.user.uid}:${proc.user.gid}`) : '';
  return {
    Id: record.id,
    Created: record.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: status,
      Running: s.status === 'running', // paused too, as Docker's
      Paused: status === 'paused',
      Restarting: status === 'restarting',
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: s.status === 'running' ? (s.pid ?? 0) : 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
      ...(s.health ? { Health: inspectHealth(s.health) } : {}),
    },
    Image: record.imageId.startsWith('sha256:') ? record.imageId : `sha256:${record.imageId}`,
    ResolvConfPath: `${paths.runDir}/resolv.conf`,
    HostnamePath: `${paths.runDir}/hostname`,
    HostsPath: `${paths.runDir}/hosts`,
    LogPath: record.state.monitorPid !== undefined || s.status === 'created' ? paths.logPath : '',
    Name: `/${record.name}`,
    RestartCount: s.restartCount ?? 0,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: record.binds?.length ? record.binds : null,
      VolumesFrom: record.volumesFrom?.length ? record.volumesFrom : null,
      // Docker's form of a link: /NAME:/THIS/ALIAS.
      Links: record.network?.links?.length ? record.network.links.map((l) => `/${l.name}:/${record.name}/${l.alias}`) : null,
      Tmpfs: record.tmpfs && Object.keys(record.tmpfs).length > 0 ? record.tmpfs : null,
      LogConfig: {
        Type: record.logDriver ?? 'json-file',
        Config: Object.fromEntries((record.logConfig?.opts ?? []).map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)])),
      },
      NetworkMode: 'none',
      RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount },
      AutoRemove: record.autoRemove,
      CgroupParent: `/${record.cgroupParent}`,
      PidMode: modeText(record.namespaces?.pid, ''),
      IpcMode: modeText(record.namespaces?.ipc, record.ipcShareable ? 'shareable' : 'private'),
      UTSMode: modeText(record.namespaces?.uts, ''),
      CgroupnsMode: modeText(record.namespaces?.cgroupns, 'private'),
      Privileged: false,
      ReadonlyRootfs: spec?.root.readonly ?? false,
      CapAdd: null,
      CapDrop: null,
      Init: record.init ?? null,
      ...resourcesOf(spec),
      Ulimits: ulimitsOf(proc?.rlimits),
      ShmSize: record.shmSize || 64 * 1024 * 1024,
      ...(spec?.linux.sysctl && Object.keys(spec.linux.sysctl).length > 0 ? { Sysctls: spec.linux.sysctl } : {}),
      OomScoreAdj: proc?.oomScoreAdj ?? 0,
      ...(record.annotations ? { Annotations: record.annotations } : {}),
      DeviceCgroupRules: record.deviceCgroupRules ?? null,
      MaskedPaths: spec?.linux.maskedPaths ?? [],
      ReadonlyPaths: spec?.linux.readonlyPaths ?? [],
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: record.rootfs.lower.join(':'),
        UpperDir: record.rootfs.upper,
        WorkDir: record.rootfs.work,
        MergedDir: spec?.root.path ?? '',
      },
    },
    Mounts: record.mounts
      ? record.mounts.map(({ Options: _options, ...mp }) => mp)
      : (spec?.mounts ?? [])
          .filter((m) => m.options?.includes('bind') || m.options?.includes('rbind'))
          .map((m) => ({
            Type: 'bind',
            Source: m.source ?? '',
            Destination: m.destination,
            Mode: '',
            RW: !(m.options ?? []).includes('ro'),
            Propagation: 'rprivate',
          })),
    Config: {
      Hostname: spec?.hostname ?? record.id.slice(0, 12),
      Domainname: spec?.domainname ?? '',
      User: user,
      AttachStdin: record.attach?.stdin ?? false,
      AttachStdout: record.attach?.stdout ?? record.state.monitorPid === undefined,
      AttachStderr: record.attach?.stderr ?? record.state.monitorPid === undefined,
      Tty: record.tty ?? proc?.terminal ?? false,
      OpenStdin: record.openStdin ?? false,
      // Docker's: a foreground run or create with -i attaches stdin once (its end is the container's).
      StdinOnce: record.attach?.stdin === true && record.openStdin === true,
      Env: proc?.env ?? [],
      Cmd: record.cmd ?? null,
      Image: record.image,
      Volumes: null,
      WorkingDir: proc?.cwd === '/' ? '' : (proc?.cwd ?? ''),
      Entrypoint: record.entrypoint ?? null,
      OnBuild: null,
      Labels: containerLabels(record),
      ...(record.stopSignal ? { StopSignal: record.stopSignal } : {}),
      ...(record.stopTimeout !== undefined ? { StopTimeout: record.stopTimeout } : {}),
      ...(record.network?.macAddress ? { MacAddress: record.network.macAddress } : {}),
      ...(record.healthcheck ? { Healthcheck: record.healthcheck } : {}),
      ...(record.shell ? { Shell: record.shell } : {}),
    },
    NetworkSettings: { Networks: {}, Ports: {}, SandboxKey: '', IPAddress: '', MacAddress: '' },
  };
}

/** HostConfig's resource fields (Docker's names and units; 0 when not set). */
function resourcesOf(spec: RuntimeSpec | undefined): Record<string, unknown> {
  const r = spec?.linux.resources ?? {};
  const quota = r.cpu?.quota ?? 0;
  const period = r.cpu?.period ?? 0;
  const nanoCpus = quota > 0 && period > 0 ? Math.round((quota * 1e9) / period) : 0;
  return {
    Memory: r.memory?.limit ?? 0,
    MemorySwap: r.memory?.swap ?? 0,
    MemoryReservation: r.memory?.reservation ?? 0,
    // --cpus sets both (hull keeps no other trace of it): one without the other is --cpu-period or --cpu-quota.
    NanoCpus: nanoCpus,
    CpuPeriod: nanoCpus === 0 ? period : 0,
    CpuQuota: nanoCpus === 0 ? quota : 0,
    CpuShares: r.cpu?.shares ?? 0,
    CpusetCpus: r.cpu?.cpus ?? '',
    CpusetMems: r.cpu?.mems ?? '',
    PidsLimit: r.pids?.limit ?? null,
    BlkioWeight: r.blockIO?.weight ?? 0,
    BlkioDeviceReadBps: (r.blockIO?.throttleReadBpsDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    BlkioDeviceWriteBps: (r.blockIO?.throttleWriteBpsDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    BlkioDeviceReadIOps: (r.blockIO?.throttleReadIOPSDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    BlkioDeviceWriteIOps: (r.blockIO?.throttleWriteIOPSDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    MemorySwappiness: null,
    OomKillDisable: false,
  };
}

// ---- ps ---------------------------------------------------------------------------------

/** The STATUS column: "Up 3 minutes", "Exited (0) 2 hours ago", … */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.state;
  if (s.status === 'running') {
    const up = `Up ${timeAgo(s.startedAt, now).replace(/ ago$/, '')}`;
    return s.paused ? `${up} (Paused)` : s.health ? `${up} (${healthText(s.health)})` : up;
  }
  if (s.status === 'restarting') return `Restarting (${s.exitCode ?? '?'}) ${timeAgo(s.finishedAt, now)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode ?? '?'}) ${timeAgo(s.finishedAt ?? s.startedAt ?? r.created, now)}`;
  if (s.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

/** The container's id as ps shows it: 12 hex digits, or whole with --no-trunc. */
export function psId(r: ContainerRecord, full: boolean): string {
  return full ? r.id : shortId(r.id);
}

/** The COMMAND column: the command quoted, cut at 20 characters unless `full`. */
export function commandText(r: ContainerRecord, full: boolean): string {
  const command = JSON.stringify(r.command.join(' '));
  return !full && command.length > 22 ? `${command.slice(0, 20)}…"` : command;
}

/** The fields of a ps row, as its templates see them and `--format json` prints them. */
export interface PsFields {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

/** The networks a container is on, as Docker's NetworkSettings.Networks names them (host and none too; none for `container:`). */
export function containerNetworks(r: ContainerRecord): string[] {
  const cfg = r.network;
  if (!cfg) return [];
  if (cfg.mode === 'host' || cfg.mode === 'none') return [cfg.mode];
  return cfg.networks;
}

/** One port of a running container as Docker's list has it: a published one, or an exposed one (ip '' and no public port). */
export interface PsPort {
  ip: string;
  privatePort: number;
  publicPort: number;
  type: string;
}

/**
 * A running container's ports (Docker lists none for a container that does not run): each
 * published mapping (`published`: its live ones, ephemeral host ports included), then each
 * exposed port that is not published.
 */
export function psPorts(r: ContainerRecord, published: readonly { hostIp: string; hostPort: number; containerPort: number; proto: string }[]): PsPort[] {
  if (r.state.status !== 'running') return [];
  const out: PsPort[] = published.map((p) => ({ ip: p.hostIp || '0.0.0.0', privatePort: p.containerPort, publicPort: p.hostPort, type: p.proto }));
  for (const key of r.network?.exposed ?? []) {
    const [port = '', type = 'tcp'] = key.split('/');
    if (!out.some((p) => `${p.privatePort}/${p.type}` === `${port}/${type}`)) out.push({ ip: '', privatePort: Number(port), publicPort: 0, type });
  }
  return out;
}

/**
 * Docker's DisplayablePorts: `0.0.0.0:8080->80/tcp, 5432/tcp`, sorted by container port;
 * consecutive ports of a kind (exposed, or published on the same port) as one range, first, then
 * each mapping to another host port.
 */
export function displayablePorts(ports: readonly PsPort[]): string {
  const sorted = [...ports].sort(
    (a, b) => a.privatePort - b.privatePort || a.ip.localeCompare(b.ip) || a.publicPort - b.publicPort || a.type.localeCompare(b.type),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const form = (key: string, g: { first: number; last: number }) => {
    const [ip, type] = key.includes('/') ? (key.split('/') as [string, string]) : ['', key];
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return `${ip ? `${ip}:${range}->${range}` : range}/${type}`;
  };
  for (const p of sorted) {
    let key = p.type;
    if (p.ip !== '') {
      if (p.publicPort !== p.privatePort) {
        mappings.push(`${p.ip}:${p.publicPort}->${p.privatePort}/${p.type}`);
        continue;
      }
      key = `${p.ip}/${p.type}`;
    }
    const g = groups.get(key);
    if (!g) groups.set(key, { first: p.privatePort, last: p.privatePort });
    else if (p.privatePort === g.last + 1) g.last = p.privatePort;
    else {
      result.push(form(key, g));
      groups.set(key, { first: p.privatePort, last: p.privatePort });
    }
  }
  for (const [key, g] of groups) result.push(form(key, g));
  return [...result, ...mappings].join(', ');
}

/** MOUNTS: each mount's volume name or source, cut at 15 characters unless `full`. */
function mountsText(r: ContainerRecord, full: boolean): string {
  return (r.mounts ?? []).map((m) => (full ? m.Name || m.Source : truncate(m.Name || m.Source, 15))).join(',');
}

/** One container as Docker's `ps --format json` prints it; `ports`: psPorts' (none: a container that does not run). */
export function psJson(r: ContainerRecord, now = Date.now(), ports: readonly PsPort[] = []): PsFields {
  return {
    Command: commandText(r, false),
    CreatedAt: new Date(r.created)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' +0000 UTC'),
    ID: shortId(r.id),
    Image: r.image,
    Labels: Object.entries(containerLabels(r))
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(','),
    LocalVolumes: String((r.mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mountsText(r, false),
    Names: r.name,
    Networks: containerNetworks(r).join(','),
    Ports: displayablePorts(ports),
    RunningFor: timeAgo(r.created, now),
    Size: '0B',
    State: statusOf(r.state, r.state.paused === true),
    Status: statusText(r, now),
  };
}

/** psJson's fields of no container (what Docker checks a ps template on). */
export const EMPTY_PS_FIELDS: Readonly<PsFields> = {
  Command: '',
  CreatedAt: '',
  ID: '',
  Image: '',
  Labels: '',
  LocalVolumes: '',
  Mounts: '',
  Names: '',
  Networks: '',
  Ports: '',
  RunningFor: '',
  Size: '',
  State: '',
  Status: '',
};

/** ps's default table: its columns, and the cells of one container. */
export const PS_TABLE_COLUMNS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'] as const;

export function psTableRow(r: ContainerRecord, full: boolean, now = Date.now(), ports: readonly PsPort[] = []): string[] {
  return [psId(r, full), r.image, commandText(r, full), timeAgo(r.created, now), statusText(r, now), displayablePorts(ports), r.name];
}

/** One container as the Engine API's `GET /containers/json` lists it (Docker's types.Container). */
export function containerListEntry(r: ContainerRecord, now = Date.now()): Record<string, unknown> {
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.image,
    ImageID: r.imageId,
    Command: r.command.join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    // The requested bindings (the host port of an ephemeral one is known to inspect, not here yet).
    Ports: (r.network?.ports ?? []).map((p) => ({
      ...(p.hostPort !== 0 ? { IP: p.hostIp || '0.0.0.0', PublicPort: p.hostPort } : {}),
      PrivatePort: p.containerPort,
      Type: p.proto,
    })),
    Labels: r.labels ?? {},
    State: statusOf(r.state, r.state.paused === true),
    Status: statusText(r, now),
    HostConfig: { NetworkMode: r.network?.mode ?? 'none' },
    NetworkSettings: { Networks: Object.fromEntries((r.network?.networks ?? []).map((n) => [n, {}])) },
    Mounts: (r.mounts ?? []).map((m) => ({ ...m })),
  };
}
