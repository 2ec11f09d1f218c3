import { ensureWebBuilt } from '../../web/build.mjs';

/**
 * Builds web/dist once before any test file runs (when it is missing), so that the browser and static-serving tests,
 * and `sparsam start` spawned by the CLI tests, never build it concurrently or inside a timed test.
 */
export default async function setup(): Promise<void> {
  await ensureWebBuilt();
}
