import { sql, type Kysely } from 'kysely';
import type { ContactRecord, MessageRecord } from '../../core/ports/model.ts';
import type { ContactRow, ConversationRow, Database, MessageRow } from '../database.ts';
import type { OutboundPort, OutboundTarget } from '../ports/outbound.port.ts';
import { groupCommitFor, type GroupCommit } from './job.store.ts';
import { applyParkedStatuses } from './parked-status.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { toConversation, toMessage } from './records.ts';

/** Error code of a message whose send was interrupted (sparsam stopped during the provider call). */
export const SEND_UNCONFIRMED = 'SEND_UNCONFIRMED';

/** {@link OutboundPort} over Kysely, on both dialects. */
export class OutboundStore implements OutboundPort {
  readonly #writes: GroupCommit;

  // The queries of every send, compiled once (see PreparedQuery).
  readonly #load = new PreparedQuery(1, (db, messageId: string) =>
    db
      .selectFrom('messages as m')
      .leftJoin('conversations as c', 'c.id', 'm.conversation_id')
      .leftJoin('contacts as k', 'k.id', 'c.contact_id')
      .leftJoin('channels as ch', 'ch.id', 'm.channel_id')
      .selectAll('m')
      .select(CONVERSATION_COLUMNS.map((column) => sql.ref(`c.${column}`).as(`c__${column}`)))
      .select(CONTACT_COLUMNS.map((column) => sql.ref(`k.${column}`).as(`k__${column}`)))
      .select('ch.enabled as ch__enabled')
      .select((eb) =>
        eb
          .selectFrom('messages as p')
          .select('p.id')
          .whereRef('p.conversation_id', '=', 'm.conversation_id')
          .where('p.direction', 'in', ORDERED_DIRECTIONS)
          .where('p.status', 'in', PENDING)
          .where((w) =>
            w.or([
              w('p.created_at', '<', w.ref('m.created_at')),
              w.and([w('p.created_at', '=', w.ref('m.created_at')), w('p.id', '<', w.ref('m.id'))]),
            ]),
          )
          .limit(1)
          .as('earlier__id'),
      )
      .where('m.id', '=', messageId),
  );

  readonly #markSending = new PreparedQuery(2, (db, messageId: string, now: number) =>
    db
      .updateTable('messages')
      .set({ status: 'sending', updated_at: now })
      .where('id', '=', messageId)
      .where('status', '=', 'queued')
      .where('provider_message_id', 'is', null),
  );

  readonly #markSent = new PreparedQuery(3, (db, messageId: string, ref: string | null, now: number) =>
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
      .returningAll(),
  );

  readonly #parked = new PreparedQuery(2, (db, channelId: string, ref: string) =>
    db
      .selectFrom('parked_statuses')
      .select('status')
      .where('channel_id', '=', channelId)
      .where('provider_ref', '=', ref)
      .limit(1),
  );

  readonly #nextQueued = new PreparedQuery(1, (db, messageId: string) =>
    db
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
      .limit(1),
  );

  constructor(
    private readonly db: Kysely<Database>,
    private readonly refs: ProviderRefs,
  ) {
    this.#writes = groupCommitFor(db);
  }

  /**
   * One read: the message with its conversation, contact and channel switch joined, and the send-order check (an
   * earlier outbound message of the conversation still on its way) as a subquery. A send used to cost five reads
   * here (the order check and four lookups by id).
   */
  async load(messageId: string): Promise<OutboundTarget | undefined> {
    const row = (await this.#load.execute(this.db, messageId)).rows[0] as
      (MessageRow & Record<string, unknown>) | undefined;
    if (!row) return undefined;
    const message = {} as Record<string, unknown>;
    const conversation = {} as Record<string, unknown>;
    const contact = {} as Record<string, unknown>;
    for (const [name, value] of Object.entries(row)) {
      if (name.startsWith('c__')) conversation[name.slice(3)] = value;
      else if (name.startsWith('k__')) contact[name.slice(3)] = value;
      else if (!name.includes('__')) message[name] = value;
    }
    const earlier = row.earlier__id;
    return {
      message: toMessage(message as unknown as MessageRow),
      conversation: row.c__id == null ? undefined : toConversation(conversation as unknown as ConversationRow),
      contact: row.k__id == null ? undefined : (contact as unknown as ContactRecord),
      channelEnabled: Number(row.ch__enabled) === 1,
      earlierPending: row.status === 'queued' && typeof earlier === 'string' ? earlier : undefined,
    };
  }

  async markSending(messageId: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) => this.#markSending.execute(db, messageId, now));
    return Number(result.numAffectedRows ?? 0) > 0;
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
    const updated = (await this.#writes.run((db) => this.#markSent.execute(db, messageId, ref, now))).rows[0];
    const row = updated && toMessage(updated);
    if (!row || ref === null) return row;
    // The provider may have reported the status before the id was stored: the webhook parked it. Looked for only
    // after the id is committed, so that of this look and the webhook's own look after its commit, at least one
    // sees the other's write. A plain read first: almost always nothing is parked, and then nothing is written.
    const parked = (await this.#parked.execute(this.db, row.channel_id, ref)).rows[0];
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

  async nextQueuedOutbound(messageId: string): Promise<string | undefined> {
    return (await this.#nextQueued.execute(this.db, messageId)).rows[0]?.id;
  }
}

/** Messages that reach the customer through outbound-send, in the order they were created. */
const ORDERED_DIRECTIONS = ['out', 'system'] as const;
/** Statuses of a message still on its way to the provider: a later message of its conversation waits for it. */
const PENDING = ['queued', 'sending'] as const;

/** Every column of a table row, checked by the compiler: a column added to the row type must be added here. */
function allColumns<Row>() {
  return <const C extends readonly (keyof Row & string)[]>(
    columns: C &
      ([Exclude<keyof Row, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof Row, C[number]> }),
  ): C => columns;
}

const CONVERSATION_COLUMNS = allColumns<ConversationRow>()([
  'id',
  'inbox_id',
  'channel_id',
  'contact_id',
  'label_seq',
  'state',
  'assignee_id',
  'labels',
  'labels_legacy_enc',
  'unread',
  'created_at',
  'last_activity_at',
  'last_inbound_at',
  'consent_requested_at',
  'closed_at',
  'erase_at',
  'notice_version',
  'priority',
  'snoozed_until',
]);

const CONTACT_COLUMNS = allColumns<ContactRow>()([
  'id',
  'channel_id',
  'inbox_id',
  'lookup_hash',
  'label_seq',
  'address_enc',
  'profile_name_enc',
  'created_at',
  'last_inbound_at',
]);
