// vitest globalSetup: build the busybox test image once, before any worker starts, so parallel
// test files find it cached instead of racing to build it; and start the run's one containerd
// (test/helpers/containerd.ts) where it can run, handed to the test files with provide('containerd')
// (they call sharedContainerd()) and stopped at teardown. Enable in vitest.config.ts with
//   test: { globalSetup: ['test/helpers/global-setup.ts'] }
// The daemon starts here rather than on a test file's first use: it answers in about 0.1 s and then
// idles, and a daemon started by one worker process would have to be found and stopped by another.
import type { TestProject } from 'vitest/node';
import { busyboxImage, hasBusybox } from './busybox-image.js';
import { canRunContainerd, startContainerd } from './containerd.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (hasBusybox()) await busyboxImage();
  const containerd = canRunContainerd ? await startContainerd() : null;
  project.provide('containerd', containerd?.info ?? null);
  return async () => {
    if (containerd === null) return;
    const left = await containerd.stop();
    // stop() removed them; a test that leaves containers behind still fails the run
    if (left.length > 0) throw new Error(`the tests left these in the run's containerd:\n${left.join('\n')}`);
  };
}
