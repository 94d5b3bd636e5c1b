// The Engine API's edge, without a server: a create body (as docker CLI 20.10 sends it) → the same
// typed CreateOptions as hull's flags; the refusal of fields hull cannot honour; the version prefix
// and routes; --host parsing and the TCP rules; the one error → status mapping. No root, no addon.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createOptionsFromApi, isZero } from '../../../src/api/container-config.js';
import { activationFd, checkTcp, parseHost } from '../../../src/api/listen.js';
import { Router, splitVersion } from '../../../src/api/router.js';
import { failureOf } from '../../../src/api/status.js';
import { dockerStats, hostCpuNanos } from '../../../src/present/docker-stats.js';
import { type ContainerFlags, addContainerFlags, createOptionsFrom } from '../../../src/cli/commands/container-flags.js';
import {
  ConflictError,
  ContainerNotFoundError,
  ExecNotFoundError,
  HullError,
  ImageNotFoundError,
  NotModifiedError,
  RequestTooLargeError,
  UsageError,
} from '../../../src/errors.js';
import type { CreateOptions } from '../../../src/runtime/create-options.js';

async function flagOptions(args: string[]): Promise<CreateOptions> {
  let out: CreateOptions | undefined;
  const cmd = addContainerFlags(new Command('create').argument('<image>').argument('[command...]'))
    .passThroughOptions()
    .exitOverride()
    .action(async (image: string, command: string[], flags: ContainerFlags) => {
      out = await createOptionsFrom(image, command, flags);
    });
  await cmd.parseAsync(args, { from: 'user' });
  if (!out) throw new Error('no options');
  return out;
}

/** What docker CLI 20.10 sends for `docker create` with no flags: every field, nearly all empty. */
function cliBody(config: Record<string, unknown> = {}, host: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [],
    Cmd: null,
    Image: 'busybox',
    Volumes: {},
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
    ...config,
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: '', Config: {} },
      NetworkMode: 'default',
      PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: '',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      ConsoleSize: [0, 0],
      Isolation: '',
      CpuShares: 0,
      Memory: 0,
      NanoCpus: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: null,
      BlkioDeviceWriteBps: null,
      BlkioDeviceReadIOps: null,
      BlkioDeviceWriteIOps: null,
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: '',
      CpusetMems: '',
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      KernelMemory: 0,
      KernelMemoryTCP: 0,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: false,
      PidsLimit: null,
      Ulimits: null,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: null,
      ReadonlyPaths: null,
      ...host,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
}

const noQuery = new URLSearchParams();

/** The options that matter (the API leaves absent what the flags give as empty lists, and the reverse). */
function meaningful(o: CreateOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => !isZero(v) && !(Array.isArray(v) && v.length === 0)));
}

describe('POST /containers/create body → CreateOptions', () => {
  it("docker CLI's empty fields ask for nothing: an image and its command (and the streams docker create attaches by default)", () => {
    const { options, warnings } = createOptionsFromApi(cliBody({ Cmd: ['echo', 'hi'] }), noQuery);
    expect(meaningful(options)).toEqual({
      image: 'busybox',
      cmd: ['echo', 'hi'],
      restartPolicy: { name: 'no', maximumRetryCount: 0 },
      attach: { stdin: false, stdout: true, stderr: true },
    });
    expect(warnings).toEqual([]);
  });

  it('the same container through both edges: the same typed options', async () => {
    const flags = await flagOptions([
      '--name',
      'web',
      '-e',
      'A=1',
      '-w',
      '/srv',
      '-u',
      '1000:1000',
      '-h',
      'box',
      '-t',
      '-i',
      '--rm',
      '-m',
      '32m',
      '--cpus',
      '0.5',
      '--pids-limit',
      '64',
      '-p',
      '127.0.0.1:8080:80',
      '-p',
      '53/udp',
      '--restart',
      'on-failure:3',
      '-v',
      '/data',
      '-v',
      '/srv/x:/x:ro',
      '--tmpfs',
      '/t:size=1m',
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'MKNOD',
      '--dns',
      '10.0.0.53',
      '--add-host',
      'db:10.0.0.7',
      '--network',
      'none',
      '--log-opt',
      'max-size=2k',
      '--security-opt',
      'no-new-privileges',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--ulimit',
      'nofile=100:200',
      '--shm-size',
      '1m',
      '--stop-signal',
      'SIGINT',
      '--stop-timeout',
      '3',
      '--init',
      '-l',
      'k=v',
      '--device',
      '/dev/null:/dev/nul2:r',
      'busybox',
      'sh',
      '-c',
      'true',
    ]);
    const { options } = createOptionsFromApi(
      cliBody(
        {
          Env: ['A=1'],
          WorkingDir: '/srv',
          User: '1000:1000',
          Hostname: 'box',
          Tty: true,
          OpenStdin: true,
          AttachStdin: true,
          Cmd: ['sh', '-c', 'true'],
          Volumes: { '/data': {} },
          Labels: { k: 'v' },
          StopSignal: 'SIGINT',
          StopTimeout: 3,
        },
        {
          AutoRemove: true,
          Memory: 32 * 1024 * 1024,
          NanoCpus: 500_000_000,
          PidsLimit: 64,
          PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] },
          RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
          Binds: ['/srv/x:/x:ro'],
          Tmpfs: { '/t': 'size=1m' },
          CapAdd: ['NET_ADMIN'],
          CapDrop: ['MKNOD'],
          Dns: ['10.0.0.53'],
          ExtraHosts: ['db:10.0.0.7'],
          NetworkMode: 'none',
          LogConfig: { Type: 'json-file', Config: { 'max-size': '2k' } },
          SecurityOpt: ['no-new-privileges'],
          Sysctls: { 'net.ipv4.ip_forward': '1' },
          Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
          ShmSize: 1024 * 1024,
          Init: true,
          Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/nul2', CgroupPermissions: 'r' }],
        },
      ),
      new URLSearchParams({ name: 'web' }),
    );
    const api = meaningful(options);
    const cli = meaningful(flags);
    // The mounts in the API's order (Binds, then Volumes, then Tmpfs) against the flags' (-v in order, then --tmpfs).
    const byTarget = (m: unknown) => [...(m as { target: string }[])].sort((a, b) => a.target.localeCompare(b.target));
    expect(byTarget(api.mounts)).toEqual(byTarget(cli.mounts));
    delete api.mounts;
    delete cli.mounts;
    expect(api).toEqual(cli);
  });

  it('a field hull cannot honour is refused naming it; its zero value is not', () => {
    const refused = (config: Record<string, unknown>, host: Record<string, unknown> = {}) => {
      try {
        createOptionsFromApi(cliBody(config, host), noQuery);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({}, { Links: ['db:db'] })).toMatch(/^HostConfig\.Links is not supported by hull/);
    expect(refused({}, { Runtime: 'runsc' })).toMatch(/^HostConfig\.Runtime/);
    expect(refused({}, { Mounts: [{ Type: 'npipe', Source: '/a', Target: '/b' }] })).toMatch(/unsupported mount type 'npipe'/);
    expect(refused({}, { Mounts: [{ Type: 'bind', Source: '/a', Target: '/b', BindOptions: { NonRecursive: true } }] })).toMatch(
      /^HostConfig\.Mounts\[0\]\.BindOptions\.NonRecursive/,
    );
    expect(refused({}, { KernelMemory: 1 })).toMatch(/^HostConfig\.KernelMemory/);
    expect(refused({}, { NotADockerField: 'x' })).toMatch(/^HostConfig\.NotADockerField is not supported/);
    expect(refused({ Healthcheck: { Test: 'true' } })).toMatch(/Healthcheck\.Test must be a list of strings/);
    expect(refused({ Healthcheck: { Test: ['CMD', 'true'], Interval: 1.5 } })).toMatch(/Healthcheck\.Interval must be an integer/);
    expect(refused({ Frob: 1 })).toMatch(/^Config\.Frob/);
    expect(refused({ Image: '' })).toMatch(/Config\.Image must be set/);
    expect(refused({ Env: 'A=1' })).toBe('accepted'); // a string is a one-item list (Docker's strslice)
    expect(refused({ Tty: 'yes' })).toMatch(/^Config\.Tty: a boolean expected/);
    expect(refused({}, { Memory: '1g' })).toMatch(/^HostConfig\.Memory: an integer expected/);
    expect(refused({}, { RestartPolicy: { Name: 'sometimes' } })).toMatch(/invalid restart policy "sometimes"/);
    expect(refused({}, { NanoCpus: 1_000_000_000, CpuPeriod: 100000 })).toMatch(/Conflicting options: Nano CPUs and CPU Period/);
    expect(refused({}, { Links: [], KernelMemory: 0, Runtime: '', Mounts: null })).toBe('accepted');
  });

  it('Config.Healthcheck and Config.Attach*: what --health-* and -a give', async () => {
    const flags = await flagOptions(['--health-cmd', 'test -f /ok', '--health-interval', '200ms', '--health-retries', '2', '-a', 'stdout', 'busybox']);
    const { options } = createOptionsFromApi(
      cliBody({ Healthcheck: { Test: ['CMD-SHELL', 'test -f /ok'], Interval: 200_000_000, Timeout: 0, Retries: 2 }, AttachStderr: false }),
      noQuery,
    );
    expect(options.healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -f /ok'], Interval: 200_000_000, Retries: 2 });
    expect(options.healthcheck).toEqual(flags.healthcheck);
    expect(options.attach).toEqual({ stdin: false, stdout: true, stderr: false });
    expect(options.attach).toEqual(flags.attach);
    const none = createOptionsFromApi(cliBody({ Healthcheck: { Test: ['NONE'] } }), noQuery).options;
    expect(none.healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('HostConfig.Mounts (what --mount sends): the same mounts as the flag', async () => {
    const flags = await flagOptions([
      '--mount',
      'type=bind,src=/srv/x,dst=/x,readonly,bind-propagation=rshared',
      '--mount',
      'type=volume,src=data,dst=/data,volume-nocopy',
      '--mount',
      'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777',
      'busybox',
    ]);
    const { options } = createOptionsFromApi(
      cliBody(
        {},
        {
          Mounts: [
            { Type: 'bind', Source: '/srv/x', Target: '/x', ReadOnly: true, BindOptions: { Propagation: 'rshared' } },
            { Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { NoCopy: true } },
            { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 * 1024, Mode: 0o1777 } },
          ],
        },
      ),
      noQuery,
    );
    expect(options.mounts).toEqual(flags.mounts);
  });

  it('Entrypoint [""] clears the image\'s; OomKillDisable and MemorySwappiness are discarded with Docker\'s warnings', () => {
    const { options, warnings } = createOptionsFromApi(cliBody({ Entrypoint: [''] }, { OomKillDisable: true, MemorySwappiness: 10 }), noQuery);
    expect(options.entrypoint).toEqual([]);
    expect(options.resources).toBeUndefined();
    expect(warnings).toEqual([
      'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
      'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
    ]);
  });

  it('a seccomp profile is taken as the JSON the CLI sends, never read from a path of the server', () => {
    expect(() => createOptionsFromApi(cliBody({}, { SecurityOpt: ['seccomp=/etc/passwd'] }), noQuery)).toThrow(/seccomp/);
  });
});

describe('versions and routes', () => {
  it("/v1.12 to /v1.41 and unversioned paths; others refused in Docker's words", () => {
    expect(splitVersion('/v1.41/containers/json')).toEqual({ version: '1.41', path: '/containers/json' });
    expect(splitVersion('/v1.12/_ping')).toEqual({ version: '1.12', path: '/_ping' });
    expect(splitVersion('/containers/json')).toEqual({ version: '1.41', path: '/containers/json' });
    expect(() => splitVersion('/v1.11/_ping')).toThrow('client version 1.11 is too old. Minimum supported API version is 1.12');
    expect(() => splitVersion('/v1.42/_ping')).toThrow('client version 1.42 is too new. Maximum supported API version is 1.41');
  });

  it('templates: one segment, or many for image names; HEAD answers as GET; nothing else matches', () => {
    const handler = async () => undefined;
    const r = new Router().add('GET', '/containers/{id}/json', handler).add('GET', '/images/{name*}/json', handler);
    expect(r.match('GET', '/containers/abc/json')?.params).toEqual({ id: 'abc' });
    expect(r.match('HEAD', '/containers/abc/json')?.params).toEqual({ id: 'abc' });
    expect(r.match('GET', '/images/localhost:5000/a/b:1/json')?.params).toEqual({ name: 'localhost:5000/a/b:1' });
    expect(r.match('GET', '/images/a%2Fb/json')?.params).toEqual({ name: 'a/b' });
    expect(r.match('POST', '/containers/abc/json')).toBeUndefined();
    expect(r.match('GET', '/containers/a/b/json')).toBeUndefined();
  });
});

describe('--host and the TCP rules', () => {
  it('unix sockets; TCP anywhere with client certificates, on loopback only without them (with a warning)', () => {
    expect(parseHost('unix:///run/hull/docker.sock')).toEqual({ kind: 'unix', path: '/run/hull/docker.sock' });
    expect(parseHost('tcp://127.0.0.1:2376')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 2376 });
    expect(parseHost('tcp://localhost')).toEqual({ kind: 'tcp', host: 'localhost', port: 2375 });
    expect(() => parseHost('unix://relative.sock')).toThrow(/absolute/);
    expect(() => parseHost('ssh://host')).toThrow(/unix:\/\/\/PATH or tcp:\/\//);
    expect(checkTcp(parseHost('tcp://127.0.0.1:2375'), undefined)[0]).toMatch(/without TLS: .* root on this host/);
    expect(() => checkTcp(parseHost('tcp://0.0.0.0:2375'), undefined)).toThrow(/refusing to serve the Engine API on tcp:\/\/0.0.0.0:2375 without TLS/);
    expect(() => checkTcp(parseHost('tcp://0.0.0.0:2376'), { verifyClients: false })).toThrow(/with TLS but without client certificates \(--tlsverify\)/);
    expect(checkTcp(parseHost('tcp://127.0.0.1:2376'), { verifyClients: false })[0]).toMatch(/with TLS but without client certificates .* root on this host/);
    expect(checkTcp(parseHost('tcp://0.0.0.0:2376'), { verifyClients: true })).toEqual([]);
    expect(checkTcp(parseHost('unix:///x.sock'), undefined)).toEqual([]);
    expect(() => checkTcp(parseHost('unix:///x.sock'), { verifyClients: true })).toThrow(/tcp:\/\/ host only/);
  });

  it("socket activation: systemd's fd 3 when LISTEN_PID is this process", () => {
    expect(activationFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42)).toBe(3);
    expect(activationFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42)).toBeUndefined();
    expect(activationFd({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42)).toBeUndefined();
    expect(activationFd({}, 42)).toBeUndefined();
  });
});

describe("hull's errors → Docker's statuses, in one place", () => {
  it('404 missing, 409 conflict, 400 bad input, 304 nothing to do, 413 too large, 500 the rest', () => {
    expect(failureOf(new ContainerNotFoundError('x')).status).toBe(404);
    expect(failureOf(new ImageNotFoundError('x')).status).toBe(404);
    expect(failureOf(new ExecNotFoundError('x'))).toEqual({ status: 404, message: 'No such exec instance: x' });
    expect(failureOf(new ConflictError('busy')).status).toBe(409);
    expect(failureOf(new UsageError('bad')).status).toBe(400);
    expect(failureOf(new NotModifiedError('already')).status).toBe(304);
    expect(failureOf(new RequestTooLargeError(10)).status).toBe(413);
    expect(failureOf(new HullError('broke')).status).toBe(500);
    expect(failureOf(new Error('bug'))).toEqual({ status: 500, message: 'bug' });
  });
});

describe("Docker's stats body from cgroup v2 samples", () => {
  it("docker stats' own CPU % and memory arithmetic give the container's figures", () => {
    expect(hostCpuNanos('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n')).toBe(1000 * 10_000_000);
    const sample = (usec: number) => ({
      cpuUsageUsec: usec,
      memoryUsage: 30,
      memoryCurrent: 50,
      memoryLimit: 100,
      pids: 2,
      blockRead: 1,
      blockWrite: 2,
      at: 0,
    });
    const before = { sample: sample(1_000_000), hostCpuNanos: 10e9, time: new Date(0) };
    const now = { sample: sample(1_500_000), hostCpuNanos: 12e9, time: new Date(1000) };
    const s = dockerStats({ id: 'abc', name: 'web' }, now, before, 2) as {
      cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
      precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
      memory_stats: { usage: number; stats: { inactive_file: number }; limit: number };
      name: string;
    };
    // The CLI's formula: (cpu delta / system delta) × online CPUs × 100 = 0.5 s of 2 CPU-seconds × 2 = 50 %.
    const cpu =
      ((s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage) / (s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage)) *
      s.cpu_stats.online_cpus *
      100;
    expect(cpu).toBe(50);
    expect(s.memory_stats.usage - s.memory_stats.stats.inactive_file).toBe(30);
    expect(s.memory_stats.limit).toBe(100);
    expect(s.name).toBe('/web');
  });
});
