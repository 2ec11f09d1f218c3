import { defineConfig } from 'vitest/config';

/**
 * The fast tier (`npm run test:unit`): core over in-memory ports (test/unit) and the unit tests beside core's code.
 * No database and no browser, so none of the main configuration's global set-up (the web build).
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'src/core/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'web/**'],
    testTimeout: 5_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
