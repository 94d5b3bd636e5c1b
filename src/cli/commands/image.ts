import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { defineHistory } from './history.js';
import { confirm, exitOneOnError } from './image-common.js';
import { defineImages } from './images.js';
import { defineImageInspect } from './image-inspect.js';
import { defineLoad } from './load.js';
import { defineRmi } from './rmi.js';
import { defineSave } from './save.js';
import { printPruned } from './system.js';
import { defineTag } from './tag.js';

/** The image verbs: top level (`rmi`, `tag`, …) and under `image` (`image rm`, `image ls`, …). */
export function registerImageVerbs(program: Command): void {
  defineRmi(program.command('rmi'));
  defineTag(program.command('tag'));
  defineHistory(program.command('history'));
  defineSave(program.command('save'));

  const image = program.command('image').description('manage images');
  defineImages(image.command('ls').alias('list'));
  defineRmi(image.command('rm').alias('remove'));
  defineImageInspect(image.command('inspect'));
  defineTag(image.command('tag'));
  defineHistory(image.command('history'));
  defineSave(image.command('save'));
  defineLoad(image.command('load'));
  image
    .command('prune')
    .description('remove dangling images (-a: all images no container uses), then unused layers and blobs')
    .option('-a, --all', 'remove all images without at least one container associated to them')
    .option('-f, --force', 'do not prompt for confirmation')
    .action((flags: { all?: boolean; force?: boolean }, command: Command) =>
      exitOneOnError(async () => {
        const warning = flags.all
          ? 'WARNING! This will remove all images without at least one container associated to them.'
          : 'WARNING! This will remove all dangling images.';
        if (!flags.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return;
        printPruned(await hullFor(command).pruneImages({ all: flags.all ?? false }));
      }),
    );
}
