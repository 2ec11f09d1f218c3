import type { Kysely } from 'kysely';
import type { MessageRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import type { OutboundPort, OutboundTarget } from '../ports/outbound.port.ts';
import { groupCommitFor, type GroupCommit } from './job.store.ts';
import { applyParkedStatuses } from './parked-status.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { toConversation, toMessage } from './records.ts';

/** Error code of a message whose send was interrupted (sparsam stopped during the provider call). */
export const SEND_UNCONFIRMED = 'SEND_UNCONFIRMED';

/** {@link OutboundPort} over Kysely, on both dialects. */
export class OutboundStore implements OutboundPort {
  readonly #writes: GroupCommit;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly refs: ProviderRefs,
  ) {
    this.#writes = groupCommitFor(db);
  }

  async load(messageId: string): Promise<OutboundTarget | undefined> {
    const message = await this.db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
    if (!message) return undefined;
    const conversation = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', message.conversation_id)
      .executeTakeFirst();
    const contact = conversation
      ? await this.db.selectFrom('contacts').selectAll().where('id', '=', conversation.contact_id).executeTakeFirst()
      : undefined;
    const channel = await this.db
      .selectFrom('channels')
      .select('enabled')
      .where('id', '=', message.channel_id)
      .executeTakeFirst();
    return {
      message: toMessage(message),
      conversation: conversation && toConversation(conversation),
      contact,
      channelEnabled: channel?.enabled === 1,
    };
  }

  async markSending(messageId: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) =>
      db
        .updateTable('messages')
        .set({ status: 'sending', updated_at: now })
        .where('id', '=', messageId)
        .where('status', '=', 'queued')
        .where('provider_message_id', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseSending(messageId: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) =>
      db
        .updateTable('messages')
        .set({ status: 'queued', updated_at: now })
        .where('id', '=', messageId)
        .where('status', '=', 'sending')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async markSent(messageId: string, providerMessageId: string | null, now: number): Promise<MessageRecord | undefined> {
    const ref = this.refs.ref(providerMessageId);
    const updated = await this.#writes.run((db) =>
      db
        .updateTable('messages')
        .set({
          status: 'sent',
          // Stored as a keyed hash: a WhatsApp id carries the customer's number (see ProviderRefs).
          provider_message_id: ref,
          error_code: null,
          error_reason: null,
          updated_at: now,
        })
        .where('id', '=', messageId)
        .where((eb) =>
          eb.or([
            eb('status', '=', 'sending'),
            eb.and([eb('status', '=', 'failed'), eb('error_code', '=', SEND_UNCONFIRMED)]),
          ]),
        )
        .returningAll()
        .executeTakeFirst(),
    );
    const row = updated && toMessage(updated);
    if (!row || ref === null) return row;
    // The provider may have reported the status before the id was stored: the webhook parked it. Looked for only
    // after the id is committed, so that of this look and the webhook's own look after its commit, at least one
    // sees the other's write. A plain read first: almost always nothing is parked, and then nothing is written.
    const parked = await this.db
      .selectFrom('parked_statuses')
      .select('status')
      .where('channel_id', '=', row.channel_id)
      .where('provider_ref', '=', ref)
      .limit(1)
      .executeTakeFirst();
    if (!parked) return row;
    const apply = (db: Kysely<Database>) => applyParkedStatuses(db, row.channel_id, ref, now);
    const applied = await this.#writes.run((db) => (db.isTransaction ? apply(db) : db.transaction().execute(apply)));
    return applied ?? row;
  }

  async markFailed(messageId: string, code: string, reason: string, now: number): Promise<MessageRecord | undefined> {
    const row = await this.#writes.run((db) =>
      db
        .updateTable('messages')
        .set({ status: 'failed', error_code: code, error_reason: reason, updated_at: now })
        .where('id', '=', messageId)
        .where('status', 'in', ['queued', 'sending'])
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toMessage(row);
  }

  async earlierPendingOutbound(messageId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('messages as m')
      .innerJoin('messages as p', 'p.conversation_id', 'm.conversation_id')
      .select('p.id')
      .where('m.id', '=', messageId)
      .where('m.status', '=', 'queued')
      .where('p.direction', 'in', ORDERED_DIRECTIONS)
      .where('p.status', 'in', PENDING)
      .where((eb) =>
        eb.or([
          eb('p.created_at', '<', eb.ref('m.created_at')),
          eb.and([eb('p.created_at', '=', eb.ref('m.created_at')), eb('p.id', '<', eb.ref('m.id'))]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  async nextQueuedOutbound(messageId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('messages as m')
      .innerJoin('messages as n', 'n.conversation_id', 'm.conversation_id')
      .select('n.id')
      .where('m.id', '=', messageId)
      .where('m.status', 'not in', PENDING)
      .where('n.direction', 'in', ORDERED_DIRECTIONS)
      .where('n.status', '=', 'queued')
      .where((eb) =>
        eb.or([
          eb('n.created_at', '>', eb.ref('m.created_at')),
          eb.and([eb('n.created_at', '=', eb.ref('m.created_at')), eb('n.id', '>', eb.ref('m.id'))]),
        ]),
      )
      .orderBy('n.created_at')
      .orderBy('n.id')
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }
}

/** Messages that reach the customer through outbound-send, in the order they were created. */
const ORDERED_DIRECTIONS = ['out', 'system'] as const;
/** Statuses of a message still on its way to the provider: a later message of its conversation waits for it. */
const PENDING = ['queued', 'sending'] as const;
