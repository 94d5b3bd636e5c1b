/**
 * Directory in overlay format (a container's upper dir) → layer tar, for builds. The inverse of
 * ./unpack.ts:
 *
 *   0:0 character device NAME              → `dir/.wh.NAME` (empty regular file)
 *   dir with trusted.overlay.opaque=y      → `dir/` then `dir/.wh..wh..opq`
 *   files with several links in the tree   → the first as a file, the others as hard links to it
 *   other xattrs (security.capability, user.*, …) → PAX `SCHILY.xattr.NAME` records
 *
 * Deterministic: entries in byte order of their names, depth first (a directory before its
 * contents); headers carry mode, uid, gid, size, mtime (whole seconds), link target and device
 * numbers only — no atime/ctime, no user or group names — so the same tree gives the same tar
 * and therefore the same diffID. ustar headers, with PAX records only where ustar cannot say it
 * (long or non-ASCII names, large ids or sizes, xattrs), as Go's archive/tar (Docker) does.
 */

import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RuntimeError, SystemError, fromNodeError } from '../errors.js';
import { sys } from '../native/index.js';
import { OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './whiteout.js';

const BLOCK = 512;
const CHUNK = 1024 * 1024;

type TypeFlag = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x';

interface HeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: TypeFlag;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
const NON_ASCII = /[^\x00-\x7f]/g;
/** search() and replace() start at 0 whatever lastIndex says, so the one global regex serves both. */
const isAscii = (s: string) => s.search(NON_ASCII) === -1;
/** Each UTF-16 unit outside ASCII as `_` (the ustar name field's fallback; a pax record has the real name). */
const asciiOnly = (s: string) => s.replace(NON_ASCII, '_');

function octal(buf: Buffer, off: number, len: number, value: number): boolean {
  const s = value.toString(8);
  if (s.length > len - 1 || value < 0) return false;
  buf.write(s.padStart(len - 1, '0'), off, len - 1, 'ascii');
  buf[off + len - 1] = 0;
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function pad(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** The header block(s) for one entry: a PAX extended header first when needed. */
export function encodeHeader(h: HeaderFields, xattrs: readonly [string, Buffer][] = []): Buffer {
  const records: Buffer[] = [];
  const block = Buffer.alloc(BLOCK);
  const nameBytes = Buffer.from(h.name);
  if (nameBytes.length <= 100 && isAscii(h.name)) block.write(h.name, 0, 100, 'utf8');
  else {
    records.push(paxRecord('path', nameBytes));
    block.write(asciiOnly(h.name).slice(-100), 0, 100, 'ascii');
  }
  octal(block, 100, 8, h.mode & 0o7777);
  for (const [key, off, value] of [
    ['uid', 108, h.uid],
    ['gid', 116, h.gid],
  ] as const) {
    if (!octal(block, off, 8, value)) {
      records.push(paxRecord(key, Buffer.from(String(value))));
      octal(block, off, 8, 0);
    }
  }
  if (!octal(block, 124, 12, h.size)) {
    records.push(paxRecord('size', Buffer.from(String(h.size))));
    octal(block, 124, 12, 0);
  }
  if (!octal(block, 136, 12, Math.max(0, h.mtime))) octal(block, 136, 12, 0);
  block.write(h.type, 156, 1, 'ascii');
  if (h.linkname !== undefined) {
    const lb = Buffer.from(h.linkname);
    if (lb.length <= 100 && isAscii(h.linkname)) block.write(h.linkname, 157, 100, 'utf8');
    else records.push(paxRecord('linkpath', lb));
  }
  block.write('ustar\x0000', 257, 8, 'binary');
  octal(block, 329, 8, h.devmajor ?? 0);
  octal(block, 337, 8, h.devminor ?? 0);
  for (const [name, value] of xattrs) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  // checksum: the header with the checksum field as spaces
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  if (records.length === 0) return block;
  const body = Buffer.concat(records);
  const px = encodeHeader({ name: `PaxHeaders.0/${asciiOnly(h.name).slice(-80)}`, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0, type: 'x' });
  return Buffer.concat([px, body, pad(body.length), block]);
}

function xattrsOf(file: string): [string, Buffer][] {
  let names: string[];
  try {
    names = sys.llistxattr(file);
  } catch (err) {
    if (err instanceof SystemError && (err.errno === 'ENOTSUP' || err.errno === 'EOPNOTSUPP')) return [];
    throw err;
  }
  const out: [string, Buffer][] = [];
  for (const name of [...names].sort()) {
    if (name.startsWith('trusted.overlay.')) {
      if (name === 'trusted.overlay.redirect' || name === 'trusted.overlay.metacopy') {
        throw new RuntimeError(
          `${file}: overlay ${name.slice('trusted.overlay.'.length)} entries cannot be turned into a layer (mount without redirect_dir/metacopy)`,
        );
      }
      continue;
    }
    const value = sys.lgetxattr(file, name);
    if (value !== null) out.push([name, value]);
  }
  return out;
}

function isOpaque(dir: string): boolean {
  try {
    const v = sys.lgetxattr(dir, OVERLAY_OPAQUE_XATTR);
    return v !== null && v.toString() === 'y';
  } catch (err) {
    if (err instanceof SystemError && ['ENODATA', 'ENOTSUP', 'EOPNOTSUPP'].includes(err.errno)) return false;
    throw err;
  }
}

/** Byte-order comparison of names (Buffer order), as Go's sort of paths gives. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The tar of `dir` (overlay format), streamed: a layer's diff. Everything below `dir` is entered
 * with its path relative to `dir`, after `prefix` (the Engine API's archive of `DIR/.` names its
 * entries `./…`); `dir` itself is not an entry.
 */
export function diffTar(dir: string, prefix = ''): Readable {
  return Readable.from(walkTar(dir, prefix), { objectMode: false });
}

async function* walkTar(root: string, prefix: string): AsyncGenerator<Buffer> {
  const links = new Map<string, string>(); // dev:ino → first name
  const buffer = Buffer.allocUnsafe(CHUNK);

  function* entries(rel: string): Generator<{ rel: string; full: string; st: Stats }> {
    const full = rel === '' ? root : path.join(root, rel);
    let names: string[];
    try {
      names = readdirSync(full);
    } catch (err) {
      throw fromNodeError(err, 'readdir', full);
    }
    names.sort(byteOrder);
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const f = path.join(full, name);
      let st: Stats;
      try {
        st = lstatSync(f);
      } catch (err) {
        throw fromNodeError(err, 'lstat', f);
      }
      yield { rel: r, full: f, st };
    }
  }

  function* tree(rel: string): Generator<Buffer | { file: string; size: number }> {
    for (const { rel: inDir, full, st } of entries(rel)) {
      const r = `${prefix}${inDir}`;
      const mtime = Math.floor(st.mtimeMs / 1000);
      const base = { mode: st.mode, uid: st.uid, gid: st.gid, mtime };
      if (st.isCharacterDevice() && st.rdev === 0) {
        const parent = path.posix.dirname(r);
        const name = `${parent === '.' ? '' : `${parent}/`}${WHITEOUT_PREFIX}${path.posix.basename(r)}`;
        yield encodeHeader({ ...base, name, mode: 0o600, size: 0, type: '0' });
        continue;
      }
      const xattrs = xattrsOf(full);
      if (st.isDirectory()) {
        yield encodeHeader({ ...base, name: `${r}/`, size: 0, type: '5' }, xattrs);
        if (isOpaque(full)) yield encodeHeader({ ...base, name: `${r}/${WHITEOUT_OPAQUE}`, mode: 0o600, size: 0, type: '0' });
        yield* tree(inDir);
        continue;
      }
      if (st.isFile() && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          yield encodeHeader({ ...base, name: r, size: 0, type: '1', linkname: first }, xattrs);
          continue;
        }
        links.set(key, r);
      }
      if (st.isFile()) {
        yield encodeHeader({ ...base, name: r, size: st.size, type: '0' }, xattrs);
        yield { file: full, size: st.size };
      } else if (st.isSymbolicLink()) {
        yield encodeHeader({ ...base, name: r, size: 0, type: '2', linkname: readlinkSync(full) }, xattrs);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
        const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
        yield encodeHeader({ ...base, name: r, size: 0, type: st.isCharacterDevice() ? '3' : '4', devmajor: major, devminor: minor }, xattrs);
      } else if (st.isFIFO()) {
        yield encodeHeader({ ...base, name: r, size: 0, type: '6' }, xattrs);
      }
      // sockets are not archived (as Go's archive/tar)
    }
  }

  for (const item of tree('')) {
    if (Buffer.isBuffer(item)) {
      yield item;
      continue;
    }
    const fd = openSync(item.file, 'r');
    try {
      let done = 0;
      while (done < item.size) {
        const n = readSync(fd, buffer, 0, Math.min(CHUNK, item.size - done), null);
        if (n === 0) throw new RuntimeError(`${item.file}: changed size while being archived`);
        done += n;
        yield Buffer.from(buffer.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    yield pad(item.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}
