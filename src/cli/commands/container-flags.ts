/**
 * The flags `run` and `create` share (Docker's), and their translation into the typed
 * CreateOptions: each flag's value goes through its parser in src/options/ (shared with the Engine
 * API's string fields); nothing here interprets a flag itself.
 */
import { parseCgroupnsMode, parseIpcMode, parsePidMode, parseUtsMode } from '../../options/namespaces.js';
import { type Command, Option } from 'commander';
import { open, readFile, rm } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import type { CreateOptions } from '../../runtime/runtime.js';
import type { LogConfig } from '../../runtime/create-options.js';
import type { SpecResources } from '../../runtime/spec.js';
import { parseDevice, parseDeviceCgroupRule } from '../../options/devices.js';
import { parseEnvEntries, parseEnvFile } from '../../options/env.js';
import { parseIdMap, parseUsernsRemap } from '../../options/idmaps.js';
import { parseLogDriver, parseLogOptions } from '../../options/log.js';
import { parseAnnotations } from '../../options/annotations.js';
import { parseAttachStreams, parseDetachKeys } from '../../options/attach.js';
import { parseLabelFile, parseLabels } from '../../options/labels.js';
import { parseSysctls } from '../../options/sysctls.js';
import { parseUlimit } from '../../options/ulimits.js';
import { parseBytes, parseInteger } from '../../options/units.js';
import { platformFromText } from '../../image/platform.js';
import { parseMountFlags, parseVolumesFrom } from '../../options/mounts.js';
import { parseExtraHost, parseLink, parseNetworkMode } from '../../options/network.js';
import { parseExpose, parsePublish } from '../../options/ports.js';
import { type ResourceFlags, parseResourceFlags } from '../../options/resources.js';
import { parseRestartPolicy } from '../../options/restart.js';
import { type HealthFlags, parseHealthFlags } from '../../options/health.js';
import { parseSecurityOpts } from '../../options/security.js';
import { collect } from '../context.js';
import type { ImageSourceOptions, PullPolicy } from '../../hull.js';
import { pullProgress } from '../progress.js';

export interface ContainerFlags extends ResourceFlagValues, HealthFlags {
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  groupAdd: string[];
  hostname?: string;
  entrypoint?: string;
  interactive?: boolean;
  tty?: boolean;
  cgroupParent?: string;
  pod?: string;
  restart?: string;
  init?: boolean;
  logOpt: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  volumesFrom: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  readOnly?: boolean;
  device: string[];
  usernsRemap?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  cgroupns?: string;
  uidmap: string[];
  gidmap: string[];
  network?: string;
  net?: string;
  networkAlias: string[];
  ip?: string;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  pull?: string;
  label: string[];
  labelFile: string[];
  ulimit: string[];
  shmSize?: string;
  sysctl: string[];
  stopSignal?: string;
  stopTimeout?: string;
  cidfile?: string;
  oomScoreAdj?: string;
  domainname?: string;
  logDriver?: string;
  annotation: string[];
  platform?: string;
  deviceCgroupRule: string[];
  macAddress?: string;
  link: string[];
  runtime?: string;
  /** commander's name for `--no-healthcheck`: false when it is given. */
  healthcheck?: boolean;
  attach: string[];
  detachKeys?: string;
}

/** Docker's resource flags, shared by run, create and update, as commander collects them. */
export type ResourceFlagValues = ResourceFlags & { deviceReadBps: string[]; deviceWriteBps: string[] };

export function addResourceFlags(command: Command, opts: { oomKillDisable?: boolean } = {}): Command {
  command
    .option('-m, --memory <bytes>', 'memory limit (e.g. 32m, 1g)')
    .option('--memory-swap <bytes>', 'memory + swap limit; -1 for unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit (memory.low)')
    .option('--cpus <number>', 'number of CPUs (e.g. 0.5)')
    .option('--cpu-period <microseconds>', 'CPU CFS period (cpu.max; not with --cpus)')
    .option('--cpu-quota <microseconds>', 'CPU CFS quota per period (cpu.max; not with --cpus)')
    .option('-c, --cpu-shares <shares>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <list>', 'CPUs to run on (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'memory nodes to use (0-3, 0,1)')
    .option('--pids-limit <n>', 'limit the number of processes (-1 for unlimited)')
    .option('--blkio-weight <weight>', 'block IO relative weight, 10 to 1000 (0 to disable)')
    .option('--device-read-bps <path:rate>', 'limit read rate from a device (repeatable)', collect, [])
    .option('--device-write-bps <path:rate>', 'limit write rate to a device (repeatable)', collect, []);
  if (opts.oomKillDisable) command.option('--oom-kill-disable', 'disable the OOM killer (not possible on cgroup v2: discarded with a warning)');
  return command;
}

/** The resource flags given, as linux.resources (undefined when none). */
export function resourcesFrom(flags: ResourceFlagValues): SpecResources | undefined {
  const r = parseResourceFlags(flags);
  if (r?.memory?.disableOOMKiller) {
    // As Docker on cgroup v2: the kernel has no such switch there.
    printWarnings(['Your kernel does not support OomKillDisable. OomKillDisable discarded.']);
    delete r.memory.disableOOMKiller;
    if (Object.keys(r.memory).length === 0) delete r.memory;
    if (Object.keys(r).length === 0) return undefined;
  }
  return r;
}

export function addContainerFlags(command: Command): Command {
  return addResourceFlags(command, { oomKillDisable: true })
    .option('--device-read-iops <path:rate>', 'limit read rate (IO per second) from a device (repeatable)', collect, [])
    .option('--device-write-iops <path:rate>', 'limit write rate (IO per second) to a device (repeatable)', collect, [])
    .option('--memory-swappiness <0-100>', 'memory swappiness (cgroup v1 only: discarded with a warning on cgroup v2, as Docker)')
    .option('-l, --label <K=V>', 'set a label on the container (repeatable)', collect, [])
    .option('--label-file <file>', 'read labels from a file of K=V lines (repeatable)', collect, [])
    .option('--ulimit <name=soft[:hard]>', 'a resource limit: nofile=1024:2048, nproc=64, … (repeatable)', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm (default 64m)')
    .option('--sysctl <K=V>', 'a namespaced kernel parameter: net.*, fs.mqueue.*, kernel.shm*, kernel.msg*, kernel.sem (repeatable)', collect, [])
    .option('--stop-signal <signal>', "signal that stop sends first (default: the image's, else SIGTERM)")
    .option('--stop-timeout <seconds>', 'seconds stop waits before SIGKILL (default 10)')
    .option('--cidfile <file>', "write the container's id to a file (refused if it exists)")
    .option('--oom-score-adj <n>', "the container's OOM score adjustment, -1000 to 1000")
    .option('--domainname <name>', "the container's NIS domain name")
    .option('--log-driver <driver>', 'json-file (default), local (kept as json-file) or none')
    .option('--device-cgroup-rule <rule>', "allow devices in the container's device cgroup: 'c 1:3 rwm', 'b 8:* r' (repeatable)", collect, [])
    .option('--annotation <K=V>', 'an annotation of the runtime spec (repeatable)', collect, [])
    .option('--platform <os/arch[/variant]>', "the platform of the image to pull and run (default: this host's)")
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'name the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user name or uid, optionally with group')
    .option('--group-add <group>', 'add a supplementary group (repeatable)', collect, [])
    .option('-h, --hostname <name>', 'container host name')
    .option('--entrypoint <cmd>', "override the image's entrypoint")
    .option('-i, --interactive', 'keep stdin open')
    .option('-a, --attach <stream>', 'attach to STDIN, STDOUT or STDERR (repeatable; default STDOUT and STDERR, with STDIN for -i)', collect, [])
    .option('--detach-keys <keys>', "the key sequence that detaches from the container's terminal (default ctrl-p,ctrl-q; kept for start -a and attach)")
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('--log-opt <key=value>', 'json-file log options: max-size=10m, max-file=3 (repeatable)', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('--restart <policy>', 'restart policy: no, on-failure[:max-retries], always, unless-stopped', 'no')
    .option('--cgroup-parent <path>', "cgroup to make the container's cgroup in (relative to the cgroup2 root)")
    .option('-v, --volume <spec>', 'bind mount or volume: HOST:CTR[:ro|rw,…], NAME:CTR[:…] or CTR (repeatable)', collect, [])
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=…,target=…[,readonly,…] (repeatable)', collect, [])
    .option('--tmpfs <spec>', 'a tmpfs: CTR[:size=64m,mode=1777,…] (repeatable)', collect, [])
    .option('--volumes-from <container[:ro|rw]>', 'mount the volumes of another container (repeatable)', collect, [])
    .option('--cap-add <cap>', 'add a Linux capability (repeatable; ALL for all)', collect, [])
    .option('--cap-drop <cap>', 'drop a Linux capability (repeatable; ALL for all)', collect, [])
    .option('--privileged', 'all capabilities, all host devices, no seccomp, no masked paths')
    .option('--security-opt <opt>', 'no-new-privileges[=true|false], seccomp=PROFILE.json|unconfined (repeatable)', collect, [])
    .option('--read-only', "mount the container's root file system read-only")
    .option('--device <host[:container[:rwm]]>', 'add a host device to the container (repeatable)', collect, [])
    .option('--userns-remap <user[:group]>', "run in a user namespace with the user's ranges from /etc/subuid and /etc/subgid")
    .option('--pid <mode>', 'PID namespace: host, or container:NAME (default: its own)')
    .option('--ipc <mode>', 'IPC namespace: private (default), shareable, host, none, or container:NAME')
    .option('--uts <mode>', 'UTS namespace: host (default: its own)')
    .option('--cgroupns <mode>', 'cgroup namespace: private (default) or host')
    .option('--uidmap <container:host:size>', 'UID map of a new user namespace (repeatable)', collect, [])
    .option('--gidmap <container:host:size>', 'GID map of a new user namespace (repeatable; default: the UID map)', collect, [])
    .option('--pod <pod>', "run in a pod (name or id; new:NAME makes one): its network, IPC and UTS namespaces (Podman's)")
    .option('--network <mode>', "bridge (default), none, host, container:NAME, or a network's name")
    .addOption(new Option('--net <mode>', 'same as --network').hideHelp())
    .option('--network-alias <alias>', 'another name for the container on its user network (repeatable)', collect, [])
    .option('--ip <address>', "the container's IPv4 address on its user network")
    .option('--link <name[:alias]>', 'another container, known here by its name or alias (repeatable; on the default bridge it must be running)', collect, [])
    .option('--runtime <name>', 'not supported yet: refused (hull is the runtime)')
    .option('--mac-address <mac>', "the MAC address of the container's interface on its bridge network")
    .option('-p, --publish <[ip:]host:container[/proto]>', "publish a container's port on the host (repeatable)", collect, [])
    .option('-P, --publish-all', 'publish every exposed port on a random host port')
    .option('--expose <port[/proto]>', 'expose a port (repeatable)', collect, [])
    .option('--dns <ip>', 'a DNS server (repeatable)', collect, [])
    .option('--dns-search <domain>', 'a DNS search domain (repeatable)', collect, [])
    .option('--dns-option <option>', 'a resolv.conf option (repeatable)', collect, [])
    .option('--add-host <name:ip>', "an /etc/hosts entry (repeatable; ip host-gateway for the bridge's address)", collect, [])
    .option('--pull <policy>', 'pull the image: missing (when not stored), always, never', 'missing')
    .option('--health-cmd <command>', "command to run to check health (in the image's SHELL, /bin/sh -c by default)")
    .option('--health-interval <duration>', 'time between running the check (ms|s|m|h) (default 30s)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h) (default 30s)')
    .option('--health-start-period <duration>', 'start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy (default 3)')
    .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK');
}

export async function createOptionsFrom(image: string, command: string[], flags: ContainerFlags): Promise<CreateOptions> {
  refuseUnsupported(flags);
  const env: string[] = [];
  for (const file of flags.envFile) {
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new UsageError(`cannot read env file ${file}: ${(err as Error).message}`);
    });
    env.push(...parseEnvEntries(parseEnvFile(text), process.env));
  }
  env.push(...parseEnvEntries(flags.env, process.env));
  const labelEntries: string[] = [];
  for (const file of flags.labelFile) {
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new UsageError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    });
    labelEntries.push(...parseLabelFile(text));
  }
  labelEntries.push(...flags.label);
  const network = flags.network ?? flags.net;
  return {
    image,
    cmd: command,
    env,
    name: flags.name,
    remove: flags.rm,
    // Docker: an empty -w or -h means the default (the image's WorkingDir, the short id).
    workdir: flags.workdir || undefined,
    user: flags.user,
    groupAdd: flags.groupAdd,
    hostname: flags.hostname || undefined,
    // Docker: --entrypoint is one word; '' clears the image's.
    entrypoint: flags.entrypoint === undefined ? undefined : flags.entrypoint === '' ? [] : [flags.entrypoint],
    tty: flags.tty,
    openStdin: flags.interactive,
    restartPolicy: parseRestartPolicy(flags.restart),
    init: flags.init,
    ...logOptionsFrom(flags),
    cgroupParent: flags.cgroupParent?.replace(/^\/+/, ''),
    ...(flags.pod !== undefined ? { pod: flags.pod } : {}),
    resources: resourcesFrom(flags),
    mounts: parseMountFlags({ volume: flags.volume, mount: flags.mount, tmpfs: flags.tmpfs }),
    volumesFrom: flags.volumesFrom.map(parseVolumesFrom),
    capAdd: flags.capAdd,
    capDrop: flags.capDrop,
    privileged: flags.privileged,
    ...parseSecurityOpts(flags.securityOpt),
    readOnly: flags.readOnly,
    devices: flags.device.map(parseDevice),
    ...(flags.deviceCgroupRule.length > 0 ? { deviceCgroupRules: flags.deviceCgroupRule.map(parseDeviceCgroupRule) } : {}),
    usernsRemap: parseUsernsRemap(flags.usernsRemap),
    ...(flags.pid !== undefined ? { pid: parsePidMode(flags.pid) } : {}),
    ...(flags.ipc !== undefined ? { ipc: parseIpcMode(flags.ipc) } : {}),
    ...(flags.uts !== undefined ? { uts: parseUtsMode(flags.uts) } : {}),
    ...(flags.cgroupns !== undefined ? { cgroupns: parseCgroupnsMode(flags.cgroupns) } : {}),
    uidMap: flags.uidmap.map(parseIdMap),
    gidMap: flags.gidmap.map(parseIdMap),
    network: network === undefined ? undefined : parseNetworkMode(network),
    networkAliases: flags.networkAlias,
    ip: flags.ip,
    ...(flags.macAddress !== undefined ? { macAddress: flags.macAddress } : {}),
    ports: flags.publish.flatMap(parsePublish),
    publishAll: flags.publishAll,
    exposed: flags.expose.flatMap(parseExpose),
    dns: flags.dns,
    dnsSearch: flags.dnsSearch,
    dnsOptions: flags.dnsOption,
    extraHosts: flags.addHost.map(parseExtraHost),
    ...(flags.link.length > 0 ? { links: flags.link.map(parseLink) } : {}),
    ...(labelEntries.length > 0 ? { labels: parseLabels(labelEntries) } : {}),
    ...(flags.ulimit.length > 0 ? { ulimits: flags.ulimit.map(parseUlimit) } : {}),
    ...(flags.shmSize !== undefined ? { shmSize: parseBytes(flags.shmSize, '--shm-size') } : {}),
    ...(flags.sysctl.length > 0 ? { sysctls: parseSysctls(flags.sysctl) } : {}),
    ...(flags.stopSignal !== undefined ? { stopSignal: flags.stopSignal } : {}),
    ...(flags.stopTimeout !== undefined ? { stopTimeout: parseInteger(flags.stopTimeout, '--stop-timeout') } : {}),
    ...(flags.oomScoreAdj !== undefined ? { oomScoreAdj: parseInteger(flags.oomScoreAdj, '--oom-score-adj') } : {}),
    ...(flags.domainname ? { domainname: flags.domainname } : {}),
    ...(flags.annotation.length > 0 ? { annotations: parseAnnotations(flags.annotation) } : {}),
    ...(flags.platform !== undefined ? { platform: platformFromText(flags.platform) } : {}),
    ...healthOptionsFrom(flags),
    attach: parseAttachStreams(flags.attach, flags.interactive ?? false),
    ...(flags.detachKeys !== undefined ? { detachKeys: detachKeysFrom(flags.detachKeys) } : {}),
  };
}

/** The health flags as the container's HealthConfig (none given: the image's applies as it is). */
function healthOptionsFrom(flags: ContainerFlags): { healthcheck?: CreateOptions['healthcheck'] } {
  const healthcheck = parseHealthFlags({ ...flags, noHealthcheck: flags.healthcheck === false });
  return healthcheck ? { healthcheck } : {};
}

/** Docker's flags hull has no way to honour yet: refused with the reason, before anything is made (never ignored). */
function refuseUnsupported(flags: ContainerFlags): void {
  if (flags.runtime !== undefined) {
    throw new UsageError(`--runtime ${flags.runtime}: another OCI runtime is not supported yet (hull runs its containers itself)`);
  }
}

/** `--detach-keys` as bytes ('' is Docker's default: none kept). */
function detachKeysFrom(spec: string): number[] {
  return spec === '' ? [] : parseDetachKeys(spec);
}

/** --log-driver and --log-opt → the LogConfig (none when neither was given). */
function logOptionsFrom(flags: ContainerFlags): { log?: LogConfig } {
  if (flags.logOpt.length === 0 && flags.logDriver === undefined) return {};
  const driver = parseLogDriver(flags.logDriver);
  if (driver === 'none' && flags.logOpt.length > 0) throw new UsageError(`unknown log opt '${flags.logOpt[0]!.split('=')[0]}' for none log driver`);
  return { log: { ...parseLogOptions(flags.logOpt), driver } };
}

/**
 * `--cidfile`: Docker's CLI refuses a file that exists, makes it before the container (so two runs
 * cannot both take it), writes the id once there is one, and removes the file when create fails.
 */
export async function withCidFile<T extends { record: { id: string } }>(file: string | undefined, create: () => Promise<T>): Promise<T> {
  if (file === undefined) return create();
  let handle;
  try {
    handle = await open(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`Container ID file found, make sure the other container isn't running or delete ${file}`);
    throw new UsageError(`failed to create the container ID file: ${(err as Error).message}`);
  }
  try {
    const made = await create();
    await handle.writeFile(made.record.id);
    return made;
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  } finally {
    await handle.close();
  }
}

/** Warnings on stderr, as Docker's CLI prints the daemon's (and its own). */
export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`WARNING: ${w}\n`);
}

/** --pull, and pull progress on stderr (as Docker's run prints it). */
export function pullOptionsFrom(image: string, flags: ContainerFlags): ImageSourceOptions {
  return { pull: (flags.pull ?? 'missing') as PullPolicy, onPullProgress: pullProgress(process.stderr, { announceMissing: image }) };
}
