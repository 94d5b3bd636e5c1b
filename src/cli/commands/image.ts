import type { Command } from 'commander';
import { parseFilterFlags, parsePruneFilters } from '../../filters/index.js';
import { collect, hullFor } from '../context.js';
import { confirm, exitOneOnError } from './image-common.js';
import { printPruned } from './system.js';

/** `image prune` (the other image subcommands are the top-level verbs' own: ./index.ts). */
export function registerImagePrune(program: Command): void {
  program
    .command('prune')
    .description('remove dangling images (-a: all images no container uses), then unused layers and blobs')
    .option('-a, --all', 'remove all images without at least one container associated to them')
    .option('--filter <filter>', "provide filter values (e.g. 'until=<timestamp>', 'label=k=v', 'label!=k', 'dangling=false')", collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action((flags: { all?: boolean; filter: string[]; force?: boolean }, command: Command) =>
      exitOneOnError(async () => {
        const filters = parsePruneFilters(parseFilterFlags(flags.filter), 'image');
        const warning = flags.all
          ? 'WARNING! This will remove all images without at least one container associated to them.'
          : 'WARNING! This will remove all dangling images.';
        if (!flags.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return;
        printPruned(await hullFor(command).pruneImages({ all: flags.all ?? false, filters }));
      }),
    );
}
