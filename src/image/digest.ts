/**
 * Content digests (`sha256:<64 hex>`, `sha512:<128 hex>`): parsing, hashing and verifying while
 * data streams past, so no blob or layer is ever buffered whole to be checked.
 */

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, InvalidImageError, RuntimeError } from '../errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

function isAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

/** Why `s` is not a digest hull accepts, or undefined if it is one. */
export function digestProblem(s: string): string | undefined {
  const colon = s.indexOf(':');
  if (colon < 0) return `invalid digest "${s}": expected <algorithm>:<hex>`;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (!isAlgorithm(algorithm)) return `unsupported digest algorithm "${algorithm}" in "${s}" (sha256 and sha512 are supported)`;
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    return `invalid digest "${s}": ${algorithm} needs ${want} lowercase hex characters`;
  }
  return undefined;
}

export function isDigest(s: string): boolean {
  return digestProblem(s) === undefined;
}

/** Parses `sha256:<hex>` / `sha512:<hex>`; anything else is an InvalidImageError naming `what`. */
export function parseDigest(s: string, what = 'digest'): ParsedDigest {
  const problem = digestProblem(s);
  if (problem !== undefined) throw new InvalidImageError(`${what}: ${problem}`);
  const colon = s.indexOf(':');
  return { algorithm: s.slice(0, colon) as DigestAlgorithm, hex: s.slice(colon + 1) };
}

/** Like parseDigest, but only sha256 (the store's blob and layer namespace). */
export function parseSha256(s: string, what = 'digest'): string {
  const d = parseDigest(s, what);
  if (d.algorithm !== 'sha256') throw new InvalidImageError(`${what}: only sha256 is supported here, got ${s}`);
  return d.hex;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The digest of `data` in the given algorithm, `sha256:<hex>` form. */
export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws DigestMismatchError when `data` does not hash to `expected` (any supported algorithm). */
export function verifyDigest(what: string, expected: string, data: Buffer): void {
  const { algorithm } = parseDigest(expected, what);
  const actual = digestOf(data, algorithm);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}

/**
 * A pass-through stream that hashes and counts every byte. After it has ended, `digest()` is the
 * digest of everything that went through and `bytes` how much that was. With `expected`, the
 * stream fails with DigestMismatchError at its end (before it signals end downstream), so a
 * consumer never sees a clean end of unverified data.
 */
export class DigestStream extends Transform {
  readonly algorithm: DigestAlgorithm;
  bytes = 0;
  private readonly hash: Hash;
  private readonly expected: string | undefined;
  private readonly what: string;
  private result: string | undefined;

  constructor(options: { algorithm?: DigestAlgorithm; expected?: string; what?: string } = {}) {
    super();
    this.what = options.what ?? 'blob';
    this.expected = options.expected;
    this.algorithm = options.expected !== undefined ? parseDigest(options.expected, this.what).algorithm : (options.algorithm ?? 'sha256');
    this.hash = createHash(this.algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (this.expected !== undefined && this.result !== this.expected) {
      callback(new DigestMismatchError(this.what, this.expected, this.result));
      return;
    }
    callback();
  }

  /** The digest of all data; only valid once the stream has ended. */
  digest(): string {
    if (this.result === undefined) throw new RuntimeError('DigestStream.digest() called before the stream ended');
    return this.result;
  }
}
