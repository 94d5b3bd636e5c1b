/**
 * A build's progress lines (`STEP 2/5: RUN …`, `--> <key>`, COMMIT) and RUN's output relayed
 * between them, on the build's output (none for `-q`).
 */

import type { Writable } from 'node:stream';
import type { Instruction } from './dockerfile.js';

export class Progress {
  /** Steps the build will run (ONBUILD triggers add theirs when found). */
  totalSteps = 0;
  private stepNo = 0;
  private midLine = false;

  constructor(private readonly out: Writable | undefined) {}

  /** Whether nothing is shown (then a failed RUN's error carries the end of its output). */
  get silent(): boolean {
    return this.out === undefined;
  }

  /** Steps announced so far. */
  get steps(): number {
    return this.stepNo;
  }

  say(line: string): void {
    // RUN output that did not end its last line gets one, so progress lines start on their own.
    this.out?.write(`${this.midLine ? '\n' : ''}${line}\n`);
    this.midLine = false;
  }

  step(instr: Instruction, prefix = ''): void {
    this.stepNo++;
    const text = instr.original.replace(/\s+/g, ' ');
    this.say(`STEP ${this.stepNo}/${this.totalSteps}: ${prefix}${text.length > 200 ? `${text.slice(0, 197)}...` : text}`);
  }

  /** A chunk of RUN's output, as it comes. */
  relay(chunk: Buffer): void {
    this.out?.write(chunk);
    if (chunk.length > 0) this.midLine = chunk[chunk.length - 1] !== 0x0a;
  }
}
