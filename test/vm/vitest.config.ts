// The vm tier's config: run inside the qemu guest by scripts/vm/run-vm-tests.mjs, never on the host.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/vm/**/*.test.ts'],
    pool: 'forks',
    // Under TCG everything is ~15x slower than on the host.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // As on the host (vitest.config.ts): a test that holds the event loop near vitest's 60 s RPC timeout fails, named.
    setupFiles: ['test/helpers/loop-guard.ts'],
    fileParallelism: false,
  },
});
