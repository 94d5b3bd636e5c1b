/**
 * Incremental digests that move to a worker thread once the data is large.
 *
 * Unpacking a layer hashes every byte twice (the blob's digest and the diffID): for a 50 MB
 * gzip layer that is ~180 MB and ~110 ms of the main thread, which also parses the tar and makes
 * every file, while the thread pool inflates. Hashing on a worker takes that off the main thread.
 *
 * The first OFF_THREAD_AFTER bytes are only held (the chunks themselves, not copies); a stream
 * that ends before then is hashed here, in one go, with no thread started. Past that, the held
 * chunks and everything after are copied into slots of one SharedArrayBuffer that a single worker
 * (shared by every hasher in the process) hashes; a slot comes back free once hashed. Copying into
 * memory that is already mapped costs the main thread ~0.1 ms per MB; a fresh transferable buffer
 * per chunk cost ~0.5 ms per MB here, and the hashing itself ~0.6-0.9 ms per MB.
 *
 * `update()` returns a promise only when every slot is in use (backpressure); `digest()` is async.
 */

import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { RuntimeError } from '../errors.js';
import type { DigestAlgorithm } from './digest.js';

/** Data hashed in-thread before a hasher moves to the worker. */
export const OFF_THREAD_AFTER = 4 * 1024 * 1024;
const SLOT_BYTES = 1024 * 1024;
const SLOT_COUNT = 8;

export interface Hasher {
  readonly algorithm: DigestAlgorithm;
  /** Adds `chunk`. When a promise is returned, the next update must wait for it. */
  update(chunk: Buffer): Promise<void> | undefined;
  /** `<algorithm>:<hex>` of everything added. The hasher cannot be used afterwards. */
  digest(): Promise<string>;
  /** Drops the hasher without a digest (after a failure). */
  discard(): void;
}

// The worker's whole program: hashes slots of the shared buffer, in the order it is told to.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const shared = new Uint8Array(workerData.shared);
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') hashes.set(m.id, createHash(m.algorithm));
  else if (m.op === 'update') {
    hashes.get(m.id)?.update(shared.subarray(m.slot * ${SLOT_BYTES}, m.slot * ${SLOT_BYTES} + m.length));
    parentPort.postMessage({ op: 'free', slot: m.slot });
  } else if (m.op === 'digest') {
    const hash = hashes.get(m.id);
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: hash.digest('hex') });
  } else if (m.op === 'discard') hashes.delete(m.id);
});
`;

type WorkerReply = { op: 'free'; slot: number } | { op: 'digest'; id: number; hex: string };

/** The one hashing thread of this process, started on first use and unref'd while idle. */
class HashThread {
  private readonly worker: Worker;
  private readonly shared = new SharedArrayBuffer(SLOT_BYTES * SLOT_COUNT);
  private readonly free: number[] = Array.from({ length: SLOT_COUNT }, (_, i) => i);
  private readonly slotWaiters: ((slot: number) => void)[] = [];
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private open = 0;
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared: this.shared } });
    this.worker.unref();
    this.worker.on('message', (m: WorkerReply) => this.reply(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new RuntimeError(`the hashing thread exited (code ${code})`)));
  }

  bytes(slot: number): Buffer {
    return Buffer.from(this.shared, slot * SLOT_BYTES, SLOT_BYTES);
  }

  begin(algorithm: DigestAlgorithm): number {
    this.check();
    const id = this.nextId++;
    if (this.open++ === 0) this.worker.ref();
    this.worker.postMessage({ op: 'open', id, algorithm });
    return id;
  }

  /** A free slot, now or once one comes back. */
  takeSlot(): number | Promise<number> {
    this.check();
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /** Gives back a slot that was taken but not sent. */
  releaseSlot(slot: number): void {
    this.reply({ op: 'free', slot });
  }

  update(id: number, slot: number, length: number): void {
    this.worker.postMessage({ op: 'update', id, slot, length });
  }

  finish(id: number): Promise<string> {
    this.check();
    return new Promise((resolve, reject) => {
      this.digests.set(id, { resolve, reject });
      this.worker.postMessage({ op: 'digest', id });
    });
  }

  discard(id: number): void {
    this.end();
    if (this.failure === undefined) this.worker.postMessage({ op: 'discard', id });
  }

  private end(): void {
    if (--this.open === 0) this.worker.unref();
  }

  private reply(m: WorkerReply): void {
    if (m.op === 'free') {
      const waiter = this.slotWaiters.shift();
      if (waiter) waiter(m.slot);
      else this.free.push(m.slot);
      return;
    }
    const pending = this.digests.get(m.id);
    this.digests.delete(m.id);
    this.end();
    pending?.resolve(m.hex);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (thread === this) thread = undefined;
    for (const p of this.digests.values()) p.reject(this.failure);
    this.digests.clear();
  }

  private check(): void {
    if (this.failure !== undefined) throw new RuntimeError(`hashing thread failed: ${this.failure.message}`, { cause: this.failure });
  }
}

let thread: HashThread | undefined;

class AdaptiveHasher implements Hasher {
  readonly algorithm: DigestAlgorithm;
  /** Chunks held before the move to the worker. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private worker: HashThread | undefined;
  private id = 0;
  private slot: number | undefined;
  private fill = 0;
  private done = false;

  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
  }

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.done) throw new RuntimeError('hasher used after digest()');
    if (this.worker === undefined) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < OFF_THREAD_AFTER) return undefined;
      thread ??= new HashThread();
      this.worker = thread;
      this.id = thread.begin(this.algorithm);
      const held = this.held;
      this.held = [];
      return this.copyAll(held, 0);
    }
    return this.copyAll([chunk], 0);
  }

  /** Copies `chunks[from…]` into slots, sending each full one; waits only when no slot is free. */
  private copyAll(chunks: Buffer[], from: number): Promise<void> | undefined {
    const worker = this.worker as HashThread;
    for (let i = from; i < chunks.length; i++) {
      let chunk = chunks[i] as Buffer;
      while (chunk.length > 0) {
        if (this.slot === undefined) {
          const slot = worker.takeSlot();
          if (typeof slot !== 'number') {
            const rest = [chunk, ...chunks.slice(i + 1)];
            return slot.then((s) => {
              if (this.done) {
                worker.releaseSlot(s); // discarded while waiting
                return undefined;
              }
              this.slot = s;
              this.fill = 0;
              return this.copyAll(rest, 0);
            });
          }
          this.slot = slot;
          this.fill = 0;
        }
        const n = Math.min(chunk.length, SLOT_BYTES - this.fill);
        chunk.copy(worker.bytes(this.slot), this.fill, 0, n);
        this.fill += n;
        chunk = chunk.subarray(n);
        if (this.fill === SLOT_BYTES) this.send();
      }
    }
    return undefined;
  }

  private send(): void {
    if (this.slot === undefined) return;
    (this.worker as HashThread).update(this.id, this.slot, this.fill);
    this.slot = undefined;
    this.fill = 0;
  }

  async digest(): Promise<string> {
    if (this.done) throw new RuntimeError('hasher used after digest()');
    this.done = true;
    if (this.worker === undefined) {
      const hash: Hash = createHash(this.algorithm);
      for (const chunk of this.held) hash.update(chunk);
      this.held = [];
      return `${this.algorithm}:${hash.digest('hex')}`;
    }
    this.send();
    return `${this.algorithm}:${await this.worker.finish(this.id)}`;
  }

  discard(): void {
    if (this.done) return;
    this.done = true;
    this.held = [];
    if (this.worker === undefined) return;
    if (this.slot !== undefined) this.worker.releaseSlot(this.slot);
    this.slot = undefined;
    this.worker.discard(this.id);
  }
}

/** A hasher for `algorithm` that moves to the hashing thread past OFF_THREAD_AFTER bytes. */
export function createHasher(algorithm: DigestAlgorithm): Hasher {
  return new AdaptiveHasher(algorithm);
}
