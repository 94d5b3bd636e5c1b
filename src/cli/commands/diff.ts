import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description("inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)")
    .argument('<container>', 'name or id')
    .action((container: string, _flags: unknown, cmd: Command) =>
      exitOneOnError(async () => {
        const changes = await hullFor(cmd).containerChanges(container);
        process.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
      }),
    );
}
