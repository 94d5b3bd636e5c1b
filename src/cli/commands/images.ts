import type { Command } from 'commander';
import { formatterContext } from '../../format/formatter.js';
import { familiar, normalize } from '../../image/reference.js';
import type { ImageSummary } from '../../store/image-store.js';
import { hullFor } from '../context.js';
import { listFormat, table } from '../format.js';
import { dockerTime, humanSize, shortId, timeAgo } from '../../present/human.js';

interface ImagesFlags {
  quiet?: boolean;
  digests?: boolean;
  format?: string;
  all?: boolean;
}

interface Row {
  repository: string;
  tag: string;
  image: ImageSummary;
}

function splitTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), '<none>'];
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

/** The row's digest as Docker shows it: the one its repository was pulled with, else the manifest's. */
function digestOf(r: Row): string {
  const pinned = r.image.repoDigests.find((d) => d.startsWith(`${r.repository}@`));
  return pinned?.slice(r.repository.length + 1) ?? r.image.manifestDigest ?? '<none>';
}

function rowsOf(images: readonly ImageSummary[], filter: string | undefined): Row[] {
  let wantRepo: string | undefined;
  let wantTag: string | undefined;
  if (filter !== undefined) {
    const [repo, tag] = splitTag(familiar(normalize(filter)));
    wantRepo = repo;
    wantTag = filter.includes(':') && !filter.endsWith(':') ? tag : undefined;
  }
  const rows: Row[] = [];
  for (const image of images) {
    const refs = image.references.length > 0 ? image.references.map((r) => familiar(r)) : ['<none>:<none>'];
    for (const ref of refs) {
      const [repository, tag] = ref === '<none>:<none>' ? ['<none>', '<none>'] : splitTag(ref);
      if (wantRepo !== undefined && (repository !== wantRepo || (wantTag !== undefined && tag !== wantTag))) continue;
      rows.push({ repository, tag, image });
    }
  }
  return rows;
}

/** The column names of an image row's fields (Docker's imageContext header). */
const IMAGE_HEADERS = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE',
  Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

/** A row as `images --format` sees it (and `--format json` prints it). */
function imageContext(r: Row): Record<string, unknown> {
  return formatterContext('*formatter.imageContext', {
    Containers: 'N/A',
    CreatedAt: dockerTime(r.image.created),
    CreatedSince: timeAgo(r.image.created),
    Digest: digestOf(r),
    ID: shortId(r.image.id),
    Repository: r.repository,
    SharedSize: 'N/A',
    Size: humanSize(r.image.size),
    Tag: r.tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(r.image.size),
  });
}

/** `images` / `image ls`: Docker's table, -q ids, --digests, --format json (one object a line), table or a Go template. */
export function defineImages(cmd: Command): void {
  cmd
    .description('list images')
    .argument('[repository[:tag]]', 'only images of this repository (and tag)')
    .option('-a, --all', 'show all images (hull has no intermediate images: the same list)')
    .option('-q, --quiet', 'only image ids')
    .option('--digests', 'show digests')
    .option('--format <format>', "'table' (default), 'json', 'table TEMPLATE' or a Go template: {{.Repository}}:{{.Tag}}")
    .action(async (filter: string | undefined, flags: ImagesFlags, command: Command) => {
      const format = flags.quiet ? undefined : listFormat(flags.format, IMAGE_HEADERS);
      const rows = rowsOf(await hullFor(command).listImages(), filter);
      if (flags.quiet) {
        for (const r of rows) process.stdout.write(`${shortId(r.image.id)}\n`);
        return;
      }
      if (format) {
        process.stdout.write(format.render(rows.map(imageContext)));
        return;
      }
      const headers = ['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
      process.stdout.write(table(headers, rows.map((r) => [
        r.repository,
        r.tag,
        ...(flags.digests ? [digestOf(r)] : []),
        shortId(r.image.id),
        timeAgo(r.image.created),
        humanSize(r.image.size),
      ])));
    });
}

export function registerImages(program: Command): void {
  defineImages(program.command('images'));
}
