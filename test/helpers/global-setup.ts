// vitest globalSetup: build the busybox test image once, before any worker starts, so parallel
// test files find it cached instead of racing to build it. Enable in vitest.config.ts with
//   test: { globalSetup: ['test/helpers/global-setup.ts'] }
import { busyboxImage, hasBusybox } from './busybox-image.js';

export default async function setup(): Promise<void> {
  if (hasBusybox()) await busyboxImage();
}
