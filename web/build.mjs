// Builds the web inbox into web/dist with Vite. `ensureWebBuilt()` builds only when web/dist/index.html is missing,
// so `npm start` serves a UI on a fresh checkout and stays fast afterwards. Run directly: `node web/build.mjs`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
export const distIndex = path.join(webDir, 'dist', 'index.html');

export async function buildWeb({ quiet = false } = {}) {
  const { build } = await import('vite');
  // Vite and the React plugin follow NODE_ENV; a test runner's NODE_ENV=test would give React's development build.
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: webDir,
      configFile: path.join(webDir, 'vite.config.ts'),
      logLevel: quiet ? 'warn' : 'info',
      mode: 'production',
    });
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
}

export async function ensureWebBuilt({ quiet = true } = {}) {
  if (existsSync(distIndex)) return false;
  try {
    await import('vite');
  } catch {
    console.error('sparsam: web/dist is missing and Vite is not installed; run  npm install && npm run build:web');
    return false;
  }
  console.error('sparsam: building the web inbox (first start) …');
  await buildWeb({ quiet });
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb();
}
