/**
 * A pull-based tar reader: `for await (const entry of readTar(stream))`. Entries come strictly in
 * order and the next one is read only when asked for, so the consumer's (async) work on one entry
 * finishes before the next begins and backpressure reaches the source: memory stays bounded by
 * one chunk, whatever the size of the archive.
 *
 * Headers are decoded by ./tar-header.ts (ustar, GNU and star layouts, octal and base-256
 * numbers, checksum); PAX extended headers are parsed here, byte-exact, so binary xattr values
 * (`SCHILY.xattr.security.capability`) survive. GNU long names (`L`/`K`) are supported; global
 * PAX headers are ignored (as Docker does); sparse files and unknown types are rejected.
 *
 * After the end-of-archive marker, the rest of the input is read and discarded, so a hashing
 * stream upstream sees every byte (a diffID is the digest of the whole uncompressed stream).
 */

import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { TAR_BLOCK, TarFieldError, checksumValid, decodeHeader, isZeroBlock, type TarHeader } from './tar-header.js';
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

const BLOCK = TAR_BLOCK;
/** Largest PAX header / GNU long name accepted (node-tar uses the same bound). */
const MAX_META_SIZE = 1024 * 1024;
const BODY_CHUNK = 256 * 1024;

/**
 * The reader lets the event loop run once per this many bytes consumed. Writing a layer is a long
 * chain of promises that resolve at once (the data is already buffered), and nothing else runs
 * meanwhile: in particular not the decompressor's callbacks, and the decompressor waits for one
 * before it decodes the next chunk. Letting them run keeps it decoding while the files are
 * written (a 128 MB Debian layer on tmpfs: 0.85 s → 0.80 s).
 */
const YIELD_EVERY_BYTES = 256 * 1024;

/** Pulls bytes from an async iterable of chunks, without copying except to assemble headers. */
class ByteReader {
  private readonly iterator: AsyncIterator<unknown>;
  private chunk: Buffer = Buffer.alloc(0);
  /** Bytes of `chunk` already handed out. */
  private offset = 0;
  private done = false;
  private sinceYield = 0;

  constructor(source: AsyncIterable<unknown>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Up to `max` (> 0) bytes, or undefined at end of input. */
  async next(max: number): Promise<Buffer | undefined> {
    while (this.offset === this.chunk.length) {
      if (this.done) return undefined;
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      const value = r.value;
      this.chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = Math.min(this.chunk.length, start + max);
    this.sinceYield += this.offset - start;
    if (this.sinceYield >= YIELD_EVERY_BYTES) {
      this.sinceYield = 0;
      await nextLoopTurn();
    }
    return start === 0 && this.offset === this.chunk.length ? this.chunk : this.chunk.subarray(start, this.offset);
  }

  /**
   * Exactly `n` bytes when the current chunk has them and the event loop need not run yet;
   * undefined otherwise (then `readExactly` does it). Saves a promise per header.
   */
  take(n: number): Buffer | undefined {
    const start = this.offset;
    if (this.chunk.length - start < n || this.sinceYield + n >= YIELD_EVERY_BYTES) return undefined;
    this.offset = start + n;
    this.sinceYield += n;
    return this.chunk.subarray(start, this.offset);
  }

  /** Skips `n` bytes when the current chunk has them (see `take`); false otherwise. */
  trySkip(n: number): boolean {
    if (this.chunk.length - this.offset < n || this.sinceYield + n >= YIELD_EVERY_BYTES) return false;
    this.offset += n;
    this.sinceYield += n;
    return true;
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
        case 'path':
          into.path = value.toString('utf8');
          break;
        case 'linkpath':
          into.linkpath = value.toString('utf8');
          break;
        case 'size':
          into.size = decimal(value, key, true);
          break;
        case 'uid':
          into.uid = decimal(value, key, true);
          break;
        case 'gid':
          into.gid = decimal(value, key, true);
          break;
        case 'mtime':
          into.mtime = decimal(value, key, false);
          break;
        case 'atime':
          into.atime = decimal(value, key, false);
          break;
        case 'SCHILY.devmajor':
          into.devMajor = decimal(value, key, true);
          break;
        case 'SCHILY.devminor':
          into.devMinor = decimal(value, key, true);
          break;
        default:
          break; // uname, gname, ctime, comment, charset, …: not needed
      }
    }
  }
}

/** A GNU long name: NUL-terminated. */
function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

/** Read-only in effect: nothing is ever written into it (a PAX header makes a new one). */
const NO_OVERRIDES: Overrides = Object.freeze({ xattrs: new Map<string, Buffer>() });

/** The header's own name, for an error about a header that could not be decoded. */
function headerName(block: Buffer): string {
  const nul = block.indexOf(0);
  return block.toString('utf8', 0, nul < 0 || nul > 100 ? 100 : nul);
}

/**
 * A regular file's content, read from the archive in place: pull-based, so nothing is read
 * before the consumer asks, and valid only until the next entry is asked for.
 */
class EntryBody implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  /** Bytes of content not yet read. */
  left: number;
  /** False once the reader moved on to the next entry. */
  current = true;
  private readonly reader: ByteReader;
  private readonly path: string;

  constructor(reader: ByteReader, path: string, size: number) {
    this.reader = reader;
    this.path = path;
    this.left = size;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (this.left === 0) return { done: true, value: undefined };
    if (!this.current) throw new InvalidImageError(`tar: body of ${JSON.stringify(this.path)} read after the next entry`);
    const part = await this.reader.next(Math.min(this.left, BODY_CHUNK));
    if (part === undefined) throw new InvalidImageError(`unexpected end of tar archive in ${JSON.stringify(this.path)}`);
    this.left -= part.length;
    return { done: false, value: part };
  }
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

/**
 * Reads tar entries from a byte stream (already decompressed). Throws InvalidImageError for
 * anything that is not a well-formed tar archive.
 */
export async function* readTar(source: AsyncIterable<unknown>): AsyncGenerator<TarEntry, void, undefined> {
  const reader = new ByteReader(source);
  try {
    /** Fields from PAX / GNU headers for the next entry; the shared empty one until there are any. */
    let pending: Overrides = NO_OVERRIDES;
    let sawHeader = false;
    for (;;) {
      const block = reader.take(BLOCK) ?? (await reader.readExactly(BLOCK, 'a header'));
      if (block === undefined) {
        if (!sawHeader) throw new InvalidImageError('not a tar archive: empty input');
        break; // no end-of-archive marker: tolerated, as Go's archive/tar does
      }
      if (isZeroBlock(block)) break; // end-of-archive marker
      if (!checksumValid(block)) {
        throw new InvalidImageError(sawHeader ? 'tar: header checksum mismatch (corrupt archive)' : 'not a tar archive');
      }
      sawHeader = true;
      let header: TarHeader;
      try {
        header = decodeHeader(block);
      } catch (err) {
        if (!(err instanceof TarFieldError)) throw err;
        throw new InvalidImageError(`tar: ${err.message} in header of ${JSON.stringify(pending.path ?? headerName(block))}`);
      }
      const code = header.typeflag;
      const headerSize = header.size;

      // Metadata entries that describe the next entry.
      if (code === 'x' || code === 'g' || code === 'L' || code === 'K' || code === 'N') {
        if (headerSize > MAX_META_SIZE) throw new InvalidImageError(`tar: extended header of ${headerSize} bytes is too large`);
        const data = headerSize === 0 ? Buffer.alloc(0) : await reader.readExactly(headerSize, 'an extended header');
        if (data === undefined) throw new InvalidImageError('unexpected end of tar archive in an extended header');
        await reader.skip(padding(headerSize), 'an extended header');
        if (pending === NO_OVERRIDES) pending = { xattrs: new Map() };
        if (code === 'x') applyPax(data, pending);
        else if (code === 'L' || code === 'N') pending.path = cString(data);
        else if (code === 'K') pending.linkpath = cString(data);
        // 'g' (global PAX header) is ignored, as Docker does.
        continue;
      }

      const path = pending.path ?? header.path;
      // Pre-POSIX archives mark a directory by a NUL typeflag and a name ending in '/'; as in Go's
      // archive/tar (Docker's reader), only with that typeflag, so both agree where data starts.
      const type = code === '' && path.endsWith('/') ? 'directory' : ENTRY_TYPES[code];
      if (type === undefined) {
        throw new InvalidImageError(`tar: unsupported entry type ${JSON.stringify(code)} for ${JSON.stringify(path)}`);
      }
      if (path === '') throw new InvalidImageError('tar: entry without a name');
      const size = type === 'file' || code === 'D' ? (pending.size ?? headerSize) : headerSize;
      const linked = type === 'symlink' || type === 'hardlink';
      const body = new EntryBody(reader, path, type === 'file' ? size : 0);
      const entry: TarEntry = {
        type,
        path,
        linkpath: linked ? (pending.linkpath ?? header.linkpath) : '',
        mode: header.mode & 0o7777,
        uid: pending.uid ?? header.uid,
        gid: pending.gid ?? header.gid,
        size: type === 'file' ? size : 0,
        mtime: pending.mtime ?? header.mtime,
        atime: pending.atime ?? header.atime,
        devMajor: pending.devMajor ?? header.devMajor,
        devMinor: pending.devMinor ?? header.devMinor,
        xattrs: pending.xattrs,
        body,
      };
      if (pending !== NO_OVERRIDES) pending = NO_OVERRIDES;

      // Go's archive/tar: only regular files (and GNU dump dirs) have data; for other types the
      // size field is ignored.
      const dataSize = type === 'file' || code === 'D' ? size : 0;
      yield entry;
      body.current = false;
      const rest = body.left + (type === 'file' ? 0 : dataSize) + padding(dataSize);
      if (rest > 0 && !reader.trySkip(rest)) await reader.skip(rest, JSON.stringify(path));
    }
    await reader.drain();
  } finally {
    await reader.close();
  }
}
