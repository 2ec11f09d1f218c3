import { afterEach, expect, it } from 'vitest';
import { mediaRejectedReply } from '../../src/core/inbox/notices.ts';
import { systemClock, type ManualClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { imageMessage, textMessage, type GraphSend, type World } from './inbox-world.ts';
import { consentedCustomer, GREETING, say, startMarketingWorld, textsTo } from '../marketing/marketing-world.ts';

const ANNA = '4915111111111';
const CARO = '4915133333333';
/**
 * Automated messages queued behind an earlier message of their conversation leave as soon as that one was sent:
 * the earlier message's job wakes theirs, whatever kind of message it is.
 */
describeEachStore('automated messages queued behind an earlier message', (dialect) => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  /** A world whose queue runs by itself on the real clock (deferral and wake-up times are real). */
  async function liveWorld(): Promise<World> {
    w = await startMarketingWorld(dialect, false, { clock: systemClock as ManualClock });
    return w;
  }

  /**
   * Holds the provider's answer to the first send `matching` until release(); records when each send arrived.
   */
  function holdFirst(world: World, matching: (send: GraphSend) => boolean) {
    const arrivals = new Map<GraphSend, number>();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held: GraphSend | undefined;
    world.graph.beforeAnswer = async (send) => {
      arrivals.set(send, Date.now());
      if (held || !matching(send)) return;
      held = send;
      await released;
    };
    return { arrivals, isHeld: () => held !== undefined, release };
  }

  /** When the message was marked sent (the provider accepted it and sparsam stored that): its `updated_at`. */
  async function sentAt(world: World, messageId: string): Promise<number> {
    const row = await world.sparsam.store.db
      .selectFrom('messages')
      .select(['status', 'updated_at'])
      .where('id', '=', messageId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('sent');
    return Number(row.updated_at);
  }

  /**
   * Waits until a send waits for an earlier message of its conversation still pending: deferred (its job due later)
   * or, when the earlier send runs in the same process, waiting for it (its job running, its message still queued).
   * Answers when the fallback poll would run a deferred job (its `run_at`, 1.5 s ± 25 % after the deferral), or
   * undefined for a send waiting in the process (no poll involved).
   */
  async function untilDeferred(world: World): Promise<number | undefined> {
    let fallbackAt: number | undefined;
    await until(async () => {
      const db = world.sparsam.store.db;
      const deferred = await db
        .selectFrom('jobs')
        .select(['run_at'])
        .where('queue', '=', 'outbound-send')
        .where('status', '=', 'pending')
        .execute();
      const later = deferred.map((j) => Number(j.run_at)).filter((at) => at > Date.now() + 500);
      if (later.length > 0) {
        fallbackAt = Math.max(...later);
        return true;
      }
      const running = await db
        .selectFrom('jobs')
        .select('payload')
        .where('queue', '=', 'outbound-send')
        .where('status', '=', 'running')
        .execute();
      const ids = running.map((j) => (JSON.parse(j.payload) as { messageId: string }).messageId);
      if (ids.length === 0) return false;
      const queued = await db
        .selectFrom('messages')
        .select('id')
        .where('id', 'in', ids)
        .where('status', '=', 'queued')
        .execute();
      return queued.length > 0;
    });
    return fallbackAt;
  }

  it('the marketing opt-in confirmation leaves right after the agent reply before it was sent', async () => {
    const world = await liveWorld();
    await consentedCustomer(world, ANNA);
    const list = await world.api('GET', '/api/v1/conversations?view=all');
    const conversationId = (list.json().items as { id: string }[])[0]!.id;
    const gate = holdFirst(world, (s) => s.type === 'text' && textOf(s) === 'Gern, bis morgen.');
    world.sparsam.jobs.start();

    const reply = await world.api('POST', `/api/v1/conversations/${conversationId}/messages`, {
      text: 'Gern, bis morgen.',
    });
    expect(reply.statusCode).toBe(202);
    await until(() => gate.isHeld()); // the provider has the agent's reply and has not answered yet
    const res = await world.webhook(textMessage(systemClock, 'wamid.NEWS1', 'NEWS', ANNA));
    expect(res.statusCode).toBe(200);
    const fallbackAt = await untilDeferred(world); // the confirmation waits for the agent's reply

    gate.release();
    await until(() => [...gate.arrivals.keys()].some((s) => textOf(s).includes('Neuigkeiten')), 5_000);
    const confirmation = [...gate.arrivals].find(([s]) => textOf(s).includes('Neuigkeiten'))!;
    const waited = confirmation[1] - (await sentAt(world, reply.json().message.id as string));
    expect(waited).toBeGreaterThanOrEqual(0);
    // Woken by the earlier send, not found by the fallback poll.
    if (fallbackAt !== undefined) expect(confirmation[1]).toBeLessThan(fallbackAt);
    else expect(waited).toBeLessThan(1_000);
  });

  it('the privacy notice leaves right after the broadcast before it was sent', async () => {
    const world = await liveWorld();
    // Caro agreed to news on a paper card, never to the service: the broadcast opens a conversation waiting for
    // consent, and her answer gets the privacy notice.
    const imported = await world.api(
      'POST',
      '/api/v1/marketing/consents',
      { channelId: 'wa-main', address: CARO, evidence: 'Anmeldekarte Nr. 4711', collectedAt: '2026-01-20T10:00:00Z' },
      world.adminToken,
    );
    expect(imported.statusCode).toBe(201);
    const gate = holdFirst(world, (s) => s.type === 'template');
    world.sparsam.jobs.start();

    const sent = await world.api(
      'POST',
      '/api/v1/marketing/broadcasts',
      { channelId: 'wa-main', template: { name: 'spring_offer', language: 'de', parameters: ['Gratis-Check'] } },
      world.adminToken,
    );
    expect(sent.statusCode).toBe(202);
    await until(() => gate.isHeld());
    const res = await world.webhook(textMessage(systemClock, 'wamid.CARO1', 'Was kostet das?', CARO));
    expect(res.statusCode).toBe(200);
    const fallbackAt = await untilDeferred(world); // the notice waits for the broadcast

    gate.release();
    await until(() => [...gate.arrivals.keys()].some((s) => s.type === 'interactive'), 5_000);
    const notice = [...gate.arrivals].find(([s]) => s.type === 'interactive')!;
    const template = await world.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('kind', '=', 'template')
      .executeTakeFirstOrThrow();
    const waited = notice[1] - (await sentAt(world, template.id));
    expect(waited).toBeGreaterThanOrEqual(0);
    // Woken by the earlier send, not found by the fallback poll.
    if (fallbackAt !== undefined) expect(notice[1]).toBeLessThan(fallbackAt);
    else expect(waited).toBeLessThan(1_000);
  });

  it('every queued message of every kind has its own send job, found by its message id', async () => {
    const world = await startMarketingWorld(dialect, true, { media: 'reject' });
    w = world;
    // Notice, greeting (Monday 10:00 in Berlin: no away message), keyword reply, media-rejected reply, an agent's
    // reply and a broadcast: each one is sent, and each one's job carries its message id in its key.
    await consentedCustomer(world, ANNA);
    await say(world, ANNA, 'NEWS');
    await world.webhook(imageMessage(world.clock, 'wamid.IMG1', 'photo-a', ANNA));
    await world.drain();
    const list = await world.api('GET', '/api/v1/conversations?view=all');
    const conversationId = (list.json().items as { id: string }[])[0]!.id;
    expect(
      (await world.api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: 'Bis morgen.' })).statusCode,
    ).toBe(202);
    const broadcast = await world.api(
      'POST',
      '/api/v1/marketing/broadcasts',
      { channelId: 'wa-main', template: { name: 'spring_offer', language: 'de', parameters: ['Gratis-Check'] } },
      world.adminToken,
    );
    expect(broadcast.statusCode).toBe(202);
    await world.drain();

    expect(textsTo(world, ANNA)).toEqual(
      expect.arrayContaining([
        GREETING,
        'Bis morgen.',
        mediaRejectedReply('de'),
        expect.stringContaining('Neuigkeiten'),
      ]),
    );
    expect(world.graph.sends.filter((s) => s.type === 'interactive')).toHaveLength(1); // the privacy notice
    expect(world.graph.sends.filter((s) => s.type === 'template')).toHaveLength(1);
    const db = world.sparsam.store.db;
    const outbound = await db
      .selectFrom('messages')
      .select(['id', 'status'])
      .where('direction', 'in', ['out', 'system'])
      .execute();
    expect(outbound.length).toBeGreaterThanOrEqual(6);
    expect(outbound.every((m) => m.status === 'sent')).toBe(true);
    const keys = (await db.selectFrom('jobs').select('dedupe_key').where('queue', '=', 'outbound-send').execute()).map(
      (j) => j.dedupe_key,
    );
    expect(keys.sort()).toEqual(outbound.map((m) => `outbound-send:${m.id}`).sort());
  });
});

function textOf(send: GraphSend): string {
  return (send.body.text as { body?: string } | undefined)?.body ?? '';
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
