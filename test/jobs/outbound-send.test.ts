import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { readFileSync, existsSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ChannelNetworkError } from '../../src/core/channel/channel-errors.ts';
import { outboundDedupeKey } from '../../src/jobs/outbound-send.job.ts';
import { SendPacer } from '../../src/jobs/send-pacer.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import {
  CUSTOMER,
  graphError,
  outboundWorld,
  startGraphStub,
  waitFor,
  type GraphAnswer,
  type OutboundWorld,
} from './outbound-fixture.ts';

describeEachStore('outbound-send', (dialect) => {
  let t: TestStore;
  let stub: Awaited<ReturnType<typeof startGraphStub>>;
  let script: (n: number) => GraphAnswer | undefined;
  const worlds: OutboundWorld[] = [];
  const extraStores: Store[] = [];

  async function world(options: Parameters<typeof outboundWorld>[2] = {}): Promise<OutboundWorld> {
    const w = await outboundWorld(t.store, stub.url, options);
    worlds.push(w);
    return w;
  }

  async function settled(w: OutboundWorld, id: string): Promise<void> {
    await waitFor(async () => ['sent', 'failed'].includes((await w.message(id))?.status ?? ''), 15_000);
  }

  beforeEach(async () => {
    t = await openTestStore(dialect);
    script = () => undefined;
    stub = await startGraphStub((n) => script(n));
  });
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.queue.stop();
    for (const s of extraStores.splice(0)) await s.close();
    await stub.close();
    await t.cleanup();
  });

  it('sends started together share their writes, and each message keeps its own outcome', async () => {
    const w = await world();
    const ids: string[] = [];
    for (const text of ['eins', 'zwei', 'drei']) ids.push(await w.queueMessage({ text }, { enqueue: false }));
    const [one, two, three] = ids as [string, string, string];
    // Queued with its send job, due now (the queue is not running).
    const fourth = await w.queueMessage({ text: 'vier' });
    const now = Date.now();
    // Two workers asking for one message in the same moment: only one may send it.
    const sending = await Promise.all([one, one, two, three].map((id) => w.outbound.markSending(id, now)));
    expect(sending).toEqual([true, false, true, true]);
    // The provider had already reported 'delivered' for the second message before its id was stored.
    const refs = new ProviderRefs(w.keys.pepper);
    await t.store.db
      .insertInto('parked_statuses')
      .values({
        channel_id: w.channelId,
        provider_ref: refs.ref('wamid.zwei')!,
        status: 'delivered',
        status_at: now,
        error_code: null,
        error_reason: null,
        expires_at: now + 60_000,
      })
      .execute();
    // The next message's job is due anyway: it will find the first message sent, nothing to wake.
    const first = await w.outbound.markSent(one, 'wamid.eins', now);
    expect(first).toMatchObject({ row: { status: 'sent' }, toWake: undefined });
    // Deferred (it saw an earlier message on its way): the sends that end name it to be woken.
    await t.store.db
      .updateTable('jobs')
      .set({ run_at: now + 60_000 })
      .where('dedupe_key', '=', outboundDedupeKey(fourth))
      .execute();
    const sent = await Promise.all([
      w.outbound.markSent(two, 'wamid.zwei', now),
      w.outbound.markSent(two, 'wamid.zwei', now),
      w.outbound.markSent(three, 'wamid.drei', now),
    ]);
    expect(sent.map((s) => s?.row.status)).toEqual(['delivered', undefined, 'sent']);
    expect(sent.map((s) => s?.toWake)).toEqual([fourth, undefined, fourth]);
    expect((await w.message(one))?.provider_message_id).toBe(refs.ref('wamid.eins'));
    expect(await w.message(two)).toMatchObject({ status: 'delivered', provider_message_id: refs.ref('wamid.zwei') });
    expect((await w.message(three))?.provider_message_id).toBe(refs.ref('wamid.drei'));
    expect(await Promise.all(ids.map((id) => w.outbound.nextQueuedOutbound(id)))).toEqual([fourth, fourth, fourth]);
  });

  it('sends a queued text to the decrypted address and stores the provider id', async () => {
    const w = await world();
    const id = await w.queueMessage({ text: 'Ihr Auto ist fertig.' });
    await w.queue.drain();
    expect(stub.calls).toHaveLength(1);
    expect(stub.calls[0]?.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      type: 'text',
      text: { body: 'Ihr Auto ist fertig.' },
    });
    const row = await w.message(id);
    expect(row?.status).toBe('sent');
    // Stored only as a keyed hash of the wamid the provider answered (a wamid carries the customer's number).
    const wamid = (stub.calls[0]!.answer as { messages: { id: string }[] }).messages[0]!.id;
    expect(row?.provider_message_id).toBe(new ProviderRefs(w.keys.pepper).ref(wamid));
    expect(row?.provider_message_id).not.toContain('wamid');
    expect(w.events).toContainEqual({
      type: 'message.updated',
      inboxId: w.inboxId,
      conversationId: w.conversation.id,
      messageId: id,
      status: 'sent',
    });
  });

  it('sends templates and reply buttons in their provider shape', async () => {
    const w = await world();
    await w.queueMessage({ template: { name: 'termin_erinnerung', language: 'de', parameters: ['Montag'] } });
    await w.queueMessage({ text: 'Einverstanden?', buttons: [{ id: 'consent:yes', title: 'Ja' }] });
    await w.queue.drain();
    const bodies = stub.calls.map((c) => c.body);
    expect(bodies).toContainEqual(
      expect.objectContaining({
        type: 'template',
        template: {
          name: 'termin_erinnerung',
          language: { code: 'de' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Montag' }] }],
        },
      }),
    );
    expect(bodies).toContainEqual(
      expect.objectContaining({
        type: 'interactive',
        interactive: expect.objectContaining({
          type: 'button',
          body: { text: 'Einverstanden?' },
          action: { buttons: [{ type: 'reply', reply: { id: 'consent:yes', title: 'Ja' } }] },
        }),
      }),
    );
  });

  it('after a 429 with Retry-After it sends again and the customer gets the message exactly once', async () => {
    script = (n) =>
      n === 1 ? { ...graphError(130429, 'Rate limit hit', 429), headers: { 'retry-after': '0.2' } } : undefined;
    const w = await world();
    const id = await w.queueMessage({ text: 'Hallo' });
    const started = Date.now();
    w.queue.start();
    await settled(w, id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(stub.calls.map((c) => c.status)).toEqual([429, 200]);
    expect(stub.accepted()).toHaveLength(1);
    const row = await w.message(id);
    expect(row).toMatchObject({ status: 'sent', error_code: null });
    await waitFor(async () => (await w.jobs.list())[0]?.status === 'done');
    expect((await w.jobs.list())[0]).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('keeps retrying through provider 500s and delivers once when the provider is back', async () => {
    script = (n) => (n <= 3 ? { status: 500, body: { error: { message: 'internal', code: 131000 } } } : undefined);
    const w = await world();
    const id = await w.queueMessage({ text: 'Hallo' });
    w.queue.start();
    await settled(w, id);
    expect(stub.calls.map((c) => c.status)).toEqual([500, 500, 500, 200]);
    expect((await w.message(id))?.status).toBe('sent');
    // The event follows the commit that the row's status shows (on PostgreSQL the poll can see it first).
    await waitFor(async () => w.events.some((e) => e.type === 'message.updated'));
    // 'queued' again between the attempts: an agent sees it waiting, not failed.
    expect(w.events.filter((e) => e.type === 'message.updated').map((e) => (e as { status: string }).status)).toEqual([
      'sent',
    ]);
  });

  it('marks the message failed with the provider reason on a non-retryable error (131047), without retrying', async () => {
    const reason =
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';
    script = () => graphError(131047, reason);
    const w = await world();
    const id = await w.queueMessage({ text: 'Hallo' });
    w.queue.start();
    await settled(w, id);
    await w.queue.stop();
    expect(stub.calls).toHaveLength(1);
    expect(await w.message(id)).toMatchObject({ status: 'failed', error_code: '131047', error_reason: reason });
    expect(w.events).toContainEqual(
      expect.objectContaining({ type: 'message.updated', messageId: id, status: 'failed' }),
    );
    const [job] = await w.jobs.list();
    expect(job?.status).toBe('failed');
    expect(job?.last_error).toContain('131047');
    expect(job?.last_error).not.toContain(CUSTOMER);
  });

  it('gives up after the retry budget with "provider unavailable" and the last reason', async () => {
    script = () => ({ status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } });
    const w = await world();
    const id = await w.queueMessage({ text: 'Hallo', extra: {} }, { enqueue: false });
    await w.queue.enqueue('outbound-send', { messageId: id }, { maxAttempts: 3 });
    w.queue.start();
    await settled(w, id);
    expect(stub.calls).toHaveLength(3);
    expect(await w.message(id)).toMatchObject({
      status: 'failed',
      error_code: '2',
      error_reason: 'provider unavailable (Service temporarily unavailable)',
    });
  });

  it('never sends a message twice: duplicate jobs, an already sent message, an interrupted send', async () => {
    const w = await world();
    const id = await w.queueMessage({ text: 'eins' });
    // The same text as a second message: sent too (its job is woken by its dedupe key once the first is sent).
    await w.queueMessage({ text: 'eins' });
    // A second job for the first message, without the dedupe key (another code path enqueueing again).
    await w.queue.enqueue('outbound-send', { messageId: id });
    await w.queue.drain();
    expect(stub.calls).toHaveLength(2);
    expect((await w.message(id))?.status).toBe('sent');

    // The worker died during the provider call: the message stayed 'sending'. The retry must not send it again.
    const interrupted = await w.queueMessage({ text: 'zwei' }, { enqueue: false });
    await t.store.db.updateTable('messages').set({ status: 'sending' }).where('id', '=', interrupted).execute();
    await w.queue.enqueue('outbound-send', { messageId: interrupted });
    await w.queue.drain();
    expect(stub.calls).toHaveLength(2);
    expect(await w.message(interrupted)).toMatchObject({ status: 'failed', error_code: 'SEND_UNCONFIRMED' });
  });

  it('a timeout during the call is never retried (it may have gone out): the message shows unconfirmed', async () => {
    const w = await world();
    let calls = 0;
    w.channel.send = async () => {
      calls += 1;
      throw new ChannelNetworkError('WhatsApp Cloud API did not answer within 15000 ms');
    };
    const id = await w.queueMessage({ text: 'Hallo' });
    w.queue.start();
    await settled(w, id);
    await w.queue.stop();
    expect(calls).toBe(1);
    expect(await w.message(id)).toMatchObject({ status: 'failed', error_code: 'SEND_UNCONFIRMED' });
  });

  it('a provider that cannot be reached at all (connection refused) is retried, then "provider unavailable"', async () => {
    const closed = await startGraphStub();
    const url = closed.url;
    await closed.close();
    const w = await outboundWorld(t.store, url);
    worlds.push(w);
    const id = await w.queueMessage({ text: 'Hallo' }, { enqueue: false });
    await w.queue.enqueue('outbound-send', { messageId: id }, { maxAttempts: 3 });
    w.queue.start();
    await settled(w, id);
    expect(await w.message(id)).toMatchObject({
      status: 'failed',
      error_code: 'NETWORK',
      error_reason: 'provider unavailable',
    });
    await w.queue.stop();
    expect((await w.jobs.list())[0]).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('ends quietly when the conversation was erased before the job ran', async () => {
    const w = await world();
    const id = await w.queueMessage({ text: 'weg' }, { enqueue: false });
    await t.store.db.deleteFrom('messages').where('conversation_id', '=', w.conversation.id).execute();
    await t.store.db.deleteFrom('conversations').where('id', '=', w.conversation.id).execute();
    await w.keys.destroy('conversation', w.conversation.id);
    const job = await w.queue.enqueue('outbound-send', { messageId: id });
    await w.queue.drain();
    expect(stub.calls).toHaveLength(0);
    expect((await w.jobs.get(job))?.status).toBe('done');
  });

  it('does not send on a channel an admin stopped (kill switch): the message shows failed', async () => {
    const w = await world();
    await t.store.db.updateTable('channels').set({ enabled: 0 }).where('id', '=', w.channelId).execute();
    const id = await w.queueMessage({ text: 'Hallo' });
    await w.queue.drain();
    expect(stub.calls).toHaveLength(0);
    expect(await w.message(id)).toMatchObject({ status: 'failed', error_code: 'CHANNEL_DISABLED' });
  });

  it('paces sends per channel: N messages at R msg/s take at least (N-1)/R seconds', async () => {
    const w = await world({ messagesPerSecond: 25, concurrency: 16 });
    const n = 30;
    for (let i = 0; i < n; i += 1) await w.queueMessage({ text: `Nachricht ${i}` });
    const started = performance.now();
    await w.queue.drain();
    const elapsed = performance.now() - started;
    expect(stub.accepted()).toHaveLength(n);
    expect(elapsed).toBeGreaterThanOrEqual(((n - 1) / 25) * 1000 * 0.95);
  });

  it('two instances sharing the database send every message exactly once', async () => {
    const a = await world({ instanceId: 'a', concurrency: 8 });
    const other = await openStore({
      dataDir: t.dataDir,
      databaseUrl: t.env.SPARSAM_DATABASE_URL,
      keystoreUrl: t.env.SPARSAM_KEYSTORE_URL,
    });
    extraStores.push(other);
    const b = await outboundWorld(other, stub.url, {
      instanceId: 'b',
      concurrency: 8,
      keys: a.keys,
      reuse: { inboxId: a.inboxId, channelId: a.channelId, contact: a.contact, conversation: a.conversation },
    });
    worlds.push(b);
    const ids: string[] = [];
    for (let i = 0; i < 40; i += 1) ids.push(await a.queueMessage({ text: `Nachricht ${i}` }));
    a.queue.start();
    b.queue.start();
    for (const id of ids) await settled(a, id);
    const texts = stub.calls.map((c) => (c.body.text as { body: string }).body);
    expect(texts).toHaveLength(40);
    expect(new Set(texts).size).toBe(40);
  });
});

it('outbound-send [sqlite] writes neither the number nor the text in plain text to the database files', async () => {
  // SQLite only: its files are what an application-level reader (or a backup) sees; PostgreSQL's are not ours to read.
  const t = await openTestStore('sqlite');
  const stub = await startGraphStub();
  const w = await outboundWorld(t.store, stub.url);
  await w.queueMessage({ text: 'Geheimer Reparaturtext' });
  await w.queue.drain();
  await t.store.scrub();
  for (const file of t.store.files.filter((f) => existsSync(f))) {
    const raw = readFileSync(file);
    expect(raw.includes(Buffer.from(CUSTOMER))).toBe(false);
    expect(raw.includes(Buffer.from('Geheimer Reparaturtext'))).toBe(false);
  }
  expect(stub.accepted()).toHaveLength(1);
  await stub.close();
  await t.cleanup();
});

it('SendPacer: a hold-off after 429 delays every send of that sender; other senders are unaffected', async () => {
  const pacer = new SendPacer({ headroom: 1 });
  await pacer.acquire('a', 10);
  pacer.holdOff('a', 1_000);
  const started = Date.now();
  const waiting = pacer.acquire('a', 10);
  await pacer.acquire('b', 10);
  expect(Date.now() - started).toBeLessThan(50);
  await waiting;
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
});

it('SendPacer: releases are spaced by the rate, and a stalled event loop does not turn into a burst', async () => {
  const pacer = new SendPacer({ headroom: 1 });
  const released: number[] = [];
  const all = Array.from({ length: 12 }, () => pacer.acquire('a', 50).then(() => released.push(performance.now())));
  await new Promise((resolve) => setTimeout(resolve, 30));
  // Block the event loop for 200 ms, as a slow synchronous disk write would: ten slots pass meanwhile.
  const until = performance.now() + 200;
  while (performance.now() < until) {
    // busy wait
  }
  await Promise.all(all);
  // Never six releases within four intervals (80 ms): a late timer catches up by one interval, not by a burst of
  // the ten slots the stall swallowed.
  for (let i = 0; i + 5 < released.length; i += 1) {
    expect(released[i + 5]! - released[i]!).toBeGreaterThanOrEqual(80);
  }
  expect(released.at(-1)! - released[0]!).toBeGreaterThanOrEqual(200 + 9 * 19);
});
