import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * Runs `body` in a fresh Node process (a heap of its own, whose young generation has not grown yet) with the
 * young-generation module as `youngGeneration`, and returns what the body printed as JSON.
 */
function inFreshProcess(body: string, nodeArgs: string[] = []): unknown {
  const script = `
    import v8 from 'node:v8';
    const { youngGeneration } = await import(${JSON.stringify(new URL('./young-generation.ts', import.meta.url).href)});
    const youngMiB = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    // Many objects that survive a scavenge or two: what makes V8 grow the young generation.
    const churn = () => { let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; } };
    ${body}
  `;
  const out = execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('youngGeneration', () => {
  it('keeps the young generation at its size while held, and lets it grow again once released', () => {
    const sizes = inFreshProcess(`
      youngGeneration.hold();
      const before = youngMiB();
      churn();
      const held = youngMiB();
      youngGeneration.release();
      churn();
      console.log(JSON.stringify({ before, held, released: youngMiB() }));
    `) as { before: number; held: number; released: number };
    expect(sizes.held).toBe(sizes.before);
    // Unheld, V8 doubles it up to 2 × 16 MiB (Node 20, 64-bit).
    expect(sizes.released).toBeGreaterThanOrEqual(4 * sizes.held);
  });

  it('leaves a semi-space size chosen on the command line alone', () => {
    const sizes = inFreshProcess(
      `
      youngGeneration.hold();
      churn();
      console.log(JSON.stringify({ held: youngGeneration.held, size: youngMiB() }));
    `,
      ['--max-semi-space-size=8'],
    ) as { held: boolean; size: number };
    expect(sizes.held).toBe(false);
    expect(sizes.size).toBeGreaterThan(4);
  });
});
