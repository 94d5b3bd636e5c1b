import type { Command } from 'commander';
import { parseEnvEntries } from '../../options/env.js';
import { collect, hullFor } from '../context.js';
import { proxySignals } from '../signals.js';

interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  user?: string;
  workdir?: string;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run a command in a running container')
    .argument('<container>', 'name or id')
    .argument('<command...>', 'command and arguments')
    .option('-d, --detach', 'run in the background')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('-u, --user <user[:group]>', 'user name or uid, optionally with group')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .passThroughOptions()
    .action(async (container: string, command: string[], flags: ExecFlags, cmd: Command) => {
      const proc = await hullFor(cmd).exec(container, {
        cmd: command,
        env: parseEnvEntries(flags.env, process.env),
        user: flags.user,
        workdir: flags.workdir,
        tty: flags.tty,
        interactive: flags.interactive,
        detach: flags.detach,
        attachTerminal: true,
        stdin: flags.interactive ? 'inherit' : 'ignore',
        stdout: 'inherit',
        stderr: 'inherit',
      });
      if (flags.detach) return;
      const stopProxy = proxySignals((signal) => proc.kill(signal));
      process.exitCode = await proc.wait();
      stopProxy();
    });
}
