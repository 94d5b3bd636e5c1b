/** The flags `run` and `create` share (Docker's), and their translation into CreateOptions. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import type { CreateOptions } from '../../runtime/runtime.js';
import { parseEnvEntries, parseEnvFile } from '../../runtime/specconv.js';
import { parseResourceFlags } from '../../runtime/cgroups/resources.js';
import type { SpecResources } from '../../runtime/spec.js';
import { collect } from '../context.js';
import type { ResourceFlags } from '../../runtime/cgroups/resources.js';
import type { ImageSourceOptions, PullPolicy } from '../../hull.js';
import { pullProgress } from '../progress.js';

export interface ContainerFlags extends ResourceFlagValues {
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
  restart?: string;
  init?: boolean;
  logOpt: string[];
  pull?: string;
}

/** Docker's resource flags, shared by run, create and update, as commander collects them. */
export type ResourceFlagValues = ResourceFlags & { deviceReadBps: string[]; deviceWriteBps: string[] };

export function addResourceFlags(command: Command, opts: { oomKillDisable?: boolean } = {}): Command {
  command
    .option('-m, --memory <bytes>', 'memory limit (e.g. 32m, 1g)')
    .option('--memory-swap <bytes>', 'memory + swap limit; -1 for unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit (memory.low)')
    .option('--cpus <number>', 'number of CPUs (e.g. 0.5)')
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
    process.stderr.write('WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.\n');
    delete r.memory.disableOOMKiller;
    if (Object.keys(r.memory).length === 0) delete r.memory;
    if (Object.keys(r).length === 0) return undefined;
  }
  return r;
}

export function addContainerFlags(command: Command): Command {
  return addResourceFlags(command, { oomKillDisable: true })
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'name the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user name or uid, optionally with group')
    .option('--group-add <group>', 'add a supplementary group (repeatable)', collect, [])
    .option('-h, --hostname <name>', 'container host name')
    .option('--entrypoint <cmd>', 'override the image\'s entrypoint')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('--log-opt <key=value>', 'json-file log options: max-size=10m, max-file=3 (repeatable)', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('--restart <policy>', 'restart policy: no, on-failure[:max-retries], always, unless-stopped', 'no')
    .option('--cgroup-parent <path>', 'cgroup to make the container\'s cgroup in (relative to the cgroup2 root)')
    .option('--pull <policy>', 'pull the image: missing (when not stored), always, never', 'missing');
}

export async function createOptionsFrom(image: string, command: string[], flags: ContainerFlags): Promise<CreateOptions> {
  const env: string[] = [];
  for (const file of flags.envFile) {
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new UsageError(`cannot read env file ${file}: ${err.message}`);
    });
    env.push(...parseEnvEntries(parseEnvFile(text), process.env));
  }
  env.push(...parseEnvEntries(flags.env, process.env));
  return {
    image,
    cmd: command,
    env,
    name: flags.name,
    remove: flags.rm,
    workdir: flags.workdir,
    user: flags.user,
    groupAdd: flags.groupAdd,
    hostname: flags.hostname,
    entrypoint: flags.entrypoint,
    tty: flags.tty,
    openStdin: flags.interactive,
    restart: flags.restart,
    init: flags.init,
    logOpts: flags.logOpt,
    cgroupParent: flags.cgroupParent?.replace(/^\/+/, ''),
    resources: resourcesFrom(flags),
  };
}

/** --pull, and pull progress on stderr (as Docker's run prints it). */
export function pullOptionsFrom(image: string, flags: ContainerFlags): ImageSourceOptions {
  return { pull: (flags.pull ?? 'missing') as PullPolicy, onPullProgress: pullProgress(process.stderr, { announceMissing: image }) };
}
