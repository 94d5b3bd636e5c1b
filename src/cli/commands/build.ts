import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { parseKeyValueFlags } from '../../build/args.js';
import { collect, hullFor } from '../context.js';
import { pullProgress } from '../progress.js';

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  target?: string;
  cache?: boolean;
  label?: string[];
  network?: string;
  quiet?: boolean;
  iidfile?: string;
  cgroupParent?: string;
  pull?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build an image from a Dockerfile and a context (a directory, or - for a tar or a Dockerfile on stdin)')
    .argument('<context>', 'the build context: a directory, or - (stdin)')
    .option('-t, --tag <name>', 'name the image (repeatable)', collect)
    .option('-f, --file <file>', 'the Dockerfile (default CONTEXT/Dockerfile; - for stdin)')
    .option('--build-arg <key=value>', 'a build-time variable (repeatable)', collect)
    .option('--target <stage>', 'the stage to build')
    .option('--no-cache', 'do not use the build cache')
    .option('--label <key=value>', 'a label on the image (repeatable)', collect)
    .option('--network <mode>', 'network of RUN steps: none (default: a namespace with only lo) or host')
    .option('--cgroup-parent <path>', "the cgroup RUN containers are made in (default 'hull')")
    .option('--pull', 'pull every base image, even one already stored (those not stored are always pulled)')
    .option('-q, --quiet', 'print only the image id')
    .option('--iidfile <file>', 'write the image id to a file')
    .action(async (context: string, flags: BuildFlags, cmd: Command) => {
      if (flags.network !== undefined && flags.network !== 'none' && flags.network !== 'host') {
        throw new UsageError(`--network ${flags.network}: hull build supports none and host (bridge networking is not there yet)`);
      }
      if (context === '-' && flags.file === '-') throw new UsageError('cannot read both the context and the Dockerfile from stdin');
      const dockerfileText = flags.file === '-' ? readFileSync(0, 'utf8') : undefined;
      const controller = new AbortController();
      const abort = () => controller.abort();
      process.on('SIGINT', abort);
      process.on('SIGTERM', abort);
      // A reader that goes away (`| head`) must not kill the build half-way: output is best
      // effort (the listener stays: a write's EPIPE is reported a tick later).
      process.stdout.on('error', () => undefined);
      try {
        const result = await hullFor(cmd).build({
          context: context === '-' ? process.stdin : context,
          ...(flags.file !== undefined && flags.file !== '-' ? { dockerfile: flags.file } : {}),
          ...(dockerfileText !== undefined ? { dockerfileText } : {}),
          tags: flags.tag ?? [],
          buildArgs: parseKeyValueFlags(flags.buildArg ?? [], '--build-arg', process.env),
          ...(flags.target !== undefined ? { target: flags.target } : {}),
          noCache: flags.cache === false,
          labels: parseKeyValueFlags(flags.label ?? [], '--label'),
          network: flags.network ?? 'none',
          ...(flags.cgroupParent !== undefined ? { cgroupParent: flags.cgroupParent } : {}),
          pull: flags.pull === true,
          ...(flags.quiet ? {} : { onPullProgress: pullProgress(process.stderr) }),
          ...(flags.quiet ? {} : { output: process.stdout }),
          signal: controller.signal,
        });
        if (flags.iidfile !== undefined) writeFileSync(flags.iidfile, result.id);
        process.stdout.write(`${flags.quiet ? result.id : result.id.slice('sha256:'.length)}\n`);
      } finally {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
    });
}
