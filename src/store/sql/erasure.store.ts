import { sql, type Kysely, type Transaction } from 'kysely';
import type { ContactRecord, ConversationRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { toConversation } from './records.ts';
import type { ErasedRowCounts, ErasurePort, Tombstones } from '../../core/ports/erasure.port.ts';

const none = (): ErasedRowCounts => ({ conversations: 0, messages: 0, media: 0, consentEvents: 0, contacts: 0 });

/**
 * Remembers the erased inbound messages' provider refs (already keyed hashes, never the ids) in `inbound_receipts`
 * until the provider's retry window has passed, so that a redelivery is recognised and has no effect.
 */
async function writeTombstones(tx: Transaction<Database>, ids: readonly string[], t: Tombstones): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .insertInto('inbound_receipts')
    .columns(['channel_id', 'provider_ref', 'received_at', 'expires_at'])
    .expression((eb) =>
      eb
        .selectFrom('messages')
        .select([
          'channel_id',
          'provider_message_id as provider_ref',
          eb.val(t.now).as('received_at'),
          eb.val(t.until).as('expires_at'),
        ])
        .where('conversation_id', 'in', [...ids])
        .where('direction', '=', 'in')
        .where('created_at', '>=', t.receivedSince)
        .where('provider_message_id', 'is not', null),
    )
    .onConflict((oc) => oc.columns(['channel_id', 'provider_ref']).doNothing())
    .execute();
}

async function deleteConversations(
  tx: Transaction<Database>,
  ids: string[],
  counts: ErasedRowCounts,
  tombstones?: Tombstones,
): Promise<void> {
  if (ids.length === 0) return;
  if (tombstones) await writeTombstones(tx, ids, tombstones);
  const m = await tx.deleteFrom('messages').where('conversation_id', 'in', ids).executeTakeFirst();
  const media = await tx.deleteFrom('media').where('conversation_id', 'in', ids).executeTakeFirst();
  await tx.deleteFrom('mentions').where('conversation_id', 'in', ids).execute();
  await tx.deleteFrom('csat_surveys').where('conversation_id', 'in', ids).execute();
  const c = await tx.deleteFrom('conversations').where('id', 'in', ids).executeTakeFirst();
  counts.messages += Number(m.numDeletedRows);
  counts.media += Number(media.numDeletedRows);
  counts.conversations += Number(c.numDeletedRows);
}

/** ErasurePort over the main database; `scrub` is the store's (SQLite checkpoint, PostgreSQL no-op). */
export class ErasureStore implements ErasurePort {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly scrubFn: () => Promise<void>,
  ) {}

  async findConversation(id: string): Promise<(ConversationRecord & { label_prefix: string | null }) | undefined> {
    const row = await this.db
      .selectFrom('conversations')
      .leftJoin('inboxes', 'inboxes.id', 'conversations.inbox_id')
      .selectAll('conversations')
      .select('inboxes.label_prefix')
      .where('conversations.id', '=', id)
      .executeTakeFirst();
    return row && { ...toConversation(row), label_prefix: row.label_prefix };
  }

  findContact(id: string): Promise<(ContactRecord & { label_prefix: string | null }) | undefined> {
    return this.db
      .selectFrom('contacts')
      .leftJoin('inboxes', 'inboxes.id', 'contacts.inbox_id')
      .selectAll('contacts')
      .select('inboxes.label_prefix')
      .where('contacts.id', '=', id)
      .executeTakeFirst();
  }

  async conversationIdsOfContact(contactId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('conversations').select('id').where('contact_id', '=', contactId).execute();
    return rows.map((r) => r.id);
  }

  deleteConversation(id: string, tombstones?: Tombstones): Promise<ErasedRowCounts> {
    return this.db.transaction().execute(async (tx) => {
      const counts = none();
      await deleteConversations(tx, [id], counts, tombstones);
      return counts;
    });
  }

  deleteConversations(ids: readonly string[], tombstones?: Tombstones): Promise<Map<string, ErasedRowCounts>> {
    return this.db.transaction().execute(async (tx) => {
      const result = new Map<string, ErasedRowCounts>();
      if (ids.length === 0) return result;
      const list = [...ids];
      const existing = await tx.selectFrom('conversations').select('id').where('id', 'in', list).execute();
      for (const id of list) result.set(id, none());
      for (const row of existing) result.get(row.id)!.conversations = 1;
      for (const table of ['messages', 'media'] as const) {
        const counts = await tx
          .selectFrom(table)
          .select(['conversation_id', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('conversation_id', 'in', list)
          .groupBy('conversation_id')
          .execute();
        for (const c of counts) result.get(c.conversation_id)![table] = Number(c.n);
      }
      if (tombstones) await writeTombstones(tx, list, tombstones);
      await tx.deleteFrom('messages').where('conversation_id', 'in', list).execute();
      await tx.deleteFrom('media').where('conversation_id', 'in', list).execute();
      await tx.deleteFrom('mentions').where('conversation_id', 'in', list).execute();
      await tx.deleteFrom('csat_surveys').where('conversation_id', 'in', list).execute();
      await tx.deleteFrom('conversations').where('id', 'in', list).execute();
      return result;
    });
  }

  deleteContact(
    id: string,
    options: { keepConsentProofUntil?: number; tombstones?: Tombstones } = {},
  ): Promise<ErasedRowCounts> {
    return this.db.transaction().execute(async (tx) => {
      const counts = none();
      const ids = (await tx.selectFrom('conversations').select('id').where('contact_id', '=', id).execute()).map(
        (r) => r.id,
      );
      for (let i = 0; i < ids.length; i += 500) {
        await deleteConversations(tx, ids.slice(i, i + 500), counts, options.tombstones);
      }
      if (options.keepConsentProofUntil !== undefined) {
        await tx
          .updateTable('consent_events')
          .set({ evidence_message_id: null, evidence_enc: null, proof_until: options.keepConsentProofUntil })
          .where('contact_id', '=', id)
          .execute();
      } else {
        const consent = await tx.deleteFrom('consent_events').where('contact_id', '=', id).executeTakeFirst();
        counts.consentEvents = Number(consent.numDeletedRows);
      }
      const contacts = await tx.deleteFrom('contacts').where('id', '=', id).executeTakeFirst();
      counts.contacts = Number(contacts.numDeletedRows);
      return counts;
    });
  }

  async contactIsOrphan(contactId: string): Promise<boolean> {
    const conv = await this.db
      .selectFrom('conversations')
      .select('id')
      .where('contact_id', '=', contactId)
      .limit(1)
      .executeTakeFirst();
    if (conv) return false;
    const marketing = await this.db
      .selectFrom('consent_events')
      .select('action')
      .where('contact_id', '=', contactId)
      .where('purpose', '=', 'marketing')
      .orderBy('at', 'desc')
      .orderBy(sql`case when action = 'withdraw' then 0 else 1 end`)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return marketing?.action !== 'grant';
  }

  scrub(): Promise<void> {
    return this.scrubFn();
  }
}
