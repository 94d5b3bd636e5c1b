import type { Command } from 'commander';
import { parseFilterFlags, parsePruneFilters } from '../../filters/index.js';
import { humanSize } from '../../present/human.js';
import { collect, hullFor } from '../context.js';
import { confirm, exitOneOnError } from './image-common.js';

/** `container prune`. */
export function registerContainerPrune(program: Command): void {
  program
    .command('prune')
    .description('remove all stopped containers')
    .option('--filter <filter>', "provide filter values (e.g. 'until=<timestamp>')", collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action((flags: { filter: string[]; force?: boolean }, command: Command) =>
      exitOneOnError(async () => {
        const filters = parsePruneFilters(parseFilterFlags(flags.filter), 'container');
        if (!flags.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
        const r = await hullFor(command).pruneContainers(filters);
        if (r.containers.length > 0) process.stdout.write(`Deleted Containers:\n${r.containers.join('\n')}\n\n`);
        process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
      }),
    );
}
