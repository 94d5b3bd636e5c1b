// The run's containerd in a test file: global-setup.ts started it and provided its ContainerdInfo.
// Apart from containerd.ts because `inject` needs a test worker (global-setup.ts imports containerd.ts).
import { inject } from 'vitest';
import { Containerd, containerdSkipReason } from './containerd.js';

/** The run's containerd; throws when this run has none (skip on canRunContainerd first). */
export function sharedContainerd(): Containerd {
  const info = inject('containerd');
  if (info === null || info === undefined) throw new Error(`no containerd in this run${containerdSkipReason || ' (global-setup.ts did not start one)'}`);
  return new Containerd(info);
}
