import type { Command } from 'commander';
import { TemplateError } from '../../errors.js';
import { parseDockerTemplate } from '../../format/docker-templates.js';
import { formatterContext } from '../../format/formatter.js';
import { EMPTY_PS_FIELDS, PS_TABLE_COLUMNS, type PsFields, psId, psJson, psPorts, psTableRow } from '../../present/containers.js';
import { parseContainerFilters, parseFilterFlags } from '../../filters/index.js';
import { containerLabels } from '../../runtime/container-store.js';
import { collect, hullFor } from '../context.js';
import { listFormat, table } from '../format.js';

/** The column names of ps's fields (Docker's ContainerContext header). */
const PS_HEADERS = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
  HealthStatus: 'HEALTH STATUS',
};

/** A container as ps's templates see it: psJson's fields and Label(name). */
function psContext(fields: Readonly<PsFields>, labels: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  return formatterContext('*formatter.ContainerContext', { ...fields, Label: (name: string) => labels[name] ?? '' });
}

/**
 * Docker checks a ps template before listing: it must parse as written and run on an empty
 * container (`{{.Nope}}` fails even when no container is listed).
 */
function checkPsTemplate(format: string): void {
  let template;
  try {
    template = parseDockerTemplate(format);
  } catch (err) {
    throw new TemplateError(`failed to parse template: ${(err as Error).message}`, { cause: err });
  }
  try {
    template.execute(psContext(EMPTY_PS_FIELDS));
  } catch (err) {
    throw new TemplateError(`failed to execute template: ${(err as Error).message}`, { cause: err });
  }
}

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  filter: string[];
  format?: string;
  noTrunc?: boolean;
  last?: string;
  latest?: boolean;
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default: running only)')
    .option('-q, --quiet', 'only container ids')
    .option(
      '-f, --filter <key=value>',
      'filter (repeatable): label, name, id, ancestor, before, since, exited, status, health, network, volume, publish, expose, is-task, isolation',
      collect,
      [],
    )
    .option('--format <format>', '"json" (one object a line), "table TEMPLATE" or a Go template: {{.ID}} {{.Names}}')
    .option('--no-trunc', 'do not truncate ids and commands')
    .option('-n, --last <n>', 'show the n last created containers (all states)')
    .option('-l, --latest', 'show the latest created container (all states)')
    .action(async (flags: PsFlags, cmd: Command) => {
      const filters = parseContainerFilters(parseFilterFlags(flags.filter));
      if (flags.format && flags.quiet) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
      if (flags.format) checkPsTemplate(flags.format);
      const format = flags.quiet ? undefined : listFormat(flags.format, PS_HEADERS);
      const last = flags.last !== undefined ? Number(flags.last) : undefined;
      const hull = hullFor(cmd);
      const shown = await hull.selectContainers({ filters, all: flags.all, ...(last !== undefined ? { last } : {}), latest: flags.latest });
      const full = flags.noTrunc === true || (flags as { trunc?: boolean }).trunc === false;
      if (flags.quiet) {
        for (const c of shown) process.stdout.write(`${psId(c, full)}\n`);
        return;
      }
      const ports = (c: (typeof shown)[number]) => psPorts(c, hull.publishedPorts(c));
      if (format) {
        process.stdout.write(format.render(shown.map((c) => psContext({ ...psJson(c, Date.now(), ports(c)), ID: psId(c, full) }, containerLabels(c)))));
        return;
      }
      process.stdout.write(
        table(
          PS_TABLE_COLUMNS,
          shown.map((c) => psTableRow(c, full, Date.now(), ports(c))),
        ),
      );
    });
}
