import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { humanSize, shortId, table, timeAgo, truncate } from '../format.js';
import { exitOneOnError } from './image-common.js';

/** `history IMAGE` / `image history`: newest step first, Docker's columns. */
export function defineHistory(cmd: Command): void {
  cmd
    .description('show the history of an image')
    .argument('<image>', 'name or id')
    .option('-q, --quiet', 'only image ids')
    .option('--no-trunc', 'do not truncate output')
    .action((image: string, flags: { quiet?: boolean; trunc: boolean }, command: Command) =>
      exitOneOnError(async () => {
        const rows = await hullFor(command).imageHistory(image);
        const id = (v: string) => (v === '<missing>' ? v : flags.trunc ? shortId(v) : v);
        if (flags.quiet) {
          for (const r of rows) process.stdout.write(`${id(r.id)}\n`);
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
