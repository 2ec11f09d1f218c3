import { conversationRow } from '../../src/store/sql/records.ts';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Defer } from '../../src/jobs/job-errors.ts';
import { JobQueue } from '../../src/jobs/job-queue.ts';
import { outboundDedupeKey } from '../../src/jobs/outbound-send.job.ts';
import { newId } from '../../src/shared/ids.ts';
import { JobStore } from '../../src/store/sql/job.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import {
  graphError,
  sleep,
  outboundWorld,
  startGraphStub,
  waitFor,
  type GraphAnswer,
  type OutboundWorld,
} from './outbound-fixture.ts';

describeEachStore('outbound order per conversation', (dialect) => {
  let t: TestStore;
  let stub: Awaited<ReturnType<typeof startGraphStub>>;
  let script: (n: number, text: string) => GraphAnswer | undefined;
  const worlds: OutboundWorld[] = [];
  const queues: JobQueue[] = [];

  async function world(options: Parameters<typeof outboundWorld>[2] = {}): Promise<OutboundWorld> {
    const w = await outboundWorld(t.store, stub.url, options);
    worlds.push(w);
    return w;
  }

  async function settled(w: OutboundWorld, ids: string[]): Promise<void> {
    await waitFor(async () => {
      for (const id of ids) if (!['sent', 'failed'].includes((await w.message(id))?.status ?? '')) return false;
      return true;
    }, 20_000);
  }

  const textOf = (body: Record<string, unknown>) => (body.text as { body: string } | undefined)?.body ?? '';
  const acceptedTexts = () => stub.accepted().map((c) => textOf(c.body));

  beforeEach(async () => {
    t = await openTestStore(dialect);
    script = () => undefined;
    stub = await startGraphStub((n, body) => script(n, textOf(body)));
  });
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.queue.stop();
    for (const q of queues.splice(0)) await q.stop();
    await stub.close();
    await t.cleanup();
  });

  it('the first reply fails retryably once: the customer still gets both in the order they were written', async () => {
    const w = await world({ concurrency: 8 });
    let refused = false;
    script = (_n, text) => {
      if (text !== 'erste' || refused) return undefined;
      refused = true;
      return graphError(131000, 'Something went wrong', 500);
    };
    const first = await w.queueMessage({ text: 'erste' });
    const second = await w.queueMessage({ text: 'zweite' });
    w.queue.start();
    await settled(w, [first, second]);
    // The second reply never reached the provider before the first was accepted.
    expect(stub.calls.map((c) => [textOf(c.body), c.status])).toEqual([
      ['erste', 500],
      ['erste', 200],
      ['zweite', 200],
    ]);
    expect((await w.message(second))?.status).toBe('sent');
    // Waiting did not use up the second send's attempts.
    expect((await w.jobs.findByDedupeKey(outboundDedupeKey(second)))?.attempts).toBe(1);
  });

  it('many replies queued at once with several workers arrive in the order they were written', async () => {
    const w = await world({ concurrency: 8 });
    // Requests take their time to leave (0-30 ms, like a busy network): without ordering they overtake each other.
    const send = w.channel.send.bind(w.channel);
    w.channel.send = async (command) => {
      await sleep(Math.random() * 30);
      return send(command);
    };
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await w.queueMessage({ text: `Antwort ${i}` }));
    const started = performance.now();
    w.queue.start();
    await settled(w, ids);
    const elapsed = performance.now() - started;
    expect(acceptedTexts()).toEqual(ids.map((_, i) => `Antwort ${i}`));
    expect(stub.calls).toHaveLength(20);
    // Each reply is woken by the one before it, not found by the fallback poll (1.5 s each).
    expect(elapsed).toBeLessThan(10_000);
  });

  it('twenty replies claimed at once all go out in one drain, in the order they were written', async () => {
    // Every send of the queue is claimed together; each waits here for the one before it (not for the first still
    // pending, which would make the last of them wait once per reply ahead of it and then give up for a poll).
    const w = await world({ concurrency: 64 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await w.queueMessage({ text: `Antwort ${i}` }));
    // The last one waits for the one right before it.
    expect((await w.outbound.load(ids[19]!))?.earlierPending).toBe(ids[18]);
    await w.queue.drain();
    expect(acceptedTexts()).toEqual(ids.map((_, i) => `Antwort ${i}`));
    for (const id of ids) expect((await w.message(id))?.status).toBe('sent');
  });

  /**
   * Wraps the channel's send: records how many sends of one customer are at the provider at once (the next message
   * must not leave before the previous one's outcome is known) and delays each request by 0-15 ms.
   */
  function watchOverlap(...all: OutboundWorld[]): { maxAtOnce: () => number } {
    const inFlight = new Map<string, number>();
    let max = 0;
    for (const w of all) {
      const send = w.channel.send.bind(w.channel);
      w.channel.send = async (command) => {
        const to = 'address' in command ? command.address : '';
        inFlight.set(to, (inFlight.get(to) ?? 0) + 1);
        max = Math.max(max, inFlight.get(to)!);
        try {
          await sleep(Math.random() * 15);
          return await send(command);
        } finally {
          inFlight.set(to, inFlight.get(to)! - 1);
        }
      };
    }
    return { maxAtOnce: () => max };
  }

  /** Queues `perConversation` messages to each of `count` customers, round-robin as a business sends. */
  async function queueRoundRobin(w: OutboundWorld, count: number, perConversation: number) {
    const conversations = [w.conversation];
    for (let c = 1; c < count; c += 1) conversations.push(await w.addConversation(`49151000000${10 + c}`));
    const written = new Map<string, string[]>();
    const ids: string[] = [];
    for (let i = 0; i < perConversation; i += 1) {
      for (const [c, conversation] of conversations.entries()) {
        const text = `K${c} N${i}`;
        ids.push(await w.queueMessage({ text }, { conversation }));
        written.set(`K${c}`, [...(written.get(`K${c}`) ?? []), text]);
      }
    }
    return { ids, written };
  }

  /** The accepted texts per customer, in the order the provider accepted them. */
  function acceptedPerConversation(): Map<string, string[]> {
    const seen = new Map<string, string[]>();
    for (const text of acceptedTexts()) {
      const key = text.split(' ')[0]!;
      seen.set(key, [...(seen.get(key) ?? []), text]);
    }
    return seen;
  }

  it('a batch of workers sending to many customers: each message once, each conversation in order, one at a time', async () => {
    const w = await world({ concurrency: 32, messagesPerSecond: 1000 });
    const overlap = watchOverlap(w);
    // Every seventh request is refused retryably once: the message goes back to the queue and must still keep its
    // place in its conversation.
    const refused = new Set<string>();
    script = (n, text) => {
      if (n % 7 !== 0 || refused.has(text)) return undefined;
      refused.add(text);
      return graphError(131000, 'Something went wrong', 500);
    };
    const { ids, written } = await queueRoundRobin(w, 6, 8);
    w.queue.start();
    await settled(w, ids);
    expect(acceptedTexts()).toHaveLength(ids.length);
    expect(new Set(acceptedTexts()).size).toBe(ids.length); // no duplicates
    expect(acceptedPerConversation()).toEqual(written);
    expect(overlap.maxAtOnce()).toBe(1);
    for (const id of ids) expect((await w.message(id))?.status).toBe('sent');
  });

  it('two queues on one database share the sends: each message once, each conversation in order', async () => {
    const first = await world({ concurrency: 16, messagesPerSecond: 1000, instanceId: 'one' });
    const second = await world({
      concurrency: 16,
      messagesPerSecond: 1000,
      instanceId: 'two',
      keys: first.keys,
      reuse: first,
    });
    const overlap = watchOverlap(first, second);
    const { ids, written } = await queueRoundRobin(first, 5, 6);
    first.queue.start();
    second.queue.start();
    await settled(first, ids);
    expect(acceptedTexts()).toHaveLength(ids.length);
    expect(new Set(acceptedTexts()).size).toBe(ids.length);
    expect(acceptedPerConversation()).toEqual(written);
    // A conversation never has two sends at the provider, whichever queue holds them.
    expect(overlap.maxAtOnce()).toBe(1);
  });

  it('a failed first message does not block the second', async () => {
    const w = await world({ concurrency: 4 });
    script = (_n, text) =>
      text === 'ohne Fenster'
        ? graphError(131047, 'Message failed to send because more than 24 hours have passed')
        : undefined;
    const first = await w.queueMessage({ text: 'ohne Fenster' });
    const second = await w.queueMessage({ text: 'danach' });
    w.queue.start();
    await settled(w, [first, second]);
    expect(await w.message(first)).toMatchObject({ status: 'failed', error_code: '131047' });
    expect(await w.message(second)).toMatchObject({ status: 'sent' });
    expect(acceptedTexts()).toEqual(['danach']);
  });

  it('messages of other conversations do not wait for each other', async () => {
    const w = await world({ concurrency: 4 });
    // The first conversation's reply is refused (retryably) until the test ends; a later reply of another customer
    // goes out meanwhile.
    script = (_n, text) => (text === 'hängt' ? graphError(131000, 'Something went wrong', 500) : undefined);
    const stuck = await w.queueMessage({ text: 'hängt' });
    const otherConversation = { ...w.conversation, id: newId(), state: 'closed' as const };
    await t.store.db.insertInto('conversations').values(conversationRow(otherConversation)).execute();
    const other = await w.queueMessage({ text: 'andere' }, { conversation: otherConversation });
    w.queue.start();
    await settled(w, [other]);
    expect(['queued', 'sending']).toContain((await w.message(stuck))?.status);
    expect(acceptedTexts()).toEqual(['andere']);
  });

  it('a message whose conversation was erased blocks nothing', async () => {
    const w = await world();
    const gone = await w.queueMessage({ text: 'weg' }, { enqueue: false });
    const next = await w.queueMessage({ text: 'bleibt' }, { enqueue: false });
    // Erasure deletes message rows: the job of a deleted message ends quietly, and no later message waits for it.
    await t.store.db.deleteFrom('messages').where('id', '=', gone).execute();
    await w.queue.enqueue('outbound-send', { messageId: gone }, { dedupeKey: outboundDedupeKey(gone) });
    await w.queue.enqueue('outbound-send', { messageId: next }, { dedupeKey: outboundDedupeKey(next) });
    await w.queue.drain();
    expect(acceptedTexts()).toEqual(['bleibt']);
  });

  it('a deferred job keeps its whole retry budget, however often it was deferred', async () => {
    const jobs = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
    const q = new JobQueue({ store: jobs, pollIntervalMs: 10, backoff: { baseMs: 1, maxMs: 2 } });
    queues.push(q);
    let runs = 0;
    let failedRuns = 0;
    q.register('work', async () => {
      runs += 1;
      if (runs <= 30) throw new Defer(1, 'waiting');
      failedRuns += 1;
      throw new Error('boom');
    });
    const id = await q.enqueue('work', {}, { maxAttempts: 3 });
    q.start();
    await waitFor(async () => (await jobs.get(id))?.status === 'failed');
    expect(runs).toBe(33);
    expect(failedRuns).toBe(3);
    expect(await jobs.get(id)).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('wake() brings a deferred job forward, also when it arrives while the job is deciding to defer', async () => {
    const jobs = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
    const q = new JobQueue({ store: jobs, pollIntervalMs: 10 });
    queues.push(q);
    const runs: number[] = [];
    q.register('work', async () => {
      runs.push(Date.now());
      // First run: the wake lands while this run is still going, then it defers for a minute.
      if (runs.length === 1) {
        await q.wake('work:1');
        throw new Defer(60_000, 'waiting');
      }
      // Second run: defers for a minute; the wake below comes afterwards.
      if (runs.length === 2) throw new Defer(60_000, 'waiting');
    });
    const id = await q.enqueue('work', {}, { dedupeKey: 'work:1' });
    q.start();
    await waitFor(() => runs.length === 2, 5_000);
    await waitFor(async () => (await jobs.get(id))?.status === 'pending');
    await q.wake('work:1');
    await waitFor(async () => (await jobs.get(id))?.status === 'done', 5_000);
    expect(runs).toHaveLength(3);
    expect(await jobs.get(id)).toMatchObject({ attempts: 1 });
  });
});
