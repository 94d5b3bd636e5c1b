import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { collect, hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

/**
 * Docker's `-p/--pause` is a boolean flag that also takes `--pause=false`. commander's optional
 * value would take `-p CONTAINER`'s container as the value: a word that is not a boolean is
 * returned as it is, and the action puts it back in front of the arguments.
 */
function parsePause(text: string): boolean | string {
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  return text;
}

export function registerCommit(program: Command): void {
  program
    .command('commit')
    .description("create a new image from a container's changes")
    .argument('[container]', 'name or id')
    .argument('[repository]', 'REPOSITORY[:TAG] to name the image')
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image (repeatable)', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause [bool]', 'pause the container during commit (default true)', parsePause, true)
    .action(
      (
        first: string | undefined,
        second: string | undefined,
        flags: { author?: string; change: string[]; message?: string; pause: boolean | string },
        cmd: Command,
      ) =>
        exitOneOnError(async () => {
          const taken = typeof flags.pause === 'string';
          const container = taken ? (flags.pause as string) : first;
          const repository = taken ? first : second;
          if (container === undefined) throw new UsageError('"commit" requires at least 1 and at most 2 arguments');
          if (taken && second !== undefined) throw new UsageError('"commit" requires at least 1 and at most 2 arguments');
          const image = await hullFor(cmd).commitContainer(container, {
            changes: flags.change,
            pause: flags.pause !== false,
            ...(flags.author !== undefined ? { author: flags.author } : {}),
            ...(flags.message !== undefined ? { message: flags.message } : {}),
            ...(repository !== undefined ? { reference: repository } : {}),
          });
          process.stdout.write(`${image.id}\n`);
        }),
    );
}
