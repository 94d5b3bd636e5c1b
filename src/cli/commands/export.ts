import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("export a container's filesystem as a tar archive")
    .argument('<container>', 'name or id')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action((container: string, flags: { output?: string }, cmd: Command) =>
      exitOneOnError(async () => {
        if (flags.output === undefined && process.stdout.isTTY) {
          throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        }
        const hull = hullFor(cmd);
        if (flags.output === undefined) {
          await hull.exportContainer(container, process.stdout);
          return;
        }
        await hull.getContainer(container); // a missing container makes no file
        const out = createWriteStream(flags.output);
        await hull.exportContainer(container, out);
        out.end();
        await finished(out);
      }),
    );
}
