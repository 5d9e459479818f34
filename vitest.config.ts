import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Worker threads start per pool; on a loaded 2-core machine that can take a while.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
