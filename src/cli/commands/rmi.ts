import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { reportItemError } from './image-common.js';

/** `rmi [-f] IMAGE...` / `image rm`: Docker's "Untagged:" / "Deleted:" lines; exit 1 if any failed. */
export function defineRmi(cmd: Command): void {
  cmd
    .description('remove one or more images')
    .argument('<image...>', 'names or ids')
    .option('-f, --force', 'remove even when containers use the image or it has several names')
    .action(async (images: string[], flags: { force?: boolean }, command: Command) => {
      const hull = hullFor(command);
      for (const image of images) {
        try {
          const r = await hull.removeImage(image, { force: flags.force ?? false });
          for (const name of r.untagged) process.stdout.write(`Untagged: ${name}\n`);
          for (const id of r.deleted) process.stdout.write(`Deleted: ${id}\n`);
        } catch (err) {
          reportItemError(err);
        }
      }
    });
}

export function registerRmi(program: Command): void {
  defineRmi(program.command('rmi'));
}
