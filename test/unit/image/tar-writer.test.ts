// The archive writer behind `hull save`: GNU tar and hull's own reader agree on what it writes,
// sizes are enforced, and the same input gives the same bytes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../../../src/errors.js';
import { TarWriter } from '../../../src/image/archive/tar-writer.js';
import { readTar } from '../../../src/layer/tar-reader.js';

async function build(write: (t: TarWriter) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const t = new TarWriter(out);
  await write(t);
  await t.finish();
  return Buffer.concat(chunks);
}

const sample = (t: TarWriter) =>
  (async () => {
    await t.addDirectory('blobs/sha256');
    await t.addFile('blobs/sha256/' + 'a'.repeat(64), Buffer.from('config'));
    await t.addStream('layer.tar', 1500, Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(500, 2)]), 'layer');
    await t.addFile('manifest.json', Buffer.from('[]\n'));
  })();

describe('TarWriter', () => {
  it('writes ustar archives GNU tar and the layer reader read alike, byte-identical each time', async () => {
    const a = await build(sample);
    expect(a.length % 512).toBe(0);
    expect((await build(sample)).equals(a)).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hull-tarw-'));
    try {
      writeFileSync(path.join(dir, 'a.tar'), a);
      const listing = execFileSync('tar', ['tvf', path.join(dir, 'a.tar')], { encoding: 'utf8' });
      expect(listing).toMatch(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 blobs\/sha256\/$/m);
      expect(listing).toMatch(/^-rw-r--r-- 0\/0 +1500 1970-01-01 00:00 layer\.tar$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const seen: string[] = [];
    for await (const e of readTar(Readable.from([a]))) {
      let n = 0;
      for await (const c of e.body) n += c.length;
      seen.push(`${e.type} ${e.path} ${n}`);
    }
    expect(seen).toEqual(['directory blobs/sha256/ 0', `file blobs/sha256/${'a'.repeat(64)} 6`, 'file layer.tar 1500', 'file manifest.json 3']);
  });

  it('refuses a stream that is not the size it announced', async () => {
    await expect(build((t) => t.addStream('x', 10, Readable.from([Buffer.alloc(5)]), 'short layer'))).rejects.toThrow(InvalidImageError);
    await expect(build((t) => t.addStream('x', 4, Readable.from([Buffer.alloc(5)]), 'long layer'))).rejects.toThrow(/more than the 4 bytes/);
  });
});
