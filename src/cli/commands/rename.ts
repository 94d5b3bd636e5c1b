import type { Command } from 'commander';
import { hullFor } from '../context.js';

export function registerRename(program: Command): void {
  program
    .command('rename')
    .description('rename a container')
    .argument('<container>', 'name or id')
    .argument('<new-name>', 'the new name')
    .action(async (container: string, newName: string, _flags: object, cmd: Command) => {
      await hullFor(cmd).renameContainer(container, newName);
    });
}
