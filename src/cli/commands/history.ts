import type { Command } from 'commander';
import { formatterContext } from '../../format/formatter.js';
import { hullFor } from '../context.js';
import { HISTORY_TABLE_COLUMNS, historyFields, historyId, historyTableRow } from '../../present/images.js';
import { listFormat, table } from '../format.js';
import { exitOneOnError } from './image-common.js';

/** The column names of a history row's fields (Docker's historyContext header). */
const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

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
        const full = !flags.trunc;
        if (flags.quiet) {
          for (const r of rows) process.stdout.write(`${historyId(r, full)}\n`);
          return;
        }
        if (format) {
          process.stdout.write(format.render(rows.map((r) => formatterContext('*image.historyContext', historyFields(r, full)))));
          return;
        }
        process.stdout.write(
          table(
            HISTORY_TABLE_COLUMNS,
            rows.map((r) => historyTableRow(r, full)),
          ),
        );
      }),
    );
}

export function registerHistory(program: Command): void {
  defineHistory(program.command('history'));
}
