import { CsatSurveyStore } from './csat.store.ts';
import { ReportFactStore } from './report.store.ts';
import { sql, type Kysely, type QueryResult, type Transaction } from 'kysely';
import type { ConversationRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import type {
  ConversationFilter,
  ConversationPort,
  InboundTouch,
  InboxTransactions,
  InboxTx,
  JobPayload,
} from '../../core/ports/conversation.port.ts';
import { MarketingStore } from './marketing.store.ts';
import { MediaStore } from './media.store.ts';
import { MessageStore } from './message.store.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { isStalePlan } from '../postgres/pipelined-driver.ts';
import { deferredSyncFor } from '../sqlite/deferred-sync.ts';
import { countDaily } from './daily-counts.ts';
import { PreparedQuery, preparedBySizeAndDialect } from './prepared-query.ts';
import { sendAhead } from './send-ahead.ts';
import {
  CURRENT_CONVERSATION_STATES,
  conversationPatch,
  conversationRow,
  labelPattern,
  toConversation,
} from './records.ts';

/**
 * The inbound touch of a webhook group's conversations, compiled once per number of conversations and dialect.
 * Arguments: per conversation its id, the time, the unread delta, the state and the consent-request time the caller
 * saw. One statement for the group (both dialects know UPDATE … FROM and a CTE's column names); a conversation whose
 * state or notice time is no longer what the caller saw is left alone and not counted.
 */
const touchInbound = preparedBySizeAndDialect(
  (n) =>
    new PreparedQuery(5 * n, (db, ...args: unknown[]) => {
      const values = sql.join(
        Array.from(
          { length: n },
          (_, i) =>
            sql`(${args[5 * i]}, cast(${args[5 * i + 1]} as bigint), cast(${args[5 * i + 2]} as integer), cast(${args[5 * i + 3]} as text), cast(${args[5 * i + 4]} as bigint))`,
        ),
      );
      const touch = sql`with v(id, at, unread, state, requested) as (values ${values})
        update conversations set
          unread = conversations.unread + v.unread,
          snoozed_until = null,
          last_activity_at = case when conversations.last_activity_at < v.at then v.at
            else conversations.last_activity_at end,
          last_inbound_at = case when conversations.last_inbound_at is null or conversations.last_inbound_at < v.at
            then v.at else conversations.last_inbound_at end
        from v where conversations.id = v.id and conversations.state = v.state
          and (conversations.consent_requested_at = v.requested
            or (conversations.consent_requested_at is null and v.requested is null))`;
      return { compile: () => touch.compile(db) };
    }),
);

/** Kysely implementation of {@link ConversationPort}, shared by SQLite and PostgreSQL. */
export class ConversationStore implements ConversationPort {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ConversationRecord): Promise<void> {
    await this.db.insertInto('conversations').values(conversationRow(row)).execute();
    await countDaily(this.db, [{ at: row.created_at, metric: 'conversations.started' }]);
  }
  async findById(id: string): Promise<ConversationRecord | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConversation(row);
  }
  async findByIds(ids: readonly string[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('conversations')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      out.push(...rows.map(toConversation));
    }
    return out;
  }
  async findCurrentForContact(contactId: string): Promise<ConversationRecord | undefined> {
    const row = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('contact_id', '=', contactId)
      .where('state', 'in', CURRENT_CONVERSATION_STATES)
      .executeTakeFirst();
    return row && toConversation(row);
  }
  async findCurrentForContacts(contactIds: readonly string[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = [];
    for (let i = 0; i < contactIds.length; i += 500) {
      out.push(
        ...(
          await this.db
            .selectFrom('conversations')
            .selectAll()
            .where('contact_id', 'in', contactIds.slice(i, i + 500))
            .where('state', 'in', CURRENT_CONVERSATION_STATES)
            .execute()
        ).map(toConversation),
      );
    }
    return out;
  }
  async listForContact(contactId: string): Promise<ConversationRecord[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('contact_id', '=', contactId)
      .orderBy('created_at')
      .execute();
    return rows.map(toConversation);
  }
  async update(id: string, patch: Partial<Omit<ConversationRecord, 'id'>>): Promise<void> {
    await this.db.updateTable('conversations').set(conversationPatch(patch)).where('id', '=', id).execute();
  }
  async touchInbound(id: string, at: number, unreadDelta: number): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set((eb) => ({
        unread: eb('unread', '+', unreadDelta),
        snoozed_until: null,
        last_activity_at: eb.case().when('last_activity_at', '<', at).then(at).else(eb.ref('last_activity_at')).end(),
        last_inbound_at: eb
          .case()
          .when(eb.or([eb('last_inbound_at', 'is', null), eb('last_inbound_at', '<', at)]))
          .then(at)
          .else(eb.ref('last_inbound_at'))
          .end(),
      }))
      .where('id', '=', id)
      .execute();
  }
  async touchInboundMany(touches: readonly InboundTouch[]): Promise<{ touched: Promise<number> }> {
    // In the order of their ids, so that two transactions touching the same conversations lock them in one order.
    const sorted = [...touches].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const answers: Promise<QueryResult<unknown>>[] = [];
    for (let i = 0; i < sorted.length; i += 200) {
      const part = sorted.slice(i, i + 200);
      const touch = touchInbound(this.db, part.length).compiled(
        this.db,
        ...part.flatMap((t) => [t.id, t.at, t.unreadDelta, t.state, t.consentRequestedAt]),
      );
      answers.push((await sendAhead(this.db, touch)).result);
    }
    const touched = Promise.all(answers).then((results) =>
      results.reduce((n, r) => n + Number(r.numAffectedRows ?? 0n), 0),
    );
    touched.catch(() => undefined);
    return { touched };
  }
  async list(filter: ConversationFilter): Promise<ConversationRecord[]> {
    let q = this.db
      .selectFrom('conversations')
      .selectAll()
      .where('state', 'in', filter.states.length > 0 ? [...filter.states] : ['open']);
    if (filter.inboxIds) q = q.where('inbox_id', 'in', filter.inboxIds.length > 0 ? [...filter.inboxIds] : ['']);
    if (filter.assigneeId === null) q = q.where('assignee_id', 'is', null);
    else if (filter.assigneeId !== undefined) q = q.where('assignee_id', '=', filter.assigneeId);
    if (filter.channelId) q = q.where('channel_id', '=', filter.channelId);
    if (filter.labelSeq !== undefined) q = q.where('label_seq', '=', filter.labelSeq);
    if (filter.label) q = q.where('labels', 'like', labelPattern(filter.label));
    if (filter.snoozed === true) q = q.where('snoozed_until', 'is not', null).orderBy('snoozed_until');
    else if (filter.snoozed === false) q = q.where('snoozed_until', 'is', null);
    if (filter.sort === 'priority') q = q.orderBy(sql`case when priority = 'high' then 0 else 1 end`);
    const rows = await q.orderBy('last_activity_at', 'desc').orderBy('id').limit(filter.limit).execute();
    return rows.map(toConversation);
  }
}

/** The job queue's enqueue, as team B3's JobQueue offers it (a transaction may be passed as `db`). */
export interface JobEnqueuer {
  enqueue(
    queue: string,
    payload: JobPayload,
    opts?: { runAt?: number; dedupeKey?: string; maxAttempts?: number; db?: Kysely<Database> },
  ): Promise<string>;
  enqueueMany(
    jobs: readonly { queue: string; payload: JobPayload; dedupeKey?: string }[],
    options: { db: Kysely<Database> },
  ): Promise<void>;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** PostgreSQL chose this transaction as the victim of a deadlock (or a serialization failure): it may run again. */
function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * {@link InboxTransactions} over Kysely: one database transaction per call, jobs enqueued inside it. On SQLite the
 * transaction holds the only connection, so the callback must use the ports it is given and nothing else of the
 * main database.
 */
export class SqlInboxTransactions implements InboxTransactions {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly jobs: JobEnqueuer,
    private readonly refs: ProviderRefs,
  ) {}

  run<T>(fn: (tx: InboxTx) => Promise<T>): Promise<T> {
    return retryingRace(() => this.#once(this.db, fn));
  }

  async runUntilCommitted<T>(fn: (tx: InboxTx) => Promise<T>): Promise<{ value: T; durable: Promise<void> }> {
    const deferred = deferredSyncFor(this.db);
    if (!deferred) return { value: await this.run(fn), durable: Promise.resolve() };
    const committed = await retryingRace(() => deferred.commit(this.db, (connection) => this.#once(connection, fn)));
    // Handled here so that a failed flush is not an unhandled rejection while the caller still works; the caller's
    // own await of `durable` still sees the failure.
    committed.durable.catch(() => undefined);
    return committed;
  }

  #once<T>(db: Kysely<Database>, fn: (tx: InboxTx) => Promise<T>): Promise<T> {
    return db.transaction().execute((trx: Transaction<Database>) =>
      fn({
        conversations: new ConversationStore(trx),
        messages: new MessageStore(trx, this.refs),
        media: new MediaStore(trx),
        marketing: new MarketingStore(trx),
        reportFacts: new ReportFactStore(trx),
        csat: new CsatSurveyStore(trx),
        enqueue: (queue, payload, opts) => this.jobs.enqueue(queue, payload, { ...opts, db: trx }),
        enqueueMany: (jobs) => this.jobs.enqueueMany(jobs, { db: trx }),
      }),
    );
  }
}

/**
 * Runs `attempt` again once when it lost a uniqueness race with a concurrent webhook of the same customer (the second
 * attempt finds the first's rows), or ran a statement prepared before another instance changed the schema (the
 * connection has dropped it, the second attempt prepares it anew).
 */
async function retryingRace<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isUniqueViolation(error) && !isRetryableConflict(error) && !isStalePlan(error)) throw error;
    return attempt();
  }
}
