import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { probeTool, skippedToolsLine, TEST_TOOLS, toolPath, TOOLS_INSTALL_HINT, type TestTool } from './tools.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Probes Chromium and exiftool once per run and hands the result to the test files (`hasTool` in tools.ts). Where
 * one is missing: one line naming the skipped suites and the install command; with CI=true the run fails instead.
 */
export default function setup(project: TestProject): void {
  const available = Object.fromEntries(TEST_TOOLS.map((tool) => [tool, probeTool(tool)])) as Record<TestTool, boolean>;
  const missing = TEST_TOOLS.filter((tool) => !available[tool]);
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(
      `CI=true but ${missing.map((tool) => `${tool} (${toolPath(tool)})`).join(' and ')} cannot be run: ${TOOLS_INSTALL_HINT}`,
    );
  }
  if (missing.length > 0) console.warn(skippedToolsLine(missing, ROOT));
  project.provide('sparsamTools', available);
}
