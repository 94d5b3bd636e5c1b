/** What each controller file (memory.ts, cpu.ts, …) provides: the request check and the files. */
import type { SpecResources } from '../spec.js';

export type ControllerName = 'cpu' | 'cpuset' | 'io' | 'memory' | 'pids';

export interface Controller {
  readonly name: ControllerName;
  /** The flags of `resources` that need this controller (for messages); empty: not needed. */
  requestedBy(resources: SpecResources): string[];
  /** The cgroup files to write, in order. `has(file)` says whether the cgroup offers a file. */
  files(resources: SpecResources, has: (file: string) => boolean): [file: string, value: string][];
}
