import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove one or more containers')
    .argument('<container...>', 'names or ids')
    .option('-f, --force', 'kill and remove a running container')
    .option('-v, --volumes', 'remove the anonymous volumes of the container too')
    .action(async (containers: string[], flags: { force?: boolean; volumes?: boolean }, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.removeContainer(c, { force: flags.force, volumes: flags.volumes });
        process.stdout.write(`${c}\n`);
      });
    });
}
