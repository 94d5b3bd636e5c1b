import type { Command } from 'commander';
import { TemplateError, UsageError } from '../../errors.js';
import { parseDockerTemplate } from '../../format/docker-templates.js';
import { formatterContext } from '../../format/formatter.js';
import type { ContainerRecord } from '../../runtime/container-store.js';
import { collect, hullFor } from '../context.js';
import { listFormat, shortId, table, timeAgo } from '../format.js';

export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.state;
  if (s.status === 'running') return `Up ${timeAgo(s.startedAt, now).replace(/ ago$/, '')}`;
  if (s.status === 'restarting') return `Restarting (${s.exitCode ?? '?'}) ${timeAgo(s.finishedAt, now)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode ?? '?'}) ${timeAgo(s.finishedAt ?? s.startedAt ?? r.created, now)}`;
  if (s.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

const FILTER_KEYS = ['status', 'name', 'id'] as const;
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's --filter: the same key ORs, different keys AND. */
export function parseFilters(filters: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw new UsageError(`invalid filter '${key}' (hull knows ${FILTER_KEYS.join(', ')})`);
    if (key === 'status' && !STATUSES.includes(value)) {
      throw new UsageError(`invalid filter 'status=${value}': use one of ${STATUSES.join(', ')}`);
    }
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

export function matches(r: ContainerRecord, filters: Map<string, string[]>): boolean {
  for (const [key, values] of filters) {
    const ok = values.some((v) => {
      if (key === 'status') return r.state.status === v;
      if (key === 'name') return r.name.includes(v.replace(/^\//, ''));
      return r.id.startsWith(v);
    });
    if (!ok) return false;
  }
  return true;
}

function commandText(r: ContainerRecord, full: boolean): string {
  const command = JSON.stringify(r.command.join(' '));
  return !full && command.length > 22 ? `${command.slice(0, 20)}…"` : command;
}

/** One container as Docker's `ps --format json` prints it. */
export function psJson(r: ContainerRecord, now = Date.now()): Record<string, string> {
  return {
    Command: commandText(r, false),
    CreatedAt: new Date(r.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    ID: shortId(r.id),
    Image: r.image,
    Labels: '',
    LocalVolumes: '0',
    Mounts: '',
    Names: r.name,
    Networks: 'none',
    Ports: '',
    RunningFor: timeAgo(r.created, now),
    Size: '0B',
    State: r.state.status,
    Status: statusText(r, now),
  };
}

/** The column names of ps's fields (Docker's ContainerContext header). */
const PS_HEADERS = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
  Platform: 'PLATFORM', HealthStatus: 'HEALTH STATUS',
};

/** A container as ps's templates see it: psJson's fields and Label(name) (hull's containers carry no labels yet). */
function psContext(fields: Record<string, string>): Record<string, unknown> {
  return formatterContext('*formatter.ContainerContext', { ...fields, Label: (_name: string) => '' });
}

/** psJson's fields of no container (what Docker checks a template on). */
const EMPTY_PS_FIELDS: Record<string, string> = Object.fromEntries(
  ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status'].map((k) => [k, '']));

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
    .option('-f, --filter <key=value>', 'filter: status=, name=, id= (repeatable)', collect, [])
    .option('--format <format>', '"json" (one object a line), "table TEMPLATE" or a Go template: {{.ID}} {{.Names}}')
    .option('--no-trunc', 'do not truncate ids and commands')
    .option('-n, --last <n>', 'show the n last created containers (all states)')
    .option('-l, --latest', 'show the latest created container (all states)')
    .action(async (flags: PsFlags, cmd: Command) => {
      const filters = parseFilters(flags.filter);
      if (flags.format && flags.quiet) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
      if (flags.format) checkPsTemplate(flags.format);
      const format = flags.quiet ? undefined : listFormat(flags.format, PS_HEADERS);
      let shown = await hullFor(cmd).listContainers();
      const all = flags.all || filters.has('status') || flags.last !== undefined || flags.latest;
      if (!all) shown = shown.filter((c) => c.state.status === 'running' || c.state.status === 'restarting');
      shown = shown.filter((c) => matches(c, filters));
      if (flags.latest) shown = shown.slice(0, 1);
      else if (flags.last !== undefined) shown = shown.slice(0, Number(flags.last));
      const full = flags.noTrunc === true || (flags as { trunc?: boolean }).trunc === false;
      const id = (r: ContainerRecord) => (full ? r.id : shortId(r.id));
      if (flags.quiet) {
        for (const c of shown) process.stdout.write(`${id(c)}\n`);
        return;
      }
      if (format) {
        process.stdout.write(format.render(shown.map((c) => psContext({ ...psJson(c), ID: id(c) }))));
        return;
      }
      const rows = shown.map((c) => [id(c), c.image, commandText(c, full), timeAgo(c.created), statusText(c), '', c.name]);
      process.stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows));
    });
}
