import { createReadStream, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { RuntimeError, UsageError, fromNodeError } from '../../errors.js';
import { collect, hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import the contents from a tarball to create a filesystem image')
    .argument('<file>', "a tar (plain, gzip or zstd), or '-' for stdin")
    .argument('[repository]', 'REPOSITORY[:TAG] to name the image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image (repeatable)', collect, [])
    .option('-m, --message <message>', 'set commit message for imported image')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .action((file: string, repository: string | undefined, flags: { change: string[]; message?: string; platform?: string }, cmd: Command) =>
      exitOneOnError(async () => {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new UsageError(`importing from a URL is not supported: ${file} (download it, then import the file)`);
        if (flags.platform !== undefined && !/^linux(\/|$)/.test(flags.platform))
          throw new UsageError(`unsupported platform "${flags.platform}": hull imports linux images`);
        let source: Readable = process.stdin;
        if (file !== '-') {
          // Opened first: a missing file is an error before anything is stored.
          let fd: number;
          try {
            fd = openSync(file, 'r');
          } catch (err) {
            // Go's words: `open FILE: no such file or directory`.
            const text = err instanceof Error ? /^[A-Z]+: ([^,]+),/.exec(err.message)?.[1] : undefined;
            throw text ? new RuntimeError(`open ${file}: ${text}`, { cause: err }) : fromNodeError(err, 'open', file);
          }
          source = createReadStream('', { fd });
        }
        const image = await hullFor(cmd).importImage(source, {
          changes: flags.change,
          ...(flags.message !== undefined ? { message: flags.message } : {}),
          ...(repository !== undefined ? { reference: repository } : {}),
        });
        process.stdout.write(`${image.id}\n`);
      }),
    );
}
