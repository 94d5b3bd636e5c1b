import type { Command } from 'commander';
import { formatterContext } from '../../format/formatter.js';
import { hullFor } from '../context.js';
import { listFormat, table } from '../format.js';
import { humanSize, shortId, timeAgo, truncate } from '../../present/human.js';
import { exitOneOnError } from './image-common.js';

/** The column names of a history row's fields (Docker's historyContext header). */
const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

/** Go's time.RFC3339 in UTC ('' when unknown). */
function rfc3339(iso: string | undefined): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? '' : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `history IMAGE` / `image history`: newest step first, Docker's columns. */
export function defineHistory(cmd: Command): void {
  cmd
    .description('show the history of an image')
    .argument('<image>', 'name or id')
    .option('-q, --quiet', 'only image ids')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <format>', "'json' (one object a line), 'table TEMPLATE' or a Go template: {{.ID}} {{.CreatedBy}}")
    .action((image: string, flags: { quiet?: boolean; trunc: boolean; format?: string }, command: Command) =>
      exitOneOnError(async () => {
        const format = flags.quiet ? undefined : listFormat(flags.format, HISTORY_HEADERS);
        const rows = await hullFor(command).imageHistory(image);
        const id = (v: string) => (v === '<missing>' ? v : flags.trunc ? shortId(v) : v);
        if (flags.quiet) {
          for (const r of rows) process.stdout.write(`${id(r.id)}\n`);
          return;
        }
        if (format) {
          process.stdout.write(format.render(rows.map((r) => formatterContext('*image.historyContext', {
            Comment: r.comment,
            CreatedAt: rfc3339(r.created),
            CreatedBy: flags.trunc ? truncate(r.createdBy.replace(/\t/g, ' '), 45) : r.createdBy.replace(/\t/g, ' '),
            CreatedSince: timeAgo(r.created),
            ID: id(r.id),
            Size: humanSize(r.size),
          }))));
          return;
        }
        process.stdout.write(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r) => [
          id(r.id),
          timeAgo(r.created),
          flags.trunc ? truncate(r.createdBy.replace(/\s+/g, ' '), 45) : r.createdBy,
          humanSize(r.size),
          r.comment,
        ])));
      }));
}
