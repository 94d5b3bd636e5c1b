import type { Command } from 'commander';
import { formatTemplate } from '../../runtime/inspect.js';
import { hullFor } from '../context.js';

export function registerContainerInspect(program: Command): void {
  program
    .command('inspect')
    .description('low-level information on containers, as JSON (Docker\'s shape)')
    .argument('<container...>', 'names or ids')
    .option('-f, --format <template>', 'format with a template: {{.State.Status}}, {{json .Config}}')
    .option('--type <type>', 'only "container" is known to this verb', 'container')
    .action(async (containers: string[], flags: { format?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const found: Record<string, unknown>[] = [];
      let failed = false;
      for (const c of containers) {
        try {
          found.push(await hull.inspectContainer(c));
        } catch (err) {
          failed = true;
          process.stderr.write(`hull: ${(err as Error).message}\n`);
        }
      }
      if (flags.format !== undefined) {
        for (const item of found) process.stdout.write(`${formatTemplate(flags.format, item)}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      }
      if (failed) process.exitCode = 1;
    });
}
