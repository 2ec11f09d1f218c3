import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, buttonReply, startWorld, statusUpdate, textMessage, type World } from './inbox-world.ts';

type Status = 'sent' | 'delivered' | 'read' | 'failed';

describeEachStore('delivery statuses that arrive before the send is recorded', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  async function openConversation(): Promise<string> {
    await w.webhook(textMessage(w.clock, 'wamid.IN1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.IN2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const res = await w.api('GET', '/api/v1/conversations?view=all');
    return (res.json().items as { id: string }[])[0]!.id;
  }

  /** Sends an agent reply; the provider reports `statuses` for it before it answers the send request. */
  async function replyWithEarlyStatuses(
    conversationId: string,
    statuses: Status[],
    error?: { code: number; title: string; details: string },
  ) {
    const seen: { parked: number; raw: string }[] = [];
    w.graph.beforeAnswer = async (send) => {
      if (send.type !== 'text') return;
      for (const status of statuses) {
        const res = await w.webhook(statusUpdate(w.clock, send.id, status, CUSTOMER, error));
        expect(res.statusCode).toBe(200);
      }
      const rows = await w.sparsam.store.db.selectFrom('parked_statuses').selectAll().execute();
      seen.push({ parked: rows.length, raw: JSON.stringify(rows) });
    };
    const reply = await w.api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: 'Bis morgen.' });
    expect(reply.statusCode).toBe(202);
    await w.drain();
    w.graph.beforeAnswer = undefined;
    const detail = await w.api('GET', `/api/v1/conversations/${conversationId}`);
    const message = (
      detail.json().messages as { id: string; status: string; error: { code: string; reason: string } | null }[]
    ).find((m) => m.id === reply.json().message.id)!;
    return { message, seen, wamid: w.graph.sends.at(-1)!.id };
  }

  it('ends delivered when sent and delivered arrive before the provider id is stored', async () => {
    const id = await openConversation();
    const { message, seen, wamid } = await replyWithEarlyStatuses(id, ['sent', 'delivered']);
    expect(message.status).toBe('delivered');
    // While waiting, the statuses were kept, content-free: no provider id, no phone number.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.parked).toBe(2);
    expect(seen[0]!.raw).not.toContain(wamid);
    expect(seen[0]!.raw).not.toContain(CUSTOMER);
    expect(await w.sparsam.store.db.selectFrom('parked_statuses').selectAll().execute()).toEqual([]);
  });

  it('ends read when read arrives early and a late delivered does not move it back', async () => {
    const id = await openConversation();
    const { message, wamid } = await replyWithEarlyStatuses(id, ['read', 'delivered']);
    expect(message.status).toBe('read');
    await w.webhook(statusUpdate(w.clock, wamid, 'delivered'));
    const detail = await w.api('GET', `/api/v1/conversations/${id}`);
    expect((detail.json().messages as { id: string; status: string }[]).find((m) => m.id === message.id)!.status).toBe(
      'read',
    );
  });

  it("shows the provider's reason for a failure reported before the provider id was stored", async () => {
    const id = await openConversation();
    const { message } = await replyWithEarlyStatuses(id, ['failed'], {
      code: 131026,
      title: 'Message undeliverable',
      details: 'Message Undeliverable.',
    });
    expect(message.status).toBe('failed');
    expect(message.error).toEqual({ code: '131026', reason: 'Message Undeliverable.' });
  });

  it('loses no status that races the send record (webhooks and sends at the same time)', async () => {
    const id = await openConversation();
    const webhooks: Promise<unknown>[] = [];
    // Not awaited: the provider's status webhook and sparsam's recording of the send run at the same time.
    w.graph.beforeAnswer = async (send) => {
      if (send.type === 'text') webhooks.push(w.webhook(statusUpdate(w.clock, send.id, 'delivered')));
    };
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: `Antwort ${i}` });
      ids.push(reply.json().message.id as string);
    }
    await w.drain();
    await Promise.all(webhooks);
    w.graph.beforeAnswer = undefined;
    expect(webhooks).toHaveLength(20);
    const rows = await w.sparsam.store.db
      .selectFrom('messages')
      .select(['id', 'status'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'delivered'));
    expect(await w.sparsam.store.db.selectFrom('parked_statuses').selectAll().execute()).toEqual([]);
  });

  it('keeps a status for an id no message carries for an hour, then the retention sweep deletes it', async () => {
    const res = await w.webhook(statusUpdate(w.clock, 'wamid.NOT-OURS', 'delivered'));
    expect(res.statusCode).toBe(200);
    // A redelivery of the same status keeps one row.
    await w.webhook(statusUpdate(w.clock, 'wamid.NOT-OURS', 'delivered'));
    const parked = () => w.sparsam.store.db.selectFrom('parked_statuses').selectAll().execute();
    expect(await parked()).toHaveLength(1);
    expect((await w.sparsam.retention.sweep()).parkedStatusesExpired).toBe(0);
    expect(await parked()).toHaveLength(1);
    w.clock.advance(HOUR_MS + 60_000);
    expect((await w.sparsam.retention.sweep()).parkedStatusesExpired).toBe(1);
    expect(await parked()).toEqual([]);
    expect(await w.sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
  });

  it('brings nothing back when a status arrives for a message of an erased conversation', async () => {
    const id = await openConversation();
    const reply = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Erledigt.' });
    expect(reply.statusCode).toBe(202);
    await w.drain();
    const wamid = w.graph.sends.at(-1)!.id;
    // Closing erases at once in this inbox (eraseAfterCloseDays: 0).
    expect((await w.api('POST', `/api/v1/conversations/${id}/close`)).statusCode).toBe(200);
    expect(await w.sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);

    for (const status of ['delivered', 'read'] as const) {
      expect((await w.webhook(statusUpdate(w.clock, wamid, status))).statusCode).toBe(200);
    }
    await w.drain();
    expect(await w.sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    expect(await w.sparsam.store.db.selectFrom('conversations').select('id').execute()).toEqual([]);
    expect((await w.api('GET', `/api/v1/conversations/${id}`)).statusCode).toBe(404);
    expect((await w.api('GET', '/api/v1/conversations?view=all')).json().items).toEqual([]);
    w.clock.advance(HOUR_MS + 60_000);
    await w.sparsam.retention.sweep();
    expect(await w.sparsam.store.db.selectFrom('parked_statuses').selectAll().execute()).toEqual([]);
  });

  it('applies many statuses of one webhook in their order, parking only the unknown id', async () => {
    const id = await openConversation();
    const ids: string[] = [];
    for (const text of ['Erste Antwort.', 'Zweite Antwort.']) {
      const reply = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text });
      expect(reply.statusCode).toBe(202);
      ids.push(reply.json().message.id);
      await w.drain();
    }
    const [a, b] = w.graph.sends.slice(-2).map((s) => s.id);
    // Meta may batch statuses: A goes sent → delivered → read (a repeated 'sent' first), B only to delivered and
    // then a late 'sent' that must not move it back, and one id that no message carries (yet).
    const reports: [string, Status][] = [
      [a!, 'sent'],
      [a!, 'delivered'],
      [b!, 'delivered'],
      [a!, 'read'],
      [b!, 'sent'],
      ['wamid.UNKNOWN-BATCH', 'delivered'],
    ];
    const body = statusUpdate(w.clock, a!, 'sent');
    const value = body.entry[0]!.changes[0]!.value as unknown as { statuses: Record<string, unknown>[] };
    value.statuses = reports.map(([wamid, status]) => ({ ...value.statuses[0], id: wamid, status }));
    expect((await w.webhook(body)).statusCode).toBe(200);
    const detail = await w.api('GET', `/api/v1/conversations/${id}`);
    const status = (messageId: string) =>
      (detail.json().messages as { id: string; status: string }[]).find((m) => m.id === messageId)!.status;
    expect(status(ids[0]!)).toBe('read');
    expect(status(ids[1]!)).toBe('delivered');
    const parked = await w.sparsam.store.db.selectFrom('parked_statuses').select('status').execute();
    expect(parked).toEqual([{ status: 'delivered' }]);
    // The same webhook again (a provider's retry) changes nothing and parks nothing twice.
    expect((await w.webhook(body)).statusCode).toBe(200);
    expect(await w.sparsam.store.db.selectFrom('parked_statuses').select('status').execute()).toEqual(parked);
  });
});
