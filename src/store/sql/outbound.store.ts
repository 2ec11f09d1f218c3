import { sql, type Kysely } from 'kysely';
import { outboundDedupeKey } from '../../core/inbox/outbox.ts';
import type { ContactRecord, MessageRecord } from '../../core/ports/model.ts';
import type { ConversationRow, Database, MessageRow } from '../database.ts';
import type { OutboundPort, OutboundTarget, SentMessage } from '../ports/outbound.port.ts';
import { groupCommitFor, type GroupCommit } from './job.store.ts';
import { applyParkedStatuses } from './parked-status.ts';
import { PreparedQuery, preparedBySize } from './prepared-query.ts';
import { TurnBatch } from './turn-batch.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { CONTACT_COLUMNS, CONVERSATION_COLUMNS, splitJoinedRow, toConversation, toMessage } from './records.ts';

/** Error code of a message whose send was interrupted (sparsam stopped during the provider call). */
export const SEND_UNCONFIRMED = 'SEND_UNCONFIRMED';

/** {@link OutboundPort} over Kysely, on both dialects. */
export class OutboundStore implements OutboundPort {
  readonly #writes: GroupCommit;

  // The statements of every send, compiled once per batch size (see PreparedQuery).
  readonly #load = preparedBySize(
    (n) => new PreparedQuery(n, (db, ...ids: string[]) => loadQuery(db).where('m.id', 'in', ids)),
  );
  readonly #markSending = preparedBySize(
    (n) =>
      new PreparedQuery(n + 1, (db, now: number, ...ids: string[]) =>
        db
          .updateTable('messages')
          .set({ status: 'sending', updated_at: now })
          .where('id', 'in', ids)
          .where('status', '=', 'queued')
          .where('provider_message_id', 'is', null)
          .returning('id'),
      ),
  );
  /** Arguments: now, then id and stored provider id of each message, then the ids again (for the index). */
  readonly #markSent = preparedBySize(
    (n) =>
      new PreparedQuery(3 * n + 1, (db, now: number, ...args: (string | null)[]) =>
        db
          .updateTable('messages')
          .set((eb) => {
            let ref = eb.case('id').when(args[0]!).then(args[1]!);
            for (let i = 1; i < n; i += 1) ref = ref.when(args[2 * i]!).then(args[2 * i + 1]!);
            return {
              status: 'sent' as const,
              provider_message_id: ref.else(null).end(),
              error_code: null,
              error_reason: null,
              updated_at: now,
            };
          })
          .where('id', 'in', args.slice(2 * n) as string[])
          .where((eb) =>
            eb.or([
              eb('status', '=', 'sending'),
              eb.and([eb('status', '=', 'failed'), eb('error_code', '=', SEND_UNCONFIRMED)]),
            ]),
          )
          .returningAll(),
      ),
  );
  readonly #afterSent = preparedBySize(
    (n) => new PreparedQuery(n + 1, (db, now: number, ...ids: string[]) => afterSentQuery(db, ids, now)),
  );
  readonly #nextQueued = preparedBySize(
    (n) => new PreparedQuery(n, (db, ...ids: string[]) => nextQueuedQuery(db).where('m.id', 'in', ids)),
  );

  // Calls made in the same turn of the event loop share one statement (see TurnBatch).
  readonly #loads = new TurnBatch((ids: readonly string[]) => this.#loadMany(ids));
  readonly #sendings = new TurnBatch((marks: readonly { id: string; now: number }[]) => this.#markSendingMany(marks));
  // The provider's answers arrive one by one at the pace of the channel: the 'sent' writes wait a moment for company
  // (a message is 'sending' a few milliseconds longer), and the wake-ups of the next messages follow as one batch.
  readonly #sents = new TurnBatch((marks: readonly SentMark[]) => this.#markSentMany(marks), 100, SENT_WINDOW_MS);
  readonly #nexts = new TurnBatch((ids: readonly string[]) => this.#nextQueuedMany(ids));

  constructor(
    private readonly db: Kysely<Database>,
    private readonly refs: ProviderRefs,
  ) {
    this.#writes = groupCommitFor(db);
  }

  /**
   * One read: the message with its conversation, contact and channel switch joined, and the send-order check (an
   * earlier outbound message of the conversation still on its way) as a subquery. A send used to cost five reads
   * here (the order check and four lookups by id); the sends that start together share this one.
   */
  load(messageId: string): Promise<OutboundTarget | undefined> {
    return this.#loads.run(messageId);
  }

  async #loadMany(ids: readonly string[]): Promise<(OutboundTarget | undefined)[]> {
    const rows = (await this.#load(ids.length).execute(this.db, ...ids)).rows as (MessageRow &
      Record<string, unknown>)[];
    const byId = new Map(rows.map((row) => [row.id, toTarget(row)]));
    return ids.map((id) => byId.get(id));
  }

  markSending(messageId: string, now: number): Promise<boolean> {
    return this.#sendings.run({ id: messageId, now });
  }

  async #markSendingMany(marks: readonly { id: string; now: number }[]): Promise<boolean[]> {
    const now = Math.max(...marks.map((m) => m.now));
    const { rows } = await this.#writes.run((db) =>
      this.#markSending(marks.length).execute(db, now, ...marks.map((m) => m.id)),
    );
    // Compare-and-set per call: of two calls for one message in a batch, only the first gets it.
    const marked = new Set(rows.map((r) => r.id));
    return marks.map((m) => marked.delete(m.id));
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

  async markSent(messageId: string, providerMessageId: string | null, now: number): Promise<SentMessage | undefined> {
    return await this.#sents.run({ id: messageId, ref: this.refs.ref(providerMessageId), now });
  }

  /**
   * One UPDATE for the messages the provider accepted in the same moment, each with its own provider id (stored as
   * a keyed hash: a WhatsApp id carries the customer's number, see ProviderRefs), then one read for all of them.
   */
  async #markSentMany(marks: readonly SentMark[]): Promise<(SentMessage | undefined)[]> {
    const now = Math.max(...marks.map((m) => m.now));
    const args = [...marks.flatMap((m) => [m.id, m.ref]), ...marks.map((m) => m.id)];
    const { rows: updated } = await this.#writes.run((db) => this.#markSent(marks.length).execute(db, now, ...args));
    const sent = new Map<string, SentMessage>(
      updated.map((row) => [row.id, { row: toMessage(row), toWake: undefined }]),
    );
    if (sent.size === 0) return marks.map(() => undefined);
    // Read only after the commit: the provider may have reported a status before the id was stored (the webhook
    // parked it), and of this look and the webhook's own look after its commit, at least one sees the other's write.
    // Almost always nothing is parked, and then nothing is written. The same read finds the conversation's next
    // queued message whose job waits to be woken, if any: the send's end wakes it without asking again.
    const ids = [...sent.keys()];
    const { rows: after } = await this.#afterSent(ids.length).execute(this.db, now, ...ids);
    for (const a of after) {
      const s = sent.get(a.id)!;
      s.toWake = a.wake ?? undefined;
      if (a.parked == null || s.row.provider_message_id === null) continue;
      const { channel_id: channelId, provider_message_id: ref } = s.row;
      const apply = (db: Kysely<Database>) => applyParkedStatuses(db, channelId, ref, now);
      const applied = await this.#writes.run((db) => (db.isTransaction ? apply(db) : db.transaction().execute(apply)));
      if (applied) s.row = applied;
    }
    // Of two calls for one message in a batch, the second changed nothing.
    return marks.map((m) => {
      const s = sent.get(m.id);
      sent.delete(m.id);
      return s;
    });
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

  nextQueuedOutbound(messageId: string): Promise<string | undefined> {
    return this.#nexts.run(messageId);
  }

  async #nextQueuedMany(ids: readonly string[]): Promise<(string | undefined)[]> {
    const { rows } = await this.#nextQueued(ids.length).execute(this.db, ...ids);
    const next = new Map(rows.map((r) => [r.id, r.next]));
    return ids.map((id) => next.get(id) ?? undefined);
  }
}

interface SentMark {
  id: string;
  /** The provider's message id as stored (keyed hash), or null. */
  ref: string | null;
  now: number;
}

/** The message with its conversation, contact, channel switch and send-order check (see OutboundStore.load). */
function loadQuery(db: Kysely<Database>) {
  return db
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
        .where('p.created_at', '<=', (eb) => eb.ref('m.created_at'))
        .where((w) => w.or([w('p.created_at', '<', w.ref('m.created_at')), w('p.id', '<', w.ref('m.id'))]))
        // The latest earlier one: a send waits for its direct predecessor only, which itself waited for the ones
        // before it; with any earlier one, a send behind a long queue would wait once per message ahead of it.
        .orderBy('p.created_at', 'desc')
        .orderBy('p.id', 'desc')
        .limit(1)
        .as('earlier__id'),
    );
}

function toTarget(row: MessageRow & Record<string, unknown>): OutboundTarget {
  const { own: message, joined } = splitJoinedRow(row);
  const earlier = row.earlier__id;
  return {
    message: toMessage(message as unknown as MessageRow),
    conversation: row.c__id == null ? undefined : toConversation(joined.get('c') as unknown as ConversationRow),
    contact: row.k__id == null ? undefined : (joined.get('k') as unknown as ContactRecord),
    channelEnabled: Number(row.ch__enabled) === 1,
    earlierPending: row.status === 'queued' && typeof earlier === 'string' ? earlier : undefined,
  };
}

/** How long a 'sent' write waits for others to share its statement (ms). */
const SENT_WINDOW_MS = 2;

/**
 * Per sent message: `parked`, not null when a delivery status for its provider id is parked; `wake`, the
 * conversation's next queued message (see {@link nextQueuedQuery}) if its send job needs a wake-up: deferred (pending,
 * due later) or running (its worker may be about to defer). A job that is due anyway finds this message sent.
 */
function afterSentQuery(db: Kysely<Database>, ids: readonly string[], now: number) {
  const sent = nextQueuedQuery(db)
    .where('m.id', 'in', ids)
    .select((eb) =>
      eb
        .selectFrom('parked_statuses as ps')
        .select('ps.status')
        .whereRef('ps.channel_id', '=', 'm.channel_id')
        .whereRef('ps.provider_ref', '=', 'm.provider_message_id')
        .limit(1)
        .as('parked'),
    )
    .as('s');
  return db
    .selectFrom(sent)
    .select(['s.id', 's.parked'])
    .select((eb) =>
      eb
        .selectFrom('jobs as j')
        .select(sql<string>`${sql.ref('s.next')}`.as('next'))
        .where('j.dedupe_key', '=', sql<string>`cast(${outboundDedupeKey('')} as text) || ${sql.ref('s.next')}`)
        .where((w) =>
          w.or([w('j.status', '=', 'running'), w.and([w('j.status', '=', 'pending'), w('j.run_at', '>', now)])]),
        )
        .as('wake'),
    );
}

/**
 * Per message that left the queue (neither queued nor sending any more): the first later 'queued' outbound message
 * of its conversation, as `next`.
 */
function nextQueuedQuery(db: Kysely<Database>) {
  return db
    .selectFrom('messages as m')
    .select('m.id')
    .select((eb) =>
      eb
        .selectFrom('messages as n')
        .select('n.id')
        .whereRef('n.conversation_id', '=', 'm.conversation_id')
        .where('n.direction', 'in', ORDERED_DIRECTIONS)
        .where('n.status', '=', 'queued')
        .where((w) =>
          w.or([
            w('n.created_at', '>', w.ref('m.created_at')),
            w.and([w('n.created_at', '=', w.ref('m.created_at')), w('n.id', '>', w.ref('m.id'))]),
          ]),
        )
        .orderBy('n.created_at')
        .orderBy('n.id')
        .limit(1)
        .as('next'),
    )
    .where('m.status', 'not in', PENDING);
}

/** Messages that reach the customer through outbound-send, in the order they were created. */
const ORDERED_DIRECTIONS = ['out', 'system'] as const;
/** Statuses of a message still on its way to the provider: a later message of its conversation waits for it. */
const PENDING = ['queued', 'sending'] as const;
