import type { Command } from 'commander';
import { formatInspect } from '../../format/formatter.js';
import { infoText } from '../../present/system-info.js';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

/** Docker's `--format` of info and version: 'json' or a Go template over the object. */
export function printFormatted(format: string, value: unknown): void {
  const { output, errors } = formatInspect(format === 'json' ? '{{json .}}' : format, [value]);
  process.stdout.write(output);
  const [first] = errors;
  if (first) throw first;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('display system-wide information')
    .option('-f, --format <template>', "'json' or a Go template: {{.ContainersRunning}}, {{json .}}")
    .action((flags: { format?: string }, command: Command) =>
      exitOneOnError(async () => {
        const info = await hullFor(command).info();
        if (flags.format !== undefined) {
          printFormatted(flags.format, info);
          return;
        }
        process.stdout.write(infoText(info));
        for (const w of (info.Warnings as string[] | null) ?? []) process.stderr.write(`${w}\n`);
      }),
    );
}
