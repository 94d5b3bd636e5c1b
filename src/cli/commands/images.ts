import type { Command } from 'commander';
import { formatterContext } from '../../format/formatter.js';
import { shortId } from '../../present/human.js';
import { imageFields, imageRows } from '../../present/images.js';
import { parseFilterFlags, parseImageFilters } from '../../filters/index.js';
import { collect, hullFor } from '../context.js';
import { listFormat, table } from '../format.js';

interface ImagesFlags {
  quiet?: boolean;
  digests?: boolean;
  format?: string;
  all?: boolean;
  filter: string[];
}

/** The column names of an image row's fields (Docker's imageContext header). */
const IMAGE_HEADERS = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** `images` / `image ls`: Docker's table, -q ids, --digests, --format json (one object a line), table or a Go template. */
export function defineImages(cmd: Command): void {
  cmd
    .description('list images')
    .argument('[repository[:tag]]', 'only images of this repository (and tag)')
    .option('-a, --all', 'show all images (hull has no intermediate images: the same list)')
    .option('-q, --quiet', 'only image ids')
    .option('--digests', 'show digests')
    .option('-f, --filter <key=value>', 'filter (repeatable): dangling=true|false, label=k[=v], before=IMAGE, since=IMAGE, reference=GLOB', collect, [])
    .option('--format <format>', "'table' (default), 'json', 'table TEMPLATE' or a Go template: {{.Repository}}:{{.Tag}}")
    .action(async (repository: string | undefined, flags: ImagesFlags, command: Command) => {
      // As Docker's CLI: the positional is one more `reference` filter.
      const filters = parseImageFilters(parseFilterFlags([...flags.filter, ...(repository !== undefined ? [`reference=${repository}`] : [])]));
      const format = flags.quiet ? undefined : listFormat(flags.format, IMAGE_HEADERS);
      const rows = imageRows(await hullFor(command).selectImages(filters));
      if (flags.quiet) {
        for (const r of rows) process.stdout.write(`${shortId(r.image.id)}\n`);
        return;
      }
      const fields = rows.map(imageFields);
      if (format) {
        process.stdout.write(format.render(fields.map((f) => formatterContext('*formatter.imageContext', f))));
        return;
      }
      const headers = ['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
      process.stdout.write(
        table(
          headers,
          fields.map((f) => [f.Repository, f.Tag, ...(flags.digests ? [f.Digest] : []), f.ID, f.CreatedSince, f.Size]),
        ),
      );
    });
}

export function registerImages(program: Command): void {
  defineImages(program.command('images'));
}
