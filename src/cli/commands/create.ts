import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { type ContainerFlags, addContainerFlags, createOptionsFrom, printWarnings, pullOptionsFrom, withCidFile } from './container-flags.js';

export function registerCreate(program: Command): void {
  addContainerFlags(
    program
      .command('create')
      .description('create a container from an image without starting it; prints its id')
      .argument('<image>', 'image reference or id')
      .argument('[command...]', "command and arguments (default: the image's)"),
  )
    .passThroughOptions()
    .action(async (image: string, command: string[], flags: ContainerFlags, cmd: Command) => {
      const opts = { ...(await createOptionsFrom(image, command, flags)), ...pullOptionsFrom(image, flags) };
      const { record, warnings } = await withCidFile(flags.cidfile, () => hullFor(cmd).createContainer(opts));
      printWarnings(warnings);
      process.stdout.write(`${record.id}\n`);
    });
}
