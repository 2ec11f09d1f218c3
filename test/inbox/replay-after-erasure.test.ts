import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { DAY_MS, ManualClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

/**
 * Providers redeliver an unacknowledged webhook for up to 7 days. A redelivery of a message whose conversation was
 * erased must not bring the customer back (no contact, no conversation, no second privacy notice), and a message
 * the provider timestamped longer ago than that is a replay: acknowledged, without effect, audited content-free.
 */
describeEachStore('replays after erasure and stale messages', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => w.close());

  const counts = async () => ({
    contacts: (await w.sparsam.store.db.selectFrom('contacts').select('id').execute()).length,
    conversations: (await w.sparsam.store.db.selectFrom('conversations').select('id').execute()).length,
    messages: (await w.sparsam.store.db.selectFrom('messages').select('id').execute()).length,
  });

  it('acknowledges a redelivered webhook of an erased conversation and does nothing', async () => {
    const first = textMessage(w.clock, 'wamid.ERASED1', 'Bitte rufen Sie mich zurück');
    const agree = buttonReply(w.clock, 'wamid.ERASED2', CONSENT_AGREE_ID, 'Zustimmen');
    expect((await w.webhook(first)).statusCode).toBe(200);
    await w.drain();
    expect((await w.webhook(agree)).statusCode).toBe(200);
    await w.drain();
    const id = ((await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[])[0]!.id;
    // Closed with immediate erasure: the conversation and (nothing else needing it) the contact are gone.
    expect((await w.api('POST', `/api/v1/conversations/${id}/close`)).json().conversation.erased).toBe(true);
    expect(await counts()).toEqual({ contacts: 0, conversations: 0, messages: 0 });
    const sendsBefore = w.graph.sends.length;

    // Meta redelivers both webhooks an hour later.
    w.clock.advance(60 * 60 * 1000);
    expect((await w.webhook(first)).statusCode).toBe(200);
    expect((await w.webhook(agree)).statusCode).toBe(200);
    await w.drain();
    expect(await counts()).toEqual({ contacts: 0, conversations: 0, messages: 0 });
    expect(w.graph.sends.length).toBe(sendsBefore);
    // The tombstones are content-free keyed hashes, kept for the retry window and then swept.
    const stones = await w.sparsam.store.db.selectFrom('inbound_receipts').selectAll().execute();
    expect(stones.length).toBe(2);
    expect(JSON.stringify(stones)).not.toContain('wamid.ERASED');
    w.clock.advance(9 * DAY_MS);
    await w.sparsam.retention.sweep();
    expect(await w.sparsam.store.db.selectFrom('inbound_receipts').selectAll().execute()).toEqual([]);
  });

  it('refuses a message timestamped more than 7 days ago, audited without content, and stores nothing', async () => {
    const old = new ManualClock(w.clock.now().getTime() - 30 * DAY_MS);
    for (let i = 0; i < 3; i++) {
      expect((await w.webhook(textMessage(old, `wamid.OLD${i}`, 'Eine alte Nachricht'))).statusCode).toBe(200);
    }
    await w.drain();
    expect(await counts()).toEqual({ contacts: 0, conversations: 0, messages: 0 });
    expect(w.graph.sends).toEqual([]);
    const audit = (
      await w.api('GET', '/api/v1/compliance/audit?action=webhook.stale-message', undefined, w.dpoToken)
    ).json().items as { result: string; details: Record<string, unknown> }[];
    // Rate-limited: one entry for the burst, not one per message.
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ result: 'denied', details: { refused: 1, maxAgeDays: 7 } });
    expect(JSON.stringify(audit)).not.toContain(CUSTOMER);
    // A message within the window is taken as always.
    const recent = new ManualClock(w.clock.now().getTime() - 6 * DAY_MS);
    expect((await w.webhook(textMessage(recent, 'wamid.RECENT', 'Noch aktuell'))).statusCode).toBe(200);
    await w.drain();
    expect((await counts()).contacts).toBe(1);
  });
});
