import { afterEach, expect, it } from 'vitest';
import { MarketingService } from '../../src/core/marketing/marketing.service.ts';
import type { Outbox } from '../../src/core/inbox/outbox.ts';
import type { World } from '../inbox/inbox-world.ts';
import { describeEachStore } from '../support/stores.ts';
import { seedContacts, startMarketingWorld } from './marketing-world.ts';

const OFFER = {
  channelId: 'wa-main',
  template: { name: 'spring_offer', language: 'de', parameters: ['10 % auf Reifen'] },
};

describeEachStore('broadcasts queued in batches', (dialect) => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  it('queues 2,500 contacts in batches of 1,000, one transaction each, and a crash after the first batch resumes without duplicates', async () => {
    w = await startMarketingWorld(dialect, false);
    const { optedIn } = await seedContacts(w, 2_500);
    const deps = w.sparsam.marketing['deps'];
    let transactions = 0;
    const countingOutbox = {
      queue: (...args: Parameters<Outbox['queue']>) => {
        transactions += 1;
        return deps.outbox.queue(...args);
      },
    } as Outbox;
    // The process "dies" when it reads the contacts of the second batch: the first batch is committed.
    let reads = 0;
    const crashing = new MarketingService({
      ...deps,
      batchSize: 1_000,
      outbox: countingOutbox,
      port: Object.assign(Object.create(deps.port) as typeof deps.port, {
        channelContactsAfter: (channelId: string, after: string | null, limit: number) => {
          if (++reads === 2) throw new Error('process killed');
          return deps.port.channelContactsAfter(channelId, after, limit);
        },
      }),
    });
    await expect(crashing.broadcast(OFFER, 'user:test')).rejects.toThrow('process killed');
    expect(transactions).toBe(1);

    const db = w.sparsam.store.db;
    const [half] = await db.selectFrom('campaigns').selectAll().execute();
    expect(half!.state).toBe('queueing');
    const firstBatch = await db.selectFrom('campaign_recipients').select('contact_id').execute();
    expect(firstBatch.length).toBeGreaterThan(0);
    expect(firstBatch.length).toBeLessThanOrEqual(1_000);

    // The next start resumes it (batches of 1,000 again): 2 more batches and the final empty read.
    const restarted = new MarketingService({ ...deps, batchSize: 1_000, outbox: countingOutbox });
    expect(await restarted.resumeQueueing()).toEqual([half!.id]);
    expect(transactions).toBe(3);
    expect(await restarted.resumeQueueing()).toEqual([]);

    const recipients = await db.selectFrom('campaign_recipients').select(['contact_id', 'message_id']).execute();
    expect(recipients.length).toBe(optedIn);
    expect(new Set(recipients.map((r) => r.contact_id)).size).toBe(optedIn);
    const messages = await db
      .selectFrom('messages')
      .select(['id', 'conversation_id'])
      .where('kind', '=', 'template')
      .execute();
    expect(messages.length).toBe(optedIn);
    const jobs = await db.selectFrom('jobs').select('dedupe_key').where('queue', '=', 'outbound-send').execute();
    expect(jobs.length).toBe(optedIn);
    expect(new Set(messages.map((m) => m.conversation_id)).size).toBe(optedIn);

    const report = (await restarted.report(half!.id))!;
    expect(report.recipients).toBe(optedIn);
    expect(report.skipped).toBe(2_500 - optedIn);
    expect(report.queued).toBe(optedIn);
    const [done] = await db.selectFrom('campaigns').selectAll().execute();
    expect(done!.state).toBe('queued');
    expect(done!.parameters_enc).toBeNull();
  }, 240_000);

  it('two instances resuming the same broadcast at once queue each contact once', async () => {
    w = await startMarketingWorld(dialect, false);
    const { optedIn } = await seedContacts(w, 600);
    const deps = w.sparsam.marketing['deps'];
    let reads = 0;
    const crashing = new MarketingService({
      ...deps,
      batchSize: 100,
      port: Object.assign(Object.create(deps.port) as typeof deps.port, {
        channelContactsAfter: (channelId: string, after: string | null, limit: number) => {
          if (++reads === 2) throw new Error('process killed');
          return deps.port.channelContactsAfter(channelId, after, limit);
        },
      }),
    });
    await expect(crashing.broadcast(OFFER, 'user:test')).rejects.toThrow('process killed');
    const a = new MarketingService({ ...deps, batchSize: 100 });
    const b = new MarketingService({ ...deps, batchSize: 100 });
    // Both read the same cursor and race for each batch; the cursor's compare-and-set lets one write it.
    await Promise.all([a.resumeQueueing(), b.resumeQueueing()]);
    const db = w.sparsam.store.db;
    const recipients = await db.selectFrom('campaign_recipients').select('contact_id').execute();
    expect(recipients.length).toBe(optedIn);
    expect(new Set(recipients.map((r) => r.contact_id)).size).toBe(optedIn);
    const messages = await db.selectFrom('messages').select('id').where('kind', '=', 'template').execute();
    expect(messages.length).toBe(optedIn);
    const [done] = await db.selectFrom('campaigns').selectAll().execute();
    expect(done!.state).toBe('queued');
  }, 120_000);
});
