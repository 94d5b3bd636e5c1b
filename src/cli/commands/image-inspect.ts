import type { Command } from 'commander';
import { ImageNotFoundError } from '../../errors.js';
import { formatInspect } from '../../format/formatter.js';
import type { ImageInspect } from '../../present/images.js';
import { hullFor } from '../context.js';
import { reportItemError } from './image-common.js';

/** `image inspect IMAGE...`: a JSON array in Docker's shape; missing ones on stderr, exit 1. */
export function defineImageInspect(cmd: Command): void {
  cmd
    .description('show low-level information on one or more images (JSON)')
    .argument('<image...>', 'names or ids')
    .option('-f, --format <template>', "'json' or a Go template: {{.Id}}, {{json .RootFS}}, {{range .RepoTags}}{{println .}}{{end}}")
    .action(async (images: string[], flags: { format?: string }, command: Command) => {
      const hull = hullFor(command);
      const found: ImageInspect[] = [];
      const errors: unknown[] = [];
      for (const image of images) {
        try {
          found.push(await hull.inspectImage(image));
        } catch (err) {
          errors.push(err instanceof ImageNotFoundError ? new ImageNotFoundError(image) : err);
        }
      }
      if (flags.format) {
        const { output, errors: failed } = formatInspect(flags.format, found);
        process.stdout.write(output);
        errors.push(...failed);
      } else {
        process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      }
      for (const err of errors) reportItemError(err);
    });
}

export function registerImageInspect(program: Command): void {
  defineImageInspect(program.command('inspect'));
}
