import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { parseEnvEntries, parseEnvFile } from '../../runtime/specconv.js';
import { collect, hullFor } from '../context.js';
import { proxySignals } from '../signals.js';
import { trace } from '../../trace.js';

interface RunFlags {
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
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('create and run a container from an image')
    .argument('<image>', 'image reference or id')
    .argument('[command...]', 'command and arguments (default: the image\'s)')
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
    .option('--cgroup-parent <path>', 'cgroup to make the container\'s cgroup in (relative to the cgroup2 root)')
    .helpOption('--help', 'display help for command')
    .passThroughOptions()
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      trace('run parsed');
      const env: string[] = [];
      for (const file of flags.envFile) {
        const text = await readFile(file, 'utf8').catch((err: Error) => {
          throw new UsageError(`cannot read env file ${file}: ${err.message}`);
        });
        env.push(...parseEnvEntries(parseEnvFile(text), process.env));
      }
      env.push(...parseEnvEntries(flags.env, process.env));
      const hull = hullFor(cmd);
      trace('library ready');
      // Signals are proxied from the start: one that comes before the container runs is held
      // and delivered once it does, so hull never dies of it with a half-made container.
      const held: number[] = [];
      let deliver = (signal: number): void => {
        held.push(signal);
      };
      const stopProxy = proxySignals((signal) => deliver(signal));
      const running = await hull.start({
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
        cgroupParent: flags.cgroupParent?.replace(/^\/+/, ''),
        stdin: flags.interactive ? 'inherit' : 'ignore',
        stdout: 'inherit',
        stderr: 'inherit',
        attachTerminal: true,
        interactive: flags.interactive,
      }).catch((err: unknown) => {
        stopProxy();
        throw err;
      });
      deliver = (signal) => running.kill(signal);
      for (const signal of held.splice(0)) deliver(signal);
      const code = await running.wait();
      stopProxy();
      process.exitCode = code;
      trace('run done');
    });
}
