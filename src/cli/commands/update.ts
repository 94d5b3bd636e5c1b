import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hullFor } from '../context.js';
import { type ResourceFlagValues, addResourceFlags, resourcesFrom } from './container-flags.js';
import { forEachContainer } from './each.js';

export function registerUpdate(program: Command): void {
  addResourceFlags(
    program.command('update').description('change the resource limits of containers (a running one at once)').argument('<container...>', 'names or ids'),
  ).action(async (containers: string[], flags: ResourceFlagValues, cmd: Command) => {
    const resources = resourcesFrom(flags);
    if (!resources) throw new UsageError('you must provide one or more flags when using this command');
    const hull = hullFor(cmd);
    await forEachContainer(containers, async (c) => {
      await hull.updateContainer(c, resources);
      process.stdout.write(`${c}\n`);
    });
  });
}
