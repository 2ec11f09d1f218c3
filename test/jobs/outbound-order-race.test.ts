import { describe, expect, it } from 'vitest';
import { inOutboundOrder } from '../../src/jobs/outbound-order.ts';
import type { Job } from '../../src/jobs/job-queue.ts';
import type { OutboundTarget } from '../../src/store/ports/outbound.port.ts';

const job = (messageId: string): Job => ({
  id: `job-${messageId}`,
  queue: 'outbound',
  payload: { messageId },
  attempts: 1,
  maxAttempts: 5,
});

describe('outbound order within one process', () => {
  it('a send that read its earlier message as pending while that send was ending goes out, without waiting for a poll', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstEnded!: () => void;
    const firstHasEnded = new Promise<void>((resolve) => (firstEnded = resolve));
    let secondLoads = 0;
    const sent: string[] = [];
    const wakes: string[] = [];
    const handle = inOutboundOrder(
      async (j) => {
        if (j.payload.messageId === 'm1') await firstMayEnd;
        sent.push(String(j.payload.messageId));
        return { toWake: undefined };
      },
      {
        store: {
          load: async (id) => {
            if (id === 'm2' && secondLoads++ === 0) {
              // The read began while m1 was still 'sending' and answers after m1's send has ended here.
              await firstHasEnded;
              return { earlierPending: 'm1' } as OutboundTarget;
            }
            return { earlierPending: undefined } as OutboundTarget;
          },
          nextQueuedOutbound: async () => undefined,
        },
        wake: async (key) => void wakes.push(key),
        dedupeKey: (id) => `send:${id}`,
        pollMs: 60_000,
      },
    );
    const first = handle(job('m1'));
    const second = handle(job('m2'));
    releaseFirst();
    await first;
    firstEnded();
    await second; // before the fix: Defer (a minute here), with no wake-up left for it
    expect(sent).toEqual(['m1', 'm2']);
    expect(secondLoads).toBe(2);
  });
});
