import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { describeEachStore } from '../support/stores.ts';
import { buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

describeEachStore('a conversation closed while a webhook group is written', (dialect) => {
  let w: World;
  beforeEach(async () => {
    // Closed conversations are kept for a week: the close leaves the row, only its state changes.
    w = await startWorld(dialect, { eraseAfterCloseDays: 7 });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await w.close();
  });

  it('writes the message as if it had come after the close: a new conversation, nothing in the closed one', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.C1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.C2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const first = (await w.api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    expect(first).toHaveLength(1);
    const closedId = first[0]!.id;

    // The group reads the customer's current conversation before its transaction; a staff member closes it right
    // after that read, before the group writes.
    // (read with the contact: ContactStore.findByLookupsWithCurrent)
    const read = ContactStore.prototype.findByLookupsWithCurrent;
    let armed = true;
    vi.spyOn(ContactStore.prototype, 'findByLookupsWithCurrent').mockImplementation(async function (
      this: ContactStore,
      channelId,
      lookupHashes,
    ) {
      const found = await read.call(this, channelId, lookupHashes);
      if (armed && found.some((c) => c.current?.id === closedId)) {
        armed = false;
        const closed = await w.api('POST', `/api/v1/conversations/${closedId}/close`);
        expect(closed.statusCode).toBe(200);
      }
      return found;
    });

    const res = await w.webhook(textMessage(w.clock, 'wamid.C3', 'Noch eine Frage zum Termin'));
    expect(res.statusCode).toBe(200);
    expect(armed).toBe(false);
    await w.drain();

    // As after a close without the race: the closed conversation keeps what it had, and the message opens a new
    // one (the customer's consent stands, so it is open at once).
    const conversations = await w.sparsam.store.db
      .selectFrom('conversations')
      .select(['id', 'state', 'unread'])
      .orderBy('created_at')
      .execute();
    expect(conversations.map((c) => c.state)).toEqual(['closed', 'open']);
    expect(conversations[0]!.id).toBe(closedId);
    const inbound = await w.sparsam.store.db
      .selectFrom('messages')
      .select(['conversation_id'])
      .where('direction', '=', 'in')
      .orderBy('created_at')
      .execute();
    expect(inbound.map((m) => m.conversation_id)).toEqual([closedId, closedId, conversations[1]!.id]);
    const detail = await w.api('GET', `/api/v1/conversations/${conversations[1]!.id}`);
    expect((detail.json().messages as { text: string | null }[]).map((m) => m.text)).toContain(
      'Noch eine Frage zum Termin',
    );
  });
});
