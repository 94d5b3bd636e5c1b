import type { Command } from 'commander';
import { formatInspect } from '../../format/formatter.js';
import { hullFor } from '../context.js';

export function registerContainerInspect(program: Command): void {
  program
    .command('inspect')
    .description("low-level information on containers, as JSON (Docker's shape)")
    .argument('<container...>', 'names or ids')
    .option('-f, --format <template>', "'json' or a Go template: {{.State.Status}}, {{json .Config}}, {{range .Config.Env}}{{println .}}{{end}}")
    .option('--type <type>', 'only "container" is known to this verb', 'container')
    .action(async (containers: string[], flags: { format?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const found: Record<string, unknown>[] = [];
      const errors: Error[] = [];
      for (const c of containers) {
        try {
          found.push(await hull.inspectContainer(c));
        } catch (err) {
          errors.push(err as Error);
        }
      }
      if (flags.format) {
        const { output, errors: failed } = formatInspect(flags.format, found);
        process.stdout.write(output);
        errors.push(...failed);
      } else {
        process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      }
      for (const err of errors) process.stderr.write(`hull: ${err.message}\n`);
      if (errors.length > 0) process.exitCode = 1;
    });
}
