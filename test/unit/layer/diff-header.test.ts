// The tar headers src/layer/diff.ts writes for built layers, read back by node-tar (an independent
// reader): ustar fields, PAX records for what ustar cannot hold, checksums, and stable bytes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { encodeHeader } from '../../../src/layer/diff.js';

/** An entry as tar's parser reads it back. */
interface Entry {
  path: string;
  type: string;
  uid: number;
  gid: number;
  size: number;
  mode: number;
  linkpath: string | undefined;
  mtime: number;
  pax: Record<string, unknown>;
}

function read(blocks: Buffer[]): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const out: Entry[] = [];
    const p = new Parser({ strict: true });
    p.on('entry', (e: ReadEntry) => {
      // pax: the extended header's fields as plain data, to compare with toEqual
      out.push({
        path: e.path,
        type: e.type,
        uid: e.uid ?? -1,
        gid: e.gid ?? -1,
        size: e.size ?? -1,
        mode: e.mode ?? -1,
        linkpath: e.linkpath,
        mtime: e.mtime ? Math.floor(e.mtime.getTime() / 1000) : -1,
        pax: Object.fromEntries(Object.entries(e.extended ?? {})),
      });
      e.resume();
    });
    p.on('error', reject);
    p.on('warn', (code: string, msg: string) => reject(new Error(`${code}: ${msg}`)));
    p.on('end', () => resolve(out));
    p.end(Buffer.concat([...blocks, Buffer.alloc(1024)]));
  });
}

describe('layer diff tar headers', () => {
  it('ustar fields round-trip: file, directory, symlink, hard link, whiteout', async () => {
    const entries = await read([
      encodeHeader({ name: 'd/', mode: 0o40755, uid: 0, gid: 0, size: 0, mtime: 1700000000, type: '5' }),
      encodeHeader({ name: 'd/f', mode: 0o104755, uid: 12, gid: 34, size: 0, mtime: 1700000001, type: '0' }),
      encodeHeader({ name: 'd/l', mode: 0o120777, uid: 0, gid: 0, size: 0, mtime: 1, type: '2', linkname: '../target' }),
      encodeHeader({ name: 'd/h', mode: 0o100644, uid: 0, gid: 0, size: 0, mtime: 1, type: '1', linkname: 'd/f' }),
      encodeHeader({ name: 'd/.wh.gone', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 1, type: '0' }),
    ]);
    expect(entries.map((e) => [e.path, e.type, e.uid, e.gid, e.mode.toString(8), e.linkpath ?? '', e.mtime])).toEqual([
      ['d/', 'Directory', 0, 0, '755', '', 1700000000],
      ['d/f', 'File', 12, 34, '4755', '', 1700000001],
      ['d/l', 'SymbolicLink', 0, 0, '777', '../target', 1],
      ['d/h', 'Link', 0, 0, '644', 'd/f', 1],
      ['d/.wh.gone', 'File', 0, 0, '600', '', 1],
    ]);
  });

  // node-tar rejects a symlink whose ustar linkname is empty before applying PAX, so GNU tar reads these.
  it('PAX records for long and non-ASCII names, long link targets, large ids, xattrs (read by GNU tar)', () => {
    const long = `${'dir/'.repeat(40)}file`;
    const archive = Buffer.concat([
      encodeHeader({ name: long, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, type: '0' }),
      encodeHeader({ name: 'caf\u00e9', mode: 0o777, uid: 3000000, gid: 4000000, size: 0, mtime: 0, type: '2', linkname: `/${'x'.repeat(150)}` }, [
        ['security.capability', Buffer.from([1, 0, 0, 2])],
        ['user.note', Buffer.from('hi')],
      ]),
      Buffer.alloc(1024),
    ]);
    const r = spawnSync('tar', ['--xattrs', '--numeric-owner', '-tvf', '-'], { input: archive, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(` ${long}$`));
    expect(lines[1]).toMatch(new RegExp(`^l\\S+\\* 3000000/4000000 .* caf\u00e9 -> /x{150}$`)); // * = has xattrs
  });

  it('the same entry gives the same bytes', () => {
    const h = { name: 'a/b', mode: 0o644, uid: 1, gid: 2, size: 5, mtime: 42, type: '0' as const };
    expect(encodeHeader(h).equals(encodeHeader({ ...h }))).toBe(true);
    expect(encodeHeader(h)).toHaveLength(512);
  });
});
