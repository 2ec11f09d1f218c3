import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'web/**'],
    // Builds the web inbox once (web/dist) before the suites that serve it; probes Chromium and exiftool once (the
    // suites that need them are skipped with one line where they are missing, and required with CI=true).
    globalSetup: ['test/browser/web-build.global-setup.ts', 'test/support/tools.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: browser and PostgreSQL suites are heavy; keep parallelism modest and predictable.
    maxWorkers: 2,
  },
});
