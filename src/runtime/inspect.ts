/**
 * `hull inspect`: a container in the shape of Docker's `docker inspect` (the fields that apply to
 * hull; the rest with Docker's empty values, so tools reading them find what they expect).
 */
import type { ContainerRecord } from './container-store.js';
import type { RuntimeSpec } from './spec.js';

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
  const status = s.status === 'running' && paths.paused ? 'paused' : s.status;
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
      Running: s.status === 'running',
      Paused: status === 'paused',
      Restarting: status === 'restarting',
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: s.status === 'running' ? (s.pid ?? 0) : 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
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
      Tmpfs: record.tmpfs && Object.keys(record.tmpfs).length > 0 ? record.tmpfs : null,
      LogConfig: { Type: 'json-file', Config: Object.fromEntries((record.logConfig?.opts ?? []).map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)])) },
      NetworkMode: 'none',
      RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount },
      AutoRemove: record.autoRemove,
      CgroupParent: `/${record.cgroupParent}`,
      Privileged: false,
      ReadonlyRootfs: spec?.root.readonly ?? false,
      CapAdd: null,
      CapDrop: null,
      Init: record.init ?? null,
      ...resourcesOf(spec),
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
    Mounts: record.mounts ? record.mounts.map(({ Options: _options, ...mp }) => mp) : (spec?.mounts ?? []).filter((m) => m.options?.includes('bind') || m.options?.includes('rbind')).map((m) => ({
      Type: 'bind',
      Source: m.source ?? '',
      Destination: m.destination,
      Mode: '',
      RW: !(m.options ?? []).includes('ro'),
      Propagation: 'rprivate',
    })),
    Config: {
      Hostname: spec?.hostname ?? record.id.slice(0, 12),
      Domainname: '',
      User: user,
      AttachStdin: false,
      AttachStdout: record.state.monitorPid === undefined,
      AttachStderr: record.state.monitorPid === undefined,
      Tty: record.tty ?? proc?.terminal ?? false,
      OpenStdin: record.openStdin ?? false,
      StdinOnce: false,
      Env: proc?.env ?? [],
      Cmd: record.cmd ?? null,
      Image: record.image,
      Volumes: null,
      WorkingDir: proc?.cwd === '/' ? '' : (proc?.cwd ?? ''),
      Entrypoint: record.entrypoint ?? null,
      OnBuild: null,
      Labels: {},
      ...(record.stopSignal ? { StopSignal: record.stopSignal } : {}),
    },
    NetworkSettings: { Networks: {}, Ports: {}, SandboxKey: '', IPAddress: '', MacAddress: '' },
  };
}

/** HostConfig's resource fields (Docker's names and units; 0 when not set). */
function resourcesOf(spec: RuntimeSpec | undefined): Record<string, unknown> {
  const r = spec?.linux.resources ?? {};
  const quota = r.cpu?.quota ?? 0;
  const period = r.cpu?.period ?? 0;
  return {
    Memory: r.memory?.limit ?? 0,
    MemorySwap: r.memory?.swap ?? 0,
    MemoryReservation: r.memory?.reservation ?? 0,
    NanoCpus: quota > 0 && period > 0 ? Math.round((quota * 1e9) / period) : 0,
    CpuShares: r.cpu?.shares ?? 0,
    CpusetCpus: r.cpu?.cpus ?? '',
    CpusetMems: r.cpu?.mems ?? '',
    PidsLimit: r.pids?.limit ?? null,
    BlkioWeight: r.blockIO?.weight ?? 0,
    BlkioDeviceReadBps: (r.blockIO?.throttleReadBpsDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    BlkioDeviceWriteBps: (r.blockIO?.throttleWriteBpsDevice ?? []).map((d) => ({ Path: `${d.major}:${d.minor}`, Rate: d.rate })),
    OomKillDisable: false,
  };
}
