import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestStream } from '../../../src/image/digest.js';
import { OFF_THREAD_AFTER, createHasher } from '../../../src/image/hasher.js';

function reference(chunks: Buffer[], algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  const h = createHash(algorithm);
  for (const c of chunks) h.update(c);
  return `${algorithm}:${h.digest('hex')}`;
}

/** Chunks of odd sizes (so slots fill across chunk boundaries), `total` bytes in all. */
function chunksOf(total: number): Buffer[] {
  const out: Buffer[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(left, 1 + ((i * 7919) % 300_000));
    out.push(randomBytes(n));
    left -= n;
  }
  return out;
}

describe('createHasher', () => {
  it('hashes small data in-thread and large data on the worker, with the same result', async () => {
    for (const total of [0, 1000, OFF_THREAD_AFTER - 1, OFF_THREAD_AFTER, 3 * OFF_THREAD_AFTER + 12345]) {
      const chunks = chunksOf(total);
      const hasher = createHasher('sha256');
      for (const c of chunks) await hasher.update(c);
      expect(await hasher.digest(), `${total} bytes`).toBe(reference(chunks));
    }
  });

  it('applies backpressure when every slot is in use, and keeps order', async () => {
    // 40 MB pushed without awaiting where no wait is asked for: far more than the 8 slots hold.
    const chunks = chunksOf(40 * 1024 * 1024);
    const hasher = createHasher('sha512');
    let waited = 0;
    for (const c of chunks) {
      const wait = hasher.update(c);
      if (wait !== undefined) {
        waited++;
        await wait;
      }
    }
    expect(waited).toBeGreaterThan(0);
    expect(await hasher.digest()).toBe(reference(chunks, 'sha512'));
  });

  it('runs many hashers at once on the one worker', async () => {
    const inputs = Array.from({ length: 5 }, (_, i) => chunksOf(OFF_THREAD_AFTER + i * 1_000_003));
    const results = await Promise.all(inputs.map(async (chunks) => {
      const hasher = createHasher('sha256');
      for (const c of chunks) await hasher.update(c);
      return hasher.digest();
    }));
    expect(results).toEqual(inputs.map((c) => reference(c)));
  });

  it('gives its slots back when discarded, so later hashers still work', async () => {
    for (let round = 0; round < 3; round++) {
      const dropped = createHasher('sha256');
      for (const c of chunksOf(OFF_THREAD_AFTER + 3 * 1024 * 1024 + 17)) await dropped.update(c);
      dropped.discard();
    }
    const chunks = chunksOf(2 * OFF_THREAD_AFTER);
    const hasher = createHasher('sha256');
    for (const c of chunks) await hasher.update(c);
    expect(await hasher.digest()).toBe(reference(chunks));
  });

  it('refuses use after digest()', async () => {
    const hasher = createHasher('sha256');
    await hasher.digest();
    expect(() => hasher.update(Buffer.from('x'))).toThrow(/after digest/);
  });
});

describe('DigestStream on large data', () => {
  it('verifies a large stream against the expected digest, and fails on a mismatch', async () => {
    const chunks = chunksOf(2 * OFF_THREAD_AFTER + 5);
    const good = new DigestStream({ expected: reference(chunks) });
    await pipeline(Readable.from(chunks), good, new Writable({ write: (_c, _e, cb) => cb() }));
    expect(good.digest()).toBe(reference(chunks));
    expect(good.bytes).toBe(chunks.reduce((n, c) => n + c.length, 0));

    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(pipeline(Readable.from(chunks), new DigestStream({ expected: wrong, what: 'big blob' }), new Writable({ write: (_c, _e, cb) => cb() })))
      .rejects.toThrow(/big blob/);
  });
});
