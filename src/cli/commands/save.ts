import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { uniqueName } from '../../store/atomic-file.js';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

/**
 * `save [-o FILE] [--format docker-archive|oci] IMAGE...`: to FILE (written beside it, renamed
 * into place when complete), or to stdout when that is not a terminal.
 */
export function defineSave(cmd: Command): void {
  cmd
    .description('save images to a tar archive (docker-archive by default, or an OCI image layout)')
    .argument('<image...>', 'names or ids')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--format <format>', "'docker-archive' (default) or 'oci'", 'docker-archive')
    .action((images: string[], flags: { output?: string; format: string }, command: Command) =>
      exitOneOnError(async () => {
        const format =
          flags.format === 'oci' || flags.format === 'oci-archive'
            ? 'oci'
            : flags.format === 'docker-archive' || flags.format === 'docker'
              ? 'docker-archive'
              : undefined;
        if (format === undefined) throw new UsageError(`--format: 'docker-archive' or 'oci', not ${JSON.stringify(flags.format)}`);
        const hull = hullFor(command);
        if (flags.output === undefined) {
          if (process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
          await hull.saveImages(images, process.stdout, { format });
          return;
        }
        const file = path.resolve(flags.output);
        const temp = path.join(path.dirname(file), `.${uniqueName(path.basename(file).slice(0, 32))}`);
        try {
          await hull.saveImages(images, createWriteStream(temp, { flags: 'wx', mode: 0o644 }), { format });
          await rename(temp, file);
        } catch (err) {
          await unlink(temp).catch(() => undefined);
          throw err;
        }
      }),
    );
}

export function registerSave(program: Command): void {
  defineSave(program.command('save'));
}
