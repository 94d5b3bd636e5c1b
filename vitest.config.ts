import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/vm runs inside a qemu guest (npm run test:vm), not here.
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
