/**
 * A pull-based tar reader: `for await (const entry of readTar(stream))`. Entries come strictly in
 * order and the next one is read only when asked for, so the consumer's (async) work on one entry
 * finishes before the next begins and backpressure reaches the source: memory stays bounded by
 * one chunk, whatever the size of the archive.
 *
 * Headers are decoded with node-tar's `Header` (ustar prefix, octal and base-256 numbers,
 * checksum); PAX extended headers are parsed here, byte-exact, so binary xattr values
 * (`SCHILY.xattr.security.capability`) survive. GNU long names (`L`/`K`) are supported; global
 * PAX headers are ignored (as Docker does); sparse files and unknown types are rejected.
 *
 * After the end-of-archive marker, the rest of the input is read and discarded, so a hashing
 * stream upstream sees every byte (a diffID is the digest of the whole uncompressed stream).
 */

import { Header } from 'tar/header';
import { InvalidImageError } from '../errors.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  readonly type: TarEntryType;
  /** The name as stored (PAX `path` / GNU long name applied), not yet cleaned. */
  readonly path: string;
  /** Symlink target or hardlink source; '' for other types. */
  readonly linkpath: string;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content length (regular files only; 0 for every other type). */
  readonly size: number;
  /** Seconds since the epoch (fractional with PAX). */
  readonly mtime: number;
  readonly atime: number | undefined;
  readonly devMajor: number;
  readonly devMinor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` / `LIBARCHIVE.xattr.*` records. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /**
   * The content of a regular file, exactly `size` bytes. Read it before asking for the next
   * entry; whatever is left unread is skipped then.
   */
  readonly body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
/** Largest PAX header / GNU long name accepted (node-tar uses the same bound). */
const MAX_META_SIZE = 1024 * 1024;
const BODY_CHUNK = 256 * 1024;

/** Pulls bytes from an async iterable of chunks, without copying except to assemble headers. */
class ByteReader {
  private readonly iterator: AsyncIterator<unknown>;
  private chunk: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(source: AsyncIterable<unknown>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Up to `max` (> 0) bytes, or undefined at end of input. */
  async next(max: number): Promise<Buffer | undefined> {
    while (this.chunk.length === 0) {
      if (this.done) return undefined;
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      const value = r.value;
      this.chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
    }
    const out = this.chunk.subarray(0, max);
    this.chunk = this.chunk.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes; undefined at a clean end of input (no byte read); throws when cut short. */
  async readExactly(n: number, what: string): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const part = await this.next(n - have);
      if (part === undefined) {
        if (have === 0) return undefined;
        throw new InvalidImageError(`unexpected end of tar archive in ${what}`);
      }
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, n);
  }

  /** Skips `n` bytes; throws when the input ends first. */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const part = await this.next(Math.min(left, BODY_CHUNK));
      if (part === undefined) throw new InvalidImageError(`unexpected end of tar archive in ${what}`);
      left -= part.length;
    }
  }

  /** Reads (and drops) everything that is left. */
  async drain(): Promise<void> {
    while ((await this.next(BODY_CHUNK)) !== undefined) {
      /* discard */
    }
  }

  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Pending fields from PAX / GNU headers for the next entry. */
interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  atime?: number;
  devMajor?: number;
  devMinor?: number;
  xattrs: Map<string, Buffer>;
}

function decimal(value: Buffer, key: string, integer: boolean): number {
  const s = value.toString('latin1');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || (integer && (!Number.isSafeInteger(n) || n < 0))) {
    throw new InvalidImageError(`tar: invalid PAX value for ${key}: ${JSON.stringify(s)}`);
  }
  return n;
}

/** Parses PAX records `"<len> <key>=<value>\n"` into `into`, keeping values as raw bytes. */
function applyPax(data: Buffer, into: Overrides): void {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, pos);
    const len = space < 0 ? NaN : Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(len) || len <= space - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new InvalidImageError('tar: malformed PAX extended header');
    }
    const record = data.subarray(space + 1, pos + len - 1);
    pos += len;
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new InvalidImageError('tar: malformed PAX record');
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    if (key.startsWith('SCHILY.xattr.')) {
      into.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      into.xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value.toString('latin1'), 'base64'));
    } else if (key.startsWith('GNU.sparse.')) {
      throw new InvalidImageError('tar: sparse files are not supported');
    } else if (value.length > 0) {
      switch (key) {
        case 'path': into.path = value.toString('utf8'); break;
        case 'linkpath': into.linkpath = value.toString('utf8'); break;
        case 'size': into.size = decimal(value, key, true); break;
        case 'uid': into.uid = decimal(value, key, true); break;
        case 'gid': into.gid = decimal(value, key, true); break;
        case 'mtime': into.mtime = decimal(value, key, false); break;
        case 'atime': into.atime = decimal(value, key, false); break;
        case 'SCHILY.devmajor': into.devMajor = decimal(value, key, true); break;
        case 'SCHILY.devminor': into.devMinor = decimal(value, key, true); break;
        default: break; // uname, gname, ctime, comment, charset, …: not needed
      }
    }
  }
}

/** A GNU long name: NUL-terminated. */
function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

const ENTRY_TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file', // contiguous file
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  D: 'directory', // GNU dump dir: a directory followed by a listing we skip
  '6': 'fifo',
};

function seconds(d: Date | undefined): number | undefined {
  return d === undefined || Number.isNaN(d.getTime()) ? undefined : d.getTime() / 1000;
}

/** A numeric header field; an empty one is 0, as Go's archive/tar reads it. */
function checkedNumber(n: number | undefined, field: string, path: string): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidImageError(`tar: invalid ${field} in header of ${JSON.stringify(path)}`);
  }
  return n;
}

/**
 * Reads tar entries from a byte stream (already decompressed). Throws InvalidImageError for
 * anything that is not a well-formed tar archive.
 */
export async function* readTar(source: AsyncIterable<unknown>): AsyncGenerator<TarEntry, void, undefined> {
  const reader = new ByteReader(source);
  try {
    let pending: Overrides = { xattrs: new Map() };
    let sawHeader = false;
    for (;;) {
      const block = await reader.readExactly(BLOCK, 'a header');
      if (block === undefined) {
        if (!sawHeader) throw new InvalidImageError('not a tar archive: empty input');
        break; // no end-of-archive marker: tolerated, as Go's archive/tar does
      }
      const header = new Header(block);
      if (header.nullBlock) break; // end-of-archive marker
      if (!header.cksumValid) {
        throw new InvalidImageError(sawHeader ? 'tar: header checksum mismatch (corrupt archive)' : 'not a tar archive');
      }
      sawHeader = true;
      const rawPath = header.path ?? '';
      const code = header.typeKey;
      const headerSize = checkedNumber(header.size, 'size', rawPath);

      // Metadata entries that describe the next entry.
      if (code === 'x' || code === 'g' || code === 'L' || code === 'K' || code === 'N') {
        if (headerSize > MAX_META_SIZE) throw new InvalidImageError(`tar: extended header of ${headerSize} bytes is too large`);
        const data = headerSize === 0 ? Buffer.alloc(0) : await reader.readExactly(headerSize, 'an extended header');
        if (data === undefined) throw new InvalidImageError('unexpected end of tar archive in an extended header');
        await reader.skip(padding(headerSize), 'an extended header');
        if (code === 'x') applyPax(data, pending);
        else if (code === 'L' || code === 'N') pending.path = cString(data);
        else if (code === 'K') pending.linkpath = cString(data);
        // 'g' (global PAX header) is ignored, as Docker does.
        continue;
      }

      const type = ENTRY_TYPES[code];
      if (type === undefined) {
        throw new InvalidImageError(`tar: unsupported entry type ${JSON.stringify(code)} for ${JSON.stringify(pending.path ?? rawPath)}`);
      }
      const path = pending.path ?? rawPath;
      if (path === '') throw new InvalidImageError('tar: entry without a name');
      const size = type === 'file' || code === 'D' ? (pending.size ?? headerSize) : headerSize;
      const entry = {
        type,
        path,
        linkpath: type === 'symlink' || type === 'hardlink' ? (pending.linkpath ?? header.linkpath ?? '') : '',
        mode: checkedNumber(header.mode, 'mode', path) & 0o7777,
        uid: pending.uid ?? checkedNumber(header.uid, 'uid', path),
        gid: pending.gid ?? checkedNumber(header.gid, 'gid', path),
        size: type === 'file' ? size : 0,
        mtime: pending.mtime ?? seconds(header.mtime) ?? 0,
        atime: pending.atime ?? seconds(header.atime),
        devMajor: pending.devMajor ?? header.devmaj,
        devMinor: pending.devMinor ?? header.devmin,
        xattrs: pending.xattrs,
      };
      pending = { xattrs: new Map() };

      // Go's archive/tar: only regular files (and GNU dump dirs) have data; for other types the
      // size field is ignored.
      const dataSize = type === 'file' || code === 'D' ? size : 0;
      let left = dataSize;
      let current = true;
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          if (type !== 'file') return;
          while (left > 0) {
            if (!current) throw new InvalidImageError(`tar: body of ${JSON.stringify(path)} read after the next entry`);
            const part = await reader.next(Math.min(left, BODY_CHUNK));
            if (part === undefined) throw new InvalidImageError(`unexpected end of tar archive in ${JSON.stringify(path)}`);
            left -= part.length;
            yield part;
          }
        },
      };
      yield { ...entry, body };
      current = false;
      await reader.skip(left + padding(dataSize), JSON.stringify(path));
    }
    await reader.drain();
  } finally {
    await reader.close();
  }
}
