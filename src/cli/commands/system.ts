import type { Command } from 'commander';
import { formatterContext } from '../../format/formatter.js';
import { collect, hullFor } from '../context.js';
import { parseFilterFlags, parsePruneFilters } from '../../filters/index.js';
import { humanSize } from '../../present/human.js';
import { diskUsageRows } from '../../present/images.js';
import { listFormat, table } from '../format.js';
import { confirm, exitOneOnError } from './image-common.js';

/** The column names of `system df`'s fields (Docker's disk usage header). */
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
/** Docker's context type of each `system df` row. */
const DF_TYPES = [
  '*formatter.diskUsageImagesContext',
  '*formatter.diskUsageContainersContext',
  '*formatter.diskUsageVolumesContext',
  '*formatter.diskUsageBuilderContext',
];

const PRUNE_WARNING = [
  'WARNING! This will remove:',
  '  - all stopped containers',
  '  - all networks not used by at least one container',
  '  - all dangling images',
  '  - unused layers and blobs',
  '',
  'Are you sure you want to continue?',
].join('\n');

const PRUNE_ALL_WARNING = PRUNE_WARNING.replace('all dangling images', 'all images without at least one container associated to them');

/** `system df`. */
export function registerSystemDf(system: Command): void {
  system
    .command('df')
    .description('show disk usage')
    .option('--format <format>', "'json' (one object a line), 'table TEMPLATE' or a Go template: {{.Type}} {{.Size}}")
    .action((flags: { format?: string }, command: Command) =>
      exitOneOnError(async () => {
        const format = listFormat(flags.format, DF_HEADERS);
        const hull = hullFor(command);
        const rows = diskUsageRows(await hull.diskUsage(), await hull.volumesDiskUsage());
        if (format) {
          process.stdout.write(format.render(rows.map((r, i) => formatterContext(DF_TYPES[i]!, { ...r }))));
          return;
        }
        process.stdout.write(
          table(
            ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
            rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable]),
          ),
        );
      }),
    );
}

/** `system prune`. */
export function registerSystemPrune(system: Command): void {
  system
    .command('prune')
    .description('remove stopped containers, unused networks, dangling images and unused layers and blobs')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('--filter <filter>', "provide filter values (e.g. 'until=<timestamp>', 'label=k=v', 'label!=k')", collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action((flags: { all?: boolean; force?: boolean; filter: string[] }, command: Command) =>
      exitOneOnError(async () => {
        // Docker passes them to each prune: only the keys all of them take.
        const filters = flags.filter.length > 0 ? parsePruneFilters(parseFilterFlags(flags.filter), 'container') : undefined;
        if (!flags.force && !(await confirm(flags.all ? PRUNE_ALL_WARNING : PRUNE_WARNING))) return;
        const r = await hullFor(command).pruneSystem({ all: flags.all ?? false, ...(filters ? { filters } : {}) });
        if (r.containers.length > 0) process.stdout.write(`Deleted Containers:\n${r.containers.join('\n')}\n\n`);
        if (r.networks.length > 0) process.stdout.write(`Deleted Networks:\n${r.networks.join('\n')}\n\n`);
        printPruned(r);
      }),
    );
}

/** `system check`. */
export function registerSystemCheck(system: Command): void {
  system
    .command('check')
    .description('verify every blob, layer, image and name in the store, and find what interrupted commands left of containers')
    .option('--repair', 'remove what is damaged (and images that lost a part); finish or remove what interrupted commands left')
    .action((flags: { repair?: boolean }, command: Command) =>
      exitOneOnError(async () => {
        const r = await hullFor(command).checkStore({ repair: flags.repair ?? false });
        for (const p of r.problems) process.stdout.write(`${p.message}${p.repaired ? ` — ${p.repaired}` : ''}\n`);
        const { blobs, layers, images, refs, containers, names } = r.checked;
        const summary = `checked ${blobs} blobs, ${layers} layers, ${images} images, ${refs} names, ${containers} containers, ${names} container names`;
        const cleaned = r.cleaned > 0 ? `; removed ${r.cleaned} leftovers of interrupted commands` : '';
        if (r.problems.length === 0) process.stdout.write(`${summary}: no problems${cleaned}\n`);
        else if (r.problems.every((p) => p.repaired)) process.stdout.write(`${summary}: ${r.problems.length} problems, repaired${cleaned}\n`);
        else {
          process.stdout.write(`${summary}: ${r.problems.length} problems (run with --repair to remove what is damaged)${cleaned}\n`);
          process.exitCode = 1;
        }
      }),
    );
}

export function printPruned(r: { untagged: string[]; deleted: string[]; reclaimed: number }): void {
  if (r.untagged.length + r.deleted.length > 0) {
    process.stdout.write('Deleted Images:\n');
    for (const n of r.untagged) process.stdout.write(`untagged: ${n}\n`);
    for (const d of r.deleted) process.stdout.write(`deleted: ${d}\n`);
    process.stdout.write('\n');
  }
  process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
}
