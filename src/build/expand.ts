/**
 * The Dockerfile's words as a build reads them: variables expanded (./shell-words.ts) and every
 * error naming the instruction's file and line.
 */

import { DockerfileError } from '../errors.js';
import type { Dockerfile, Instruction } from './dockerfile.js';
import { ExpandError, expandWord, expandWords, type Env } from './shell-words.js';

export class Expander {
  constructor(readonly file: Dockerfile) {}

  fail(instr: Instruction, message: string): never {
    throw new DockerfileError(this.file.file, { no: instr.line }, message, instr.original);
  }

  /** One word, variables expanded with `env`. */
  expand(instr: Instruction, text: string, env: Env): string {
    try {
      return expandWord(text, env, this.file.escape);
    } catch (err) {
      if (err instanceof ExpandError) this.fail(instr, err.message);
      throw err;
    }
  }

  /** Words, variables expanded with `env`. */
  expandList(instr: Instruction, text: string, env: Env): string[] {
    try {
      return expandWords(text, env, this.file.escape);
    } catch (err) {
      if (err instanceof ExpandError) this.fail(instr, err.message);
      throw err;
    }
  }
}
