/** The flags `run` and `create` share (Docker's), and their translation into CreateOptions. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import type { CreateOptions } from '../../runtime/runtime.js';
import { parseEnvEntries, parseEnvFile } from '../../runtime/specconv.js';
import { collect } from '../context.js';

export interface ContainerFlags {
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
}

export function addContainerFlags(command: Command): Command {
  return command
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
    .option('--cgroup-parent <path>', 'cgroup to make the container\'s cgroup in (relative to the cgroup2 root)');
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
  };
}
