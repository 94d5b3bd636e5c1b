/**
 * A build's progress lines (`STEP 2/5: RUN …`, `--> <key>`, COMMIT) and RUN's output relayed
 * between them, on the build's output (none for `-q`). The 'docker' style draws the classic
 * builder's lines instead (`Step 2/5 : RUN …`, ` ---> <key>`, `Successfully built <id>`), as
 * Docker's Engine API streams them to its clients.
 */

import type { Writable } from 'node:stream';
import type { Instruction } from './dockerfile.js';

/** 'hull': Podman's lines (hull's CLI); 'docker': the classic builder's (the Engine API). */
export type ProgressStyle = 'hull' | 'docker';

export class Progress {
  /** Steps the build will run (ONBUILD triggers add theirs when found). */
  totalSteps = 0;
  private stepNo = 0;
  private midLine = false;

  constructor(
    private readonly out: Writable | undefined,
    private readonly style: ProgressStyle = 'hull',
  ) {}

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
    const shown = `${prefix}${text.length > 200 ? `${text.slice(0, 197)}...` : text}`;
    this.say(this.style === 'docker' ? `Step ${this.stepNo}/${this.totalSteps} : ${shown}` : `STEP ${this.stepNo}/${this.totalSteps}: ${shown}`);
  }

  /** A step's outcome: its cache key (12 hex digits), made or found in the cache. */
  result(key: string, cached = false): void {
    if (this.style === 'docker') {
      if (cached) this.say(' ---> Using cache');
      this.say(` ---> ${key}`);
    } else this.say(`--> ${cached ? 'Using cache ' : ''}${key}`);
  }

  /** The final image (`id`: 12 hex digits) and its names (familiar form). */
  committed(id: string, tags: readonly string[]): void {
    if (this.style === 'docker') this.say(`Successfully built ${id}`);
    else {
      this.say(`COMMIT ${tags.join(' ')}`.trimEnd());
      this.say(`--> ${id}`);
    }
    for (const t of tags) this.say(`Successfully tagged ${t}`);
  }

  /** A chunk of RUN's output, as it comes. */
  relay(chunk: Buffer): void {
    this.out?.write(chunk);
    if (chunk.length > 0) this.midLine = chunk[chunk.length - 1] !== 0x0a;
  }
}
