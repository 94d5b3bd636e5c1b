import type { Command } from 'commander';
import { hullFor } from '../context.js';

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove one or more stopped containers')
    .argument('<container...>', 'names or ids')
    .action(async (containers: string[], _flags: object, cmd: Command) => {
      const hull = hullFor(cmd);
      for (const c of containers) {
        await hull.removeContainer(c);
        process.stdout.write(`${c}\n`);
      }
    });
}
