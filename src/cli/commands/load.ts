import type { Command } from 'commander';
import { familiar } from '../../image/reference.js';
import { hullFor } from '../context.js';

export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('load an image from an OCI image layout (directory or tar) or a docker save archive')
    .option('-i, --input <file>', 'read from a file or directory instead of stdin')
    .option('-q, --quiet', 'print nothing')
    .action(async (flags: { input?: string; quiet?: boolean }, cmd: Command) => {
      const images = await hullFor(cmd).load(flags.input ?? process.stdin);
      if (flags.quiet) return;
      for (const image of images) {
        if (image.references.length === 0) process.stdout.write(`Loaded image ID: ${image.id}\n`);
        for (const ref of image.references) process.stdout.write(`Loaded image: ${familiar(ref)}\n`);
      }
      if (images.length === 0) process.stdout.write(`no images in ${flags.input ?? 'stdin'}\n`);
    });
}
