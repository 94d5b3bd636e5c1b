import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, UsageError } from '../../../src/errors.js';
import { BlobStore } from '../../../src/store/blobs.js';
import { storePaths, type StorePaths } from '../../../src/store/paths.js';
import { RefStore } from '../../../src/store/refs.js';
import { hexOf, sha256 } from './fixtures.js';

let work: string;
let paths: StorePaths;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hull-blobs-'));
  paths = storePaths(path.join(work, 'root'), path.join(work, 'run'));
  for (const dir of [path.join(paths.blobs, 'sha256'), paths.refs, paths.tmp]) await mkdir(dir, { recursive: true });
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('BlobStore', () => {
  it('stores bytes and streams under their digest, verified', async () => {
    const blobs = new BlobStore(paths);
    const data = Buffer.from('{"config":true}');
    expect(await blobs.putBytes(data)).toBe(sha256(data));
    expect(await blobs.has(sha256(data))).toBe(true);
    expect((await blobs.readBytes(sha256(data), 1024)).equals(data)).toBe(true);
    await expect(blobs.readBytes(sha256(data), 4)).rejects.toThrow(/more than the 4 allowed/);

    const big = Buffer.alloc(200_000, 3);
    expect(await blobs.putStream(Readable.from([big.subarray(0, 1000), big.subarray(1000)]), sha256(big))).toEqual({ digest: sha256(big), size: big.length });
    expect(readFileSync(path.join(paths.blobs, 'sha256', hexOf(sha256(big)))).equals(big)).toBe(true);
    expect(readdirSync(paths.tmp)).toEqual([]);
  });

  it('refuses content that does not match, leaving no temporary file', async () => {
    const blobs = new BlobStore(paths);
    const wrong = sha256('other');
    await expect(blobs.putBytes(Buffer.from('data'), wrong)).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(blobs.putStream(Readable.from([Buffer.from('data')]), wrong)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(existsSync(path.join(paths.blobs, 'sha256', hexOf(wrong)))).toBe(false);
    expect(readdirSync(paths.tmp)).toEqual([]);
  });
});

describe('RefStore', () => {
  it('keeps one file per name, named by encodeURIComponent, holding the id', async () => {
    const refs = new RefStore(paths);
    const id = sha256('image');
    await refs.set('docker.io/library/busybox:latest', id);
    await refs.set('localhost:5000/x@sha256:' + 'a'.repeat(64), id);
    expect(readFileSync(path.join(paths.refs, 'docker.io%2Flibrary%2Fbusybox%3Alatest'), 'utf8')).toBe(`${id}\n`);
    expect(await refs.get('docker.io/library/busybox:latest')).toBe(id);
    expect(await refs.get('docker.io/library/nothing:latest')).toBeUndefined();
    expect((await refs.list()).map((r) => r.name)).toEqual(['docker.io/library/busybox:latest', `localhost:5000/x@sha256:${'a'.repeat(64)}`]);
    expect(await refs.delete('docker.io/library/busybox:latest')).toBe(true);
    expect(await refs.delete('docker.io/library/busybox:latest')).toBe(false);
    expect(readdirSync(paths.tmp)).toEqual([]);
  });

  it('refuses names too long for a file name', async () => {
    const refs = new RefStore(paths);
    await expect(refs.set(`example.com/${'a/'.repeat(100)}b:latest`, sha256('x'))).rejects.toBeInstanceOf(UsageError);
  });
});
