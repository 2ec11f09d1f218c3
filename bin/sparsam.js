#!/usr/bin/env node
// sparsam's command line. Runs the TypeScript sources through tsx, so that `npm install && npm start`
// needs no build step; `npm run build` still type-checks and emits dist/ for those who want it.
import { clearInterval, setInterval } from 'node:timers';
import { register } from 'tsx/esm/api';

register();
if (process.argv[2] === 'start' || process.argv[2] === 'demo') {
  // Serve a built web inbox on a fresh checkout: builds web/dist once when it is missing or older than its sources.
  const { ensureWebBuilt } = await import('../web/build.mjs');
  await ensureWebBuilt();
}
if (process.env.npm_lifecycle_event && (process.argv[2] === 'start' || process.argv[2] === 'demo')) {
  // Under `npm start`, npm runs `sh -c "node bin/sparsam.js start"` and forwards a SIGTERM only to that shell, which
  // dies without passing it on. When the parent goes away, stop as if the signal had reached us (graceful shutdown).
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 500).unref();
}
if (process.argv[2] === 'start' || process.argv[2] === 'demo') {
  // The server's modules load and its stores open without growing V8's young generation, which an idle server would
  // keep in memory; startSparsam lets it grow again once the server listens (src/shared/young-generation.ts).
  const { youngGeneration } = await import('../src/shared/young-generation.ts');
  youngGeneration.hold();
}
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv);
