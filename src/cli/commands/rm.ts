import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove one or more containers')
    .argument('<container...>', 'names or ids')
    .option('-f, --force', 'kill and remove a running container')
    .option('-v, --volumes', 'remove anonymous volumes too (hull makes none yet)')
    .action(async (containers: string[], flags: { force?: boolean }, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.removeContainer(c, { force: flags.force });
        process.stdout.write(`${c}\n`);
      });
    });
}
