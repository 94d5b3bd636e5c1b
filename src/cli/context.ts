import type { Command } from 'commander';
import { Hull } from '../hull.js';
import type { GlobalOptions } from './main.js';

/** The library instance for a command, from the global --root / --run-root flags. */
export function hullFor(command: Command): Hull {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return new Hull({ root: opts.root, runRoot: opts.runRoot });
}

/** commander "collect" for repeatable flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
