import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/vm runs inside a qemu guest (npm run test:vm), not here.
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // Fails a test that holds its worker's event loop so long that vitest's RPC could time out.
    setupFiles: ['test/helpers/loop-guard.ts'],
    // No test may pull from Docker Hub by accident (an image a test forgot to load would be
    // pulled by run's default --pull missing): hull refuses blocked registries before connecting.
    env: { HULL_BLOCKED_REGISTRIES: 'docker.io' },
  },
});
