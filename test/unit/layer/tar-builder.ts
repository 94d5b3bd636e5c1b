// Builds tar archives byte by byte, including ones no honest tool writes (absolute names, `..`,
// symlinks to walk through, hardlinks out of the root), for the extraction tests.

import { Header } from 'tar';

export type TarSpecType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarSpec {
  path: string;
  type?: TarSpecType;
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmaj?: number;
  devmin?: number;
  /** PAX records written in an extended header before the entry (e.g. SCHILY.xattr.user.x). */
  pax?: Record<string, string | Buffer>;
  /** Write path (and linkpath) as GNU long-name entries ('L' / 'K'), the header keeping a stub. */
  gnuLong?: boolean;
}

const TYPE_NAMES: Record<TarSpecType, 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO'> = {
  file: 'File',
  dir: 'Directory',
  symlink: 'SymbolicLink',
  hardlink: 'Link',
  char: 'CharacterDevice',
  block: 'BlockDevice',
  fifo: 'FIFO',
};

const EPOCH = new Date('2020-01-02T03:04:05Z');

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function headerBlock(fields: ConstructorParameters<typeof Header>[0]): Buffer {
  const h = new Header(fields);
  h.encode();
  if (!h.block) throw new Error('tar header did not encode');
  return h.block;
}

function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** The tar archive of `entries`, in order, with the end-of-archive marker (and `trailer` after it). */
export function makeTar(entries: TarSpec[], trailer?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.body ?? '') : Buffer.alloc(0);
    if (e.gnuLong) {
      const long = (type: 'NextFileHasLongPath' | 'NextFileHasLongLinkpath', value: string): void => {
        const data = Buffer.concat([Buffer.from(value), Buffer.alloc(1)]);
        parts.push(headerBlock({ path: '././@LongLink', type, size: data.length, mode: 0o644, mtime: EPOCH }), pad(data));
      };
      long('NextFileHasLongPath', e.path);
      if (e.linkpath) long('NextFileHasLongLinkpath', e.linkpath);
    }
    if (e.pax) {
      const data = Buffer.concat(Object.entries(e.pax).map(([k, v]) => paxRecord(k, v)));
      parts.push(headerBlock({ path: 'PaxHeader', type: 'ExtendedHeader', size: data.length, mode: 0o644, mtime: EPOCH }), pad(data));
    }
    parts.push(
      headerBlock({
        path: e.gnuLong ? e.path.slice(0, 99) : e.path,
        type: TYPE_NAMES[type],
        size: body.length,
        mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? EPOCH,
        linkpath: e.gnuLong ? (e.linkpath ?? '').slice(0, 99) : (e.linkpath ?? ''),
        uname: '',
        gname: '',
        devmaj: e.devmaj ?? 0,
        devmin: e.devmin ?? 0,
      }),
    );
    if (body.length > 0) parts.push(pad(body));
  }
  parts.push(Buffer.alloc(1024));
  if (trailer) parts.push(trailer);
  return Buffer.concat(parts);
}
