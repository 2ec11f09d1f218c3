import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

/**
 * Tools some suites need that npm does not install: Chromium (browser tests, through playwright-core) and exiftool
 * (proof that media carry no metadata). tools.global-setup.ts probes them once per run: a missing tool skips the
 * suites that need it with one line naming them, unless CI=true (set by .ci/run), where a missing tool fails the run,
 * as a missing PostgreSQL does with SPARSAM_TEST_POSTGRES=required (stores.ts).
 *
 * The paths can be overridden for the tests only (SPARSAM_TEST_CHROMIUM, SPARSAM_TEST_EXIFTOOL), e.g. to a path that
 * does not exist, to see what a machine without the tool runs.
 */
export type TestTool = 'chromium' | 'exiftool';

export const TEST_TOOLS: readonly TestTool[] = ['chromium', 'exiftool'];

export const TOOLS_INSTALL_HINT = 'apt-get install chromium libimage-exiftool-perl';

const PATH_ENV: Record<TestTool, string> = { chromium: 'SPARSAM_TEST_CHROMIUM', exiftool: 'SPARSAM_TEST_EXIFTOOL' };
const DEFAULT_PATH: Record<TestTool, string> = { chromium: '/usr/bin/chromium', exiftool: 'exiftool' };
const VERSION_ARGS: Record<TestTool, string[]> = { chromium: ['--version'], exiftool: ['-ver'] };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which of the tools answered the probe in tools.global-setup.ts. */
    sparsamTools: Record<TestTool, boolean>;
  }
}

/** The executable the tests run for a tool: the override from the environment, else Debian's path. */
export function toolPath(tool: TestTool, env: NodeJS.ProcessEnv = process.env): string {
  return env[PATH_ENV[tool]] || DEFAULT_PATH[tool];
}

/** Runs the tool's version command: true when it starts and exits 0 (a file that is there but cannot run is absent). */
export function probeTool(tool: TestTool, env: NodeJS.ProcessEnv = process.env): boolean {
  const result = spawnSync(toolPath(tool, env), VERSION_ARGS[tool], { stdio: 'ignore', timeout: 30_000 });
  return result.error === undefined && result.status === 0;
}

/**
 * Whether a tool is installed, as probed once for the run. A suite that needs one says so with
 * `describe.skipIf(!hasTool('chromium'))` or `it.skipIf(!hasTool('exiftool'))`: the global set-up finds these calls
 * to name the suites it skips, so write them literally like that.
 */
export function hasTool(tool: TestTool): boolean {
  return inject('sparsamTools')[tool];
}

/**
 * The test files (under the given roots) that call `hasTool('<tool>')`, relative to `base`; "(some tests)" after a
 * file that skips single tests (`it.skipIf`) rather than whole suites.
 */
export function suitesNeeding(tool: TestTool, base: string, roots: string[] = ['test', 'src']): string[] {
  const marker = `hasTool('${tool}')`;
  const files: string[] = [];
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(path.join(base, root), { recursive: true, encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.endsWith('.test.ts')) continue;
      const file = path.join(root, entry);
      const text = readFileSync(path.join(base, file), 'utf8');
      if (!text.includes(marker)) continue;
      files.push(text.includes(`describe.skipIf(!${marker})`) ? file : `${file} (some tests)`);
    }
  }
  return files.sort();
}

/** The one line a run without some tools prints: what is skipped, and how to install what is missing. */
export function skippedToolsLine(missing: TestTool[], base: string): string {
  const parts = missing.map((tool) => `${tool} (${toolPath(tool)}): ${suitesNeeding(tool, base).join(', ')}`);
  return `[sparsam tests] SKIPPED, tool not installed: ${parts.join('; ')}. Install: ${TOOLS_INSTALL_HINT} (with CI=true they are required)`;
}
