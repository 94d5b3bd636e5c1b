/**
 * Decoding of one 512-byte tar header block (ustar, GNU and star layouts), straight from the
 * bytes: numbers are read digit by digit and names sliced once, so a header makes no garbage
 * beyond its strings. (node-tar's `Header` made ~20 KB of short-lived objects per entry — slices,
 * strings, regexps, Dates — and its decoding plus the garbage collection it caused were ~15% of
 * a Debian layer's unpack time on tmpfs; node-tar still writes headers, in
 * src/image/archive/tar-writer.ts.)
 *
 * Layout (offsets in the block):
 *
 *     0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]  136 mtime[12]
 *   148 chksum[8]  156 typeflag  157 linkname[100]  257 magic[6]  263 version[2]
 *   265 uname[32]  297 gname[32]  329 devmajor[8]  337 devminor[8]
 *   345 ustar: prefix[155]; star (node-tar writes it): prefix[131] 476 atime[12] 488 ctime[12];
 *       GNU: 345 atime[12] 357 ctime[12]
 *
 * Numbers are octal text (ended by a space or NUL) or, when the first byte has its high bit set,
 * GNU base-256 (used for uids and sizes that do not fit). Like Go's archive/tar (what Docker and
 * containerd use), a checksum is accepted as either the unsigned or the signed byte sum.
 */

export const TAR_BLOCK = 512;

export interface TarHeader {
  /** Name with the ustar prefix applied; NUL-terminated fields decoded as UTF-8. */
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Seconds since the epoch, where the header carries one (star and GNU layouts). */
  readonly atime: number | undefined;
  /** The typeflag character; '' for a NUL typeflag (an old-style regular file). */
  readonly typeflag: string;
  readonly linkpath: string;
  readonly devMajor: number;
  readonly devMinor: number;
}

/** A number field that is not a number. */
export class TarFieldError extends Error {
  constructor(readonly field: string) {
    super(`invalid ${field}`);
  }
}

const NUL = 0;
const SPACE = 0x20;

/** Whether the 512 bytes at `off` are all zero (the end-of-archive marker). */
export function isZeroBlock(block: Uint8Array, off = 0): boolean {
  for (let i = off; i < off + TAR_BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Whether the stored checksum matches the unsigned or the signed byte sum of the block. */
export function checksumValid(block: Uint8Array, off = 0): boolean {
  let stored: number;
  try {
    stored = number(block, off + 148, 8, 'checksum');
  } catch {
    return false;
  }
  let unsigned = 8 * SPACE;
  let signed = 8 * SPACE;
  for (let i = off; i < off + TAR_BLOCK; i++) {
    if (i === off + 148) {
      i += 7;
      continue;
    }
    const b = block[i] as number;
    unsigned += b;
    signed += b < 0x80 ? b : b - 0x100;
  }
  return stored === unsigned || stored === signed;
}

/** A NUL-terminated text field. */
function text(block: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== NUL) end++;
  return end === start ? '' : block.toString('utf8', start, end);
}

/**
 * A numeric field: octal text with optional leading and trailing spaces or NULs, or GNU base-256.
 * An empty field is 0 (as Go reads it). Throws TarFieldError for anything else, and for a
 * negative or unsafe base-256 value.
 */
function number(block: Uint8Array, start: number, length: number, field: string): number {
  const first = block[start] as number;
  if (first & 0x80) {
    if (first === 0xff) throw new TarFieldError(field); // negative
    let n = first & 0x7f;
    for (let i = start + 1; i < start + length; i++) {
      n = n * 256 + (block[i] as number);
      if (n > Number.MAX_SAFE_INTEGER) throw new TarFieldError(field);
    }
    return n;
  }
  let i = start;
  const end = start + length;
  while (i < end && (block[i] === SPACE || block[i] === NUL)) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = block[i] as number;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    const c = block[i];
    if (c !== SPACE && c !== NUL) throw new TarFieldError(field);
  }
  return n;
}

/** A time field that may be absent or garbage in some writers' headers: undefined then. */
function lenientNumber(block: Uint8Array, start: number, length: number): number | undefined {
  if (block[start] === NUL) return undefined;
  try {
    return number(block, start, length, '');
  } catch {
    return undefined;
  }
}

function isMagic(block: Uint8Array, bytes: readonly number[]): boolean {
  for (let i = 0; i < bytes.length; i++) if (block[257 + i] !== bytes[i]) return false;
  return true;
}

const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30]; // "ustar\0" "00"
const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00]; // "ustar  \0"

/**
 * Decodes a header block whose checksum was checked. Throws TarFieldError for a malformed
 * mode, uid, gid, size or mtime.
 */
export function decodeHeader(block: Buffer): TarHeader {
  const typeflag = block[156] === NUL ? '' : String.fromCharCode(block[156] as number);
  let path = text(block, 0, 100);
  const ustar = isMagic(block, USTAR_MAGIC);
  const gnu = !ustar && isMagic(block, GNU_MAGIC);
  let atime: number | undefined;
  if (ustar) {
    // A star header (node-tar writes them) keeps atime and ctime after a 130-byte prefix; byte
    // 475 is then a NUL, and the NUL-terminated prefix reads the same either way.
    const prefix = text(block, 345, 155);
    if (prefix !== '') path = `${prefix}/${path}`;
    if (block[475] === NUL) atime = lenientNumber(block, 476, 12);
  } else if (gnu) {
    atime = lenientNumber(block, 345, 12);
  }
  const device = typeflag === '3' || typeflag === '4';
  return {
    path,
    mode: number(block, 100, 8, 'mode'),
    uid: number(block, 108, 8, 'uid'),
    gid: number(block, 116, 8, 'gid'),
    size: number(block, 124, 12, 'size'),
    mtime: number(block, 136, 12, 'mtime'),
    atime,
    typeflag,
    linkpath: text(block, 157, 100),
    devMajor: device && (ustar || gnu) ? number(block, 329, 8, 'device major number') : 0,
    devMinor: device && (ustar || gnu) ? number(block, 337, 8, 'device minor number') : 0,
  };
}
