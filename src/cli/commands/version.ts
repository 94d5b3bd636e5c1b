import type { Command } from 'commander';
import { versionText } from '../../present/system-info.js';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';
import { printFormatted } from './info.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('show the hull version information')
    .option('-f, --format <template>', "'json' or a Go template: {{.Server.Version}}, {{json .}}")
    .action((flags: { format?: string }, command: Command) =>
      exitOneOnError(async () => {
        const version = await hullFor(command).version();
        if (flags.format !== undefined) printFormatted(flags.format, version);
        else process.stdout.write(versionText(version));
      }),
    );
}
