#!/usr/bin/env node
// sparsam's command line. Runs the TypeScript sources through tsx, so that `npm install && npm start`
// needs no build step; `npm run build` still type-checks and emits dist/ for those who want it.
import { register } from 'tsx/esm/api';

register();
if (process.argv[2] === 'start' || process.argv[2] === 'demo') {
  // Serve a built web inbox on a fresh checkout: builds web/dist once when it is missing or older than its sources.
  const { ensureWebBuilt } = await import('../web/build.mjs');
  await ensureWebBuilt();
}
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv);
