import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { type ContainerFlags, addContainerFlags, createOptionsFrom, printWarnings, pullOptionsFrom } from './container-flags.js';

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
      const { record, warnings } = await hullFor(cmd).createContainer({
        ...(await createOptionsFrom(image, command, flags)),
        ...pullOptionsFrom(image, flags),
      });
      printWarnings(warnings);
      process.stdout.write(`${record.id}\n`);
    });
}
