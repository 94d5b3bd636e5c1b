import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { familiar } from '../../image/reference.js';
import { hullFor } from '../context.js';

export function registerLoad(program: Command): void {
  defineLoad(program.command('load'));
}

export function defineLoad(cmd: Command): void {
  cmd
    .description('load an image from an OCI image layout (directory or tar) or a docker save archive')
    .option('-i, --input <file>', 'read from a file or directory instead of stdin')
    .option('-q, --quiet', 'print nothing')
    .action(async (flags: { input?: string; quiet?: boolean }, cmd: Command) => {
      if (flags.input === undefined && process.stdin.isTTY) {
        throw new UsageError('requested load from stdin, but stdin is a terminal: use -i FILE or redirect');
      }
      const images = await hullFor(cmd).load(flags.input ?? process.stdin);
      if (flags.quiet) return;
      for (const image of images) {
        if (image.references.length === 0) process.stdout.write(`Loaded image ID: ${image.id}\n`);
        for (const ref of image.references) process.stdout.write(`Loaded image: ${familiar(ref)}\n`);
      }
      if (images.length === 0) process.stdout.write(`no images in ${flags.input ?? 'stdin'}\n`);
    });
}
