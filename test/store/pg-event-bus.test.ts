import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { PgInboxEventBus } from '../../src/store/postgres/pg-event-bus.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';

describe.runIf(postgresAvailable)('live fan-out between instances [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: PgInboxEventBus;
  let b: PgInboxEventBus;
  beforeAll(async () => {
    db = await createPgDatabase();
    const logger = createLogger({ level: 'silent' });
    a = new PgInboxEventBus(db.url, logger);
    b = new PgInboxEventBus(db.url, logger);
    await a.start();
    await b.start();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('delivers an event published on instance A to subscribers on instance B, once', async () => {
    const seenByB: InboxEvent[] = [];
    const seenByA: InboxEvent[] = [];
    b.subscribe((e) => seenByB.push(e));
    a.subscribe((e) => seenByA.push(e));
    const event: InboxEvent = { type: 'message.created', inboxId: 'service', conversationId: 'c1', messageId: 'm1' };
    a.publish(event);
    const deadline = Date.now() + 5000;
    while (seenByB.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(seenByB).toEqual([event]);
    // A's own subscribers get it once, locally, not a second time through NOTIFY.
    expect(seenByA).toEqual([event]);
  });

  it('delivers a burst of events in the order they were published, spread over several notifications', async () => {
    const seenByB: InboxEvent[] = [];
    const unsubscribe = b.subscribe((e) => seenByB.push(e));
    // More than one NOTIFY payload holds: the burst leaves as several notifications of one statement.
    const burst: InboxEvent[] = Array.from({ length: 120 }, (_, i) => ({
      type: 'message.created',
      inboxId: 'service',
      conversationId: `c${i % 7}`,
      messageId: `burst-${i}`,
    }));
    for (const e of burst) a.publish(e);
    const deadline = Date.now() + 5000;
    while (seenByB.length < burst.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    unsubscribe();
    expect(seenByB).toEqual(burst);
  });

  it('sends the events still waiting when an instance shuts down', async () => {
    const seenByB: InboxEvent[] = [];
    const unsubscribe = b.subscribe((e) => seenByB.push(e));
    const c = new PgInboxEventBus(db.url, createLogger({ level: 'silent' }));
    await c.start();
    const event: InboxEvent = { type: 'conversation.updated', inboxId: 'service', conversationId: 'last' };
    c.publish(event);
    await c.close();
    const deadline = Date.now() + 5000;
    while (seenByB.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    unsubscribe();
    expect(seenByB).toEqual([event]);
  });
});
