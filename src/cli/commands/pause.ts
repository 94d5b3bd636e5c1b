import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function registerPause(program: Command): void {
  program
    .command('pause')
    .description('freeze all processes of running containers (cgroup.freeze)')
    .argument('<container...>', 'names or ids')
    .action(async (containers: string[], _flags: unknown, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.pauseContainer(c);
        process.stdout.write(`${c}\n`);
      });
    });

  program
    .command('unpause')
    .description('thaw paused containers')
    .argument('<container...>', 'names or ids')
    .action(async (containers: string[], _flags: unknown, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.unpauseContainer(c);
        process.stdout.write(`${c}\n`);
      });
    });
}
