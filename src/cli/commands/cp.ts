import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hullFor } from '../context.js';

/** "CONTAINER:PATH" → [container, path]; a host path (with a '/' before any ':') → undefined. */
function containerPart(arg: string): [string, string] | undefined {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.slice(0, colon).includes('/')) return undefined;
  return [arg.slice(0, colon), arg.slice(colon + 1) || '/'];
}

export function registerCp(program: Command): void {
  program
    .command('cp')
    .description('copy files between a container (in any state) and the host: cp CONTAINER:SRC DEST, cp SRC CONTAINER:DEST')
    .argument('<src>', 'CONTAINER:PATH or a host path')
    .argument('<dest>', 'CONTAINER:PATH or a host path')
    .option('-L, --follow-link', 'always follow symbolic links in SRC (copy what the link points to, under its name)')
    .action(async (src: string, dest: string, flags: { followLink?: boolean }, cmd: Command) => {
      if (src === '') throw new UsageError('source can not be empty');
      if (dest === '') throw new UsageError('destination can not be empty');
      const from = containerPart(src);
      const to = containerPart(dest);
      if (from && to) throw new UsageError('copying between containers is not supported');
      if (!from && !to) throw new UsageError('must specify at least one container source (CONTAINER:PATH)');
      if (src === '-' || dest === '-') throw new UsageError('tar streams (-) are not supported yet');
      const hull = hullFor(cmd);
      const opts = { followLink: flags.followLink ?? false };
      if (from) await hull.runtime.copy(from[0], 'from', from[1], dest, opts);
      else await hull.runtime.copy(to![0], 'to', to![1], src, opts);
    });
}
