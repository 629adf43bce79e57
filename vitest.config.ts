import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: PGlite compiles WASM per file, PostgreSQL and Chromium run beside the tests.
    maxWorkers: 2,
  },
});
