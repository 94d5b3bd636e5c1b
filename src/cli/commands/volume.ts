import type { Command } from 'commander';
import { hullFor, collect } from '../context.js';
import { labelsText, listFormat, table } from '../format.js';
import { humanSize, naturalCompare } from '../../present/human.js';
import type { VolumeRecord } from '../../volume/store.js';
import { parseLabels } from '../../options/labels.js';
import { UsageError } from '../../errors.js';
import { formatInspect, formatterContext } from '../../format/formatter.js';
import { confirm, exitOneOnError, reportItemError } from './image-common.js';
import { parseFilterFlags, parsePruneFilters, parseVolumeFilters } from '../../filters/index.js';

const PRUNE_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const PRUNE_ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

/** The column names of a volume row's fields (Docker's volumeContext header). */
const VOLUME_HEADERS = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

/** A volume as `volume ls --format` sees it (Docker's volumeContext: local volumes have no cluster fields or usage data). */
function volumeContext(v: VolumeRecord): Record<string, unknown> {
  return formatterContext('*formatter.volumeContext', {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: labelsText(v.Labels),
    Links: 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: 'N/A',
    Status: 'N/A',
    Label: (name: string) => v.Labels[name] ?? '',
  });
}

export function registerVolume(program: Command): void {
  const volume = program.command('volume').description('manage volumes');

  volume
    .command('create')
    .description('create a volume (prints its name)')
    .argument('[name]', 'volume name (generated when omitted)')
    .option('--name <name>', 'volume name')
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect, [])
    .option('-d, --driver <driver>', 'volume driver (only "local")', 'local')
    .option('-o, --opt <key=value>', 'a driver option (repeatable): a bind volume, type=none o=bind device=DIR', collect, [])
    .action((name: string | undefined, flags: { name?: string; label: string[]; driver: string; opt: string[] }, cmd: Command) =>
      exitOneOnError(async () => {
        if (flags.driver !== 'local') throw new UsageError(`volume driver ${flags.driver} is not known: hull has the local driver only`);
        if (name !== undefined && flags.name !== undefined && name !== flags.name) {
          throw new UsageError(`conflicting options: cannot specify a volume name twice ("${name}" and "${flags.name}")`);
        }
        const v = await hullFor(cmd).createVolume(name ?? flags.name, {
          labels: parseLabels(flags.label),
          ...(flags.opt.length > 0 ? { options: parseLabels(flags.opt) } : {}),
        });
        process.stdout.write(`${v.Name}\n`);
      }),
    );

  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only names')
    .option('-f, --filter <key=value>', 'filter (repeatable): dangling=true|false, driver=, label=k[=v], name=', collect, [])
    .option('--format <format>', "'json' (one object a line), 'table TEMPLATE' or a Go template: {{.Name}} {{.Mountpoint}}")
    .action((flags: { quiet?: boolean; format?: string; filter: string[] }, cmd: Command) =>
      exitOneOnError(async () => {
        const filters = parseVolumeFilters(parseFilterFlags(flags.filter));
        const format = flags.quiet ? undefined : listFormat(flags.format, VOLUME_HEADERS);
        // By name, as Docker's CLI lists them.
        const list = (await hullFor(cmd).selectVolumes(filters)).sort((a, b) => naturalCompare(a.Name, b.Name));
        if (flags.quiet) {
          process.stdout.write(list.map((v) => `${v.Name}\n`).join(''));
        } else if (format) {
          process.stdout.write(format.render(list.map(volumeContext)));
        } else {
          process.stdout.write(
            table(
              ['DRIVER', 'VOLUME NAME'],
              list.map((v) => [v.Driver, v.Name]),
            ),
          );
        }
      }),
    );

  volume
    .command('inspect')
    .description('show volumes as JSON')
    .argument('<name...>', 'volume names')
    .option('-f, --format <template>', "'json' or a Go template: {{.Mountpoint}}, {{json .Labels}}")
    .action((names: string[], flags: { format?: string }, cmd: Command) =>
      exitOneOnError(async () => {
        const hull = hullFor(cmd);
        const out = [];
        const errors: unknown[] = [];
        for (const n of names) {
          try {
            out.push(hull.inspectVolume(n));
          } catch (err) {
            errors.push(err);
          }
        }
        if (flags.format) {
          const { output, errors: failed } = formatInspect(flags.format, out);
          process.stdout.write(output);
          errors.push(...failed);
        } else {
          process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
        }
        for (const err of errors) reportItemError(err);
      }),
    );

  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes (never one a container uses)')
    .argument('<name...>', 'volume names')
    .option('-f, --force', 'no error for a volume that does not exist')
    .action((names: string[], flags: { force?: boolean }, cmd: Command) =>
      exitOneOnError(async () => {
        const hull = hullFor(cmd);
        for (const n of names) {
          try {
            await hull.removeVolume(n, { force: flags.force });
            process.stdout.write(`${n}\n`);
          } catch (err) {
            reportItemError(err);
          }
        }
      }),
    );

  volume
    .command('prune')
    .description('remove unused anonymous volumes (-a: every unused volume)')
    .option('-a, --all', 'remove named volumes too')
    .option('--filter <filter>', "provide filter values (e.g. 'label=<key>=<value>', 'label!=<key>')", collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action((flags: { all?: boolean; force?: boolean; filter: string[] }, cmd: Command) =>
      exitOneOnError(async () => {
        const filters = parsePruneFilters(parseFilterFlags(flags.filter), 'volume');
        if (!flags.force && !(await confirm(flags.all ? PRUNE_ALL_WARNING : PRUNE_WARNING))) return;
        const r = await hullFor(cmd).pruneVolumes({ all: flags.all ?? false, filters });
        if (r.volumes.length > 0) process.stdout.write(`Deleted Volumes:\n${r.volumes.join('\n')}\n\n`);
        process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
      }),
    );
}
