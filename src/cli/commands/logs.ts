import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { parseTimeBound } from '../../runtime/logs.js';
import { hullFor } from '../context.js';
import { writeLogEntries } from '../log-output.js';

interface LogsFlags {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a container's output (its json-file log)")
    .argument('<container>', 'name or id')
    .option('-f, --follow', 'follow the output until the container stops')
    .option('-n, --tail <lines>', 'number of lines from the end ("all" for all)', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'only entries since a time (RFC 3339, Unix time) or a duration ago (10m)')
    .option('--until <time>', 'only entries before a time or a duration ago')
    .action(async (container: string, flags: LogsFlags, cmd: Command) => {
      let tail: number | undefined;
      if (flags.tail !== 'all') {
        if (!/^-?\d+$/.test(flags.tail)) throw new UsageError(`invalid --tail value '${flags.tail}'`);
        tail = Number(flags.tail) < 0 ? undefined : Number(flags.tail);
      }
      const now = Date.now();
      const entries = hullFor(cmd).containerLogs(container, {
        follow: flags.follow ?? false,
        tail,
        sinceMs: flags.since === undefined ? undefined : parseTimeBound(flags.since, now),
        untilMs: flags.until === undefined ? undefined : parseTimeBound(flags.until, now),
      });
      await writeLogEntries(entries, { timestamps: flags.timestamps ?? false });
    });
}
