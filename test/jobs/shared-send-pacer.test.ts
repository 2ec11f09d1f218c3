import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedSendPacer } from '../../src/jobs/shared-send-pacer.ts';
import { openStore } from '../../src/store/open-store.ts';
import { PgSendPacingStore } from '../../src/store/postgres/send-pacing.store.ts';
import type { Store } from '../../src/store/store.ts';
import { maxInAnySecond } from '../support/pacing.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';

describe.runIf(postgresAvailable)('SharedSendPacer: two instances share one pace per channel [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  const stores: Store[] = [];
  const dirs: string[] = [];

  /** An instance's pacer: its own store (own connection pool) on the shared database. */
  async function instancePacer(): Promise<SharedSendPacer> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-pacer-'));
    dirs.push(dataDir);
    const store = await openStore({ dataDir, databaseUrl: db.url, keystoreUrl: db.url });
    stores.push(store);
    return new SharedSendPacer(new PgSendPacingStore(store.db));
  }

  let a: SharedSendPacer;
  let b: SharedSendPacer;
  beforeAll(async () => {
    db = await createPgDatabase();
    a = await instancePacer();
    b = await instancePacer();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db?.drop();
  });

  it('two pacers at 20/s release at most 20 in any second together, and use the limit between them', async () => {
    const released: { by: 'a' | 'b'; at: number }[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 40 }, () => [
        a.acquire('wa-shared', 20).then(() => released.push({ by: 'a', at: performance.now() })),
        b.acquire('wa-shared', 20).then(() => released.push({ by: 'b', at: performance.now() })),
      ]).flat(),
    );
    const elapsed = performance.now() - start;
    expect(released).toHaveLength(80);
    expect(maxInAnySecond(released.map((r) => r.at))).toBeLessThanOrEqual(20);
    // 80 at 19.6/s: about 4 s; each pacer alone would have taken about 2 s for its 40.
    expect(elapsed).toBeGreaterThan(3_500);
    expect(elapsed).toBeLessThan(8_000);
    // Both instances send all along (interleaved), not one after the other.
    const firstSecond = released.filter((r) => r.at - start < 1_500);
    expect(firstSecond.filter((r) => r.by === 'a').length).toBeGreaterThanOrEqual(5);
    expect(firstSecond.filter((r) => r.by === 'b').length).toBeGreaterThanOrEqual(5);
  });

  it("a hold-off at one instance delays the other's next send; other channels go on", async () => {
    await a.acquire('wa-hold', 20);
    await b.acquire('wa-hold', 20);
    const held = performance.now();
    await a.holdOff('wa-hold', 700);
    const other = b.acquire('wa-other', 20).then(() => performance.now() - held);
    const next = b.acquire('wa-hold', 20).then(() => performance.now() - held);
    expect(await other).toBeLessThan(300);
    expect(await next).toBeGreaterThanOrEqual(690);
    expect(await next).toBeLessThan(2_000);
  });

  it('an instance sending steadily stops within its lookahead when another instance holds the channel off', async () => {
    const releases: number[] = [];
    const sending = Promise.all(
      Array.from({ length: 30 }, () => b.acquire('wa-busy', 20).then(() => releases.push(performance.now()))),
    );
    // Let B send for a moment, then A gets a 429 and holds the channel off for 1 s.
    while (releases.length < 5) await new Promise((r) => setTimeout(r, 10));
    const held = performance.now();
    await a.holdOff('wa-busy', 1_000);
    await sending;
    const during = releases.filter((t) => t > held + 200 && t < held + 990);
    expect(during).toEqual([]);
    expect(releases.filter((t) => t >= held + 990).length).toBeGreaterThan(0);
    expect(maxInAnySecond(releases)).toBeLessThanOrEqual(20);
  });
});
