import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { collect, hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

/** Docker's boolean flag value (`--pause=false`). */
function parseBool(text: string): boolean {
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  throw new UsageError(`invalid argument "${text}" for "-p, --pause" flag: strconv.ParseBool: parsing "${text}": invalid syntax`);
}

export function registerCommit(program: Command): void {
  program
    .command('commit')
    .description("create a new image from a container's changes")
    .argument('<container>', 'name or id')
    .argument('[repository]', 'REPOSITORY[:TAG] to name the image')
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image (repeatable)', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause [bool]', 'pause the container during commit', parseBool, true)
    .action((container: string, repository: string | undefined, flags: { author?: string; change: string[]; message?: string; pause: boolean }, cmd: Command) =>
      exitOneOnError(async () => {
        const image = await hullFor(cmd).commitContainer(container, {
          changes: flags.change,
          pause: flags.pause,
          ...(flags.author !== undefined ? { author: flags.author } : {}),
          ...(flags.message !== undefined ? { message: flags.message } : {}),
          ...(repository !== undefined ? { reference: repository } : {}),
        });
        process.stdout.write(`${image.id}\n`);
      }),
    );
}
