import type { Command } from 'commander';
import { familiar } from '../../image/reference.js';
import { hullFor } from '../context.js';
import { humanSize, shortId, table, timeAgo } from '../format.js';

function splitTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), '<none>'];
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

export function registerImages(program: Command): void {
  program
    .command('images')
    .description('list images')
    .option('-q, --quiet', 'only image ids')
    .action(async (flags: { quiet?: boolean }, cmd: Command) => {
      const images = await hullFor(cmd).listImages();
      if (flags.quiet) {
        for (const image of images) process.stdout.write(`${shortId(image.id)}\n`);
        return;
      }
      const rows: string[][] = [];
      for (const image of images) {
        const refs = image.references.length > 0 ? image.references.map((r) => familiar(r)) : ['<none>:<none>'];
        for (const ref of refs) {
          const [repo, tag] = splitTag(ref);
          rows.push([repo, tag, shortId(image.id), timeAgo(image.created), humanSize(image.size)]);
        }
      }
      process.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
    });
}
