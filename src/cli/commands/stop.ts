import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function parseSeconds(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid timeout '${text}': a whole number of seconds is needed`);
  return Number(text);
}

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('stop running containers: the stop signal, then SIGKILL after the grace period')
    .argument('<container...>', 'names or ids')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container (default: its --stop-timeout, else 10)', parseSeconds)
    .action(async (containers: string[], flags: { time?: number }, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.stopContainer(c, flags.time);
        process.stdout.write(`${c}\n`);
      });
    });

  program
    .command('restart')
    .description('restart containers')
    .argument('<container...>', 'names or ids')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container (default: its --stop-timeout, else 10)', parseSeconds)
    .action(async (containers: string[], flags: { time?: number }, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.restartContainer(c, flags.time);
        process.stdout.write(`${c}\n`);
      });
    });
}
