import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { pushProgress } from '../progress.js';

export function registerPush(program: Command): void {
  program
    .command('push')
    .description('push an image to the registry its name says')
    .argument('<image>', 'NAME[:TAG]')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (image: string, flags: { quiet?: boolean }, cmd: Command) => {
      await hullFor(cmd).push(image, flags.quiet ? {} : { onProgress: pushProgress(process.stdout) });
    });
}
