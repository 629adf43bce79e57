import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: PGlite compiles WASM per file, PostgreSQL and Chromium run beside the tests.
    maxWorkers: 2,
    projects: [
      // Pure logic and in-memory fakes: no database, no browser, no server (`npm run test:unit`).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // The database engines, the stand-in servers and the real SDK clients.
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      // Whole flows in headless Chromium.
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      // The product as processes through database restarts, outages and kill -9 (a private cluster).
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'] } },
    ],
  },
});
