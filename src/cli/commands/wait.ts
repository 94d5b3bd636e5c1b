import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description('block until containers stop, then print their exit codes')
    .argument('<container...>', 'names or ids')
    .action(async (containers: string[], _flags: object, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        process.stdout.write(`${await hull.waitContainer(c)}\n`);
      });
    });
}
