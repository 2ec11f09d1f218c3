import { describe, expect, it } from 'vitest';
import type { SendPacingPort, SlotClaim } from '../../src/store/ports/send-pacing.port.ts';
import { maxInAnySecond } from '../support/pacing.ts';
import { SharedSendPacer } from '../../src/jobs/shared-send-pacer.ts';

/** The send_pacing row in memory, on a "database" clock an hour ahead of this process, answering after `delayMs`. */
function memoryPort(options: { failures?: number; delayMs?: number } = {}): SendPacingPort & { claims: number } {
  const skew = 3_600_000;
  const rows = new Map<string, { nextAt: number; heldUntil: number }>();
  let failures = options.failures ?? 0;
  const dbNow = () => performance.now() + skew;
  const answer = <T>(value: T) => new Promise<T>((r) => setTimeout(() => r(value), options.delayMs ?? 1));
  const port = {
    claims: 0,
    async claim(sender: string, slots: number, intervalMs: number, leadMs: number): Promise<SlotClaim> {
      if (failures > 0) {
        failures -= 1;
        throw new Error('connection terminated unexpectedly');
      }
      port.claims += 1;
      const row = rows.get(sender) ?? { nextAt: 0, heldUntil: 0 };
      const now = dbNow();
      const start = Math.max(row.nextAt, now + leadMs);
      row.nextAt = start + slots * intervalMs;
      rows.set(sender, row);
      return answer({ start, now, heldUntil: row.heldUntil });
    },
    async clock() {
      return answer(dbNow());
    },
    async holdOff(sender: string, ms: number) {
      const row = rows.get(sender) ?? { nextAt: 0, heldUntil: 0 };
      const now = dbNow();
      row.nextAt = Math.max(row.nextAt, now + ms);
      row.heldUntil = Math.max(row.heldUntil, now + ms);
      rows.set(sender, row);
      return answer({ heldUntil: row.heldUntil, now });
    },
  };
  return port;
}

describe('SharedSendPacer', () => {
  it('two pacers on one pace row release at most the limit in any second, whatever the database clock says', async () => {
    const port = memoryPort();
    const a = new SharedSendPacer(port);
    const b = new SharedSendPacer(port);
    const released: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 15 }, () =>
        [a, b].map((p) => p.acquire('wa', 20).then(() => released.push(performance.now()))),
      ).flat(),
    );
    expect(released).toHaveLength(30);
    expect(maxInAnySecond(released)).toBeLessThanOrEqual(20);
    // 30 at 19/s: about 1.5 s, not the 0.75 s each pacer alone would take for its 15.
    expect(performance.now() - start).toBeGreaterThan(1_400);
  });

  it('claims batches of slots at high rates instead of one round trip per send', async () => {
    const port = memoryPort();
    const pacer = new SharedSendPacer(port);
    await Promise.all(Array.from({ length: 200 }, () => pacer.acquire('wa', 1000)));
    expect(port.claims).toBeLessThan(40);
  });

  it('keeps waiting sends waiting while the database does not answer, and releases them once it does', async () => {
    const port = memoryPort({ failures: 2 });
    const pacer = new SharedSendPacer(port);
    const started = performance.now();
    await pacer.acquire('wa', 10);
    // Two failed claims, retried after 50 and 100 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects a headroom outside (0, 1] with the fix in the message', () => {
    expect(() => new SharedSendPacer(memoryPort(), { headroom: 1.5 })).toThrow(/headroom must be in \(0, 1\], e\.g\./);
  });
});
