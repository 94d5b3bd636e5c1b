/** A build stopped through its AbortSignal: exit 130, as an interrupted `docker build`. */

import { BuildError } from '../errors.js';

export class BuildAborted extends BuildError {
  override readonly exitCode: number = 130;
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BuildAborted('build canceled');
}
