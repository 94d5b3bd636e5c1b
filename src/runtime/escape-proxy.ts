/**
 * Detaching from an attached terminal (`--detach-keys`, ctrl-p ctrl-q by default): the client's
 * input is passed on byte for byte except a detach sequence, which is held while it is only begun
 * (and passed on when it turns out not to be one) and ends the input when complete. moby/term's
 * escapeProxy, as a filter over chunks, so the CLI and the Engine API's attach can share it.
 */
export class EscapeProxy {
  private matched = 0;
  private done = false;

  constructor(private readonly keys: readonly number[]) {}

  /** Whether the sequence has been read (then nothing more is passed on). */
  get detached(): boolean {
    return this.done;
  }

  /** What of `chunk` goes on to the container; after the sequence, nothing (check `detached`). */
  filter(chunk: Buffer): Buffer {
    if (this.done || this.keys.length === 0) return this.done ? Buffer.alloc(0) : chunk;
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          // The bytes before the sequence go on; the sequence and whatever follows it do not.
          this.done = true;
          return Buffer.from(out);
        }
        continue;
      }
      // Not the sequence after all: what was held goes on with this byte (which, as in moby/term,
      // does not begin the sequence again: ctrl-p ctrl-p ctrl-q does not detach).
      out.push(...this.keys.slice(0, this.matched), byte);
      this.matched = 0;
    }
    return Buffer.from(out);
  }
}
