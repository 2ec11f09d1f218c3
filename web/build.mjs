// Builds the web inbox into web/dist with Vite. `ensureWebBuilt()` builds only when web/dist/index.html is missing or
// older than a source file (after a `git pull`, say), so `npm start` serves the current UI and stays fast otherwise.
// Run directly: `node web/build.mjs`.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.join(webDir, 'dist');
export const distIndex = path.join(distDir, 'index.html');
/** Written last by a complete build: its precompressed index marks a build that has the .gz and .br files too. */
const distIndexBrotli = `${distIndex}.br`;

const COMPRESSIBLE = /\.(?:html|js|mjs|css|svg|json|webmanifest|txt|map)$/;

/**
 * Writes a .gz (level 9) and a .br (quality 11) beside every text file in web/dist, so that sparsam sends the
 * smaller one a browser accepts (@fastify/static's preCompressed) without compressing on every request.
 */
export function precompress(dir = distDir) {
  const files = [];
  const visit = (entry) => {
    for (const name of readdirSync(entry)) {
      const full = path.join(entry, name);
      if (statSync(full).isDirectory()) visit(full);
      else if (COMPRESSIBLE.test(name)) files.push(full);
    }
  };
  visit(dir);
  // index.html last: its .br marks the build complete (webBuildStale).
  files.sort((a, b) => Number(a === distIndex) - Number(b === distIndex));
  for (const file of files) {
    const data = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
    writeFileSync(
      `${file}.br`,
      brotliCompressSync(data, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
      }),
    );
  }
}

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
    await buildWidget(build, quiet);
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
  precompress();
}

/**
 * The website chat's window (web/webchat): one self-contained script (no imports, no eval) and its stylesheets, in
 * web/dist/webchat, served by sparsam at /webchat/<channelId>/widget.js, widget.css and page.css.
 */
async function buildWidget(build, quiet) {
  const outDir = path.join(webDir, 'dist', 'webchat');
  await build({
    configFile: false,
    root: webDir,
    logLevel: quiet ? 'warn' : 'info',
    mode: 'production',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: false,
      target: 'es2020',
      lib: {
        entry: path.join(webDir, 'webchat', 'widget.ts'),
        formats: ['iife'],
        name: 'sparsamWebchat',
        fileName: () => 'widget.js',
      },
    },
  });
  for (const name of ['widget.css', 'page.css'])
    copyFileSync(path.join(webDir, 'webchat', name), path.join(outDir, name));
}

/**
 * The newest modification time (ms) of the web inbox's sources: web/src, web/public, index.html, the configs, and the
 * route table it shares with the server (src/shared/spa-routes.ts).
 */
function newestSource() {
  let newest = 0;
  const visit = (entry) => {
    if (!existsSync(entry)) return;
    const stat = statSync(entry);
    if (stat.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const name of ['src', 'webchat', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'])
    visit(path.join(webDir, name));
  visit(path.join(webDir, '..', 'src', 'shared', 'spa-routes.ts'));
  return newest;
}

/** True when web/dist is missing, lacks its precompressed files, or is older than a source file. */
export function webBuildStale() {
  const widget = path.join(webDir, 'dist', 'webchat', 'widget.js');
  return (
    !existsSync(distIndex) ||
    !existsSync(widget) ||
    !existsSync(distIndexBrotli) ||
    statSync(distIndex).mtimeMs < newestSource()
  );
}

export async function ensureWebBuilt({ quiet = true } = {}) {
  if (!webBuildStale()) return false;
  try {
    createRequire(import.meta.url).resolve('vite');
  } catch {
    // A production install (npm ci --omit=dev) serves the web/dist it was shipped with.
    if (!existsSync(distIndex)) {
      console.error('sparsam: web/dist is missing and Vite is not installed; run  npm install && npm run build:web');
    }
    return false;
  }
  console.error('sparsam: building the web inbox …');
  // In a child process: Vite and Rollup take some 300 MiB, which the server would otherwise keep for its lifetime.
  const code = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...(quiet ? ['--quiet'] : [])], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  if (code !== 0)
    throw new Error(`building the web inbox failed (exit code ${code}); run  npm run build:web  to see why`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb({ quiet: process.argv.includes('--quiet') });
}
