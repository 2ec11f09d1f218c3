import { sql, type Kysely } from 'kysely';
import type { DeliveryStatus } from '../../core/channel/channel.port.ts';
import type { MessagePort, StatusReport } from '../../core/ports/message.port.ts';
import type { MessageRecord } from '../../core/ports/model.ts';
import type { Database, MessageRow, MessageStatus } from '../database.ts';
import { countDaily, messageMetric } from './daily-counts.ts';
import {
  advanceByRef,
  advanceManyByRef,
  applyParkedStatuses,
  parkStatus,
  refsByChannel,
  REPLACES,
  sendAdvances,
} from './parked-status.ts';
import { PreparedInsert, PreparedQuery, preparedBySize } from './prepared-query.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { MESSAGE_COLUMNS, messagePatch, messageRow, toMessage } from './records.ts';

/** Rows a multi-row insert takes at most: 17 columns each stay far below both dialects' limits on bound parameters. */
const INSERT_ROWS = 200;

/** The insert of a webhook group's messages, unless a redelivery stored one of them already. */
const insertMany = new PreparedInsert<MessageRow, { id: string }>(MESSAGE_COLUMNS, (db, rows) =>
  db
    .insertInto('messages')
    .values(rows)
    .onConflict((oc) => oc.columns(['channel_id', 'provider_message_id']).doNothing())
    .returning('id'),
);

/**
 * Kysely implementation of {@link MessagePort}, shared by SQLite and PostgreSQL. Provider message ids cross this
 * boundary in clear and are stored only as {@link ProviderRefs} hashes.
 */
export class MessageStore implements MessagePort {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly refs: ProviderRefs,
  ) {}

  #stored(record: MessageRecord): MessageRow {
    return { ...messageRow(record), provider_message_id: this.refs.ref(record.provider_message_id) };
  }

  async insertUnlessDuplicate(row: MessageRecord): Promise<boolean> {
    return (await this.insertManyUnlessDuplicate([row])).size > 0;
  }
  async insertManyUnlessDuplicate(rows: readonly MessageRecord[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      const chunk = rows.slice(i, i + INSERT_ROWS).map((row) => this.#stored(row));
      const { rows: ids } = await this.db.executeQuery(insertMany.compiled(this.db, chunk));
      for (const r of ids) inserted.add(r.id);
    }
    await countDaily(
      this.db,
      rows.filter((r) => inserted.has(r.id)).map((r) => ({ at: r.created_at, metric: messageMetric(r) })),
    );
    return inserted;
  }
  async findByProviderIds(
    channelId: string,
    providerMessageIds: readonly string[],
  ): Promise<Pick<MessageRecord, 'id' | 'conversation_id' | 'provider_message_id' | 'handled'>[]> {
    const out: Pick<MessageRecord, 'id' | 'conversation_id' | 'provider_message_id' | 'handled'>[] = [];
    const byRef = new Map(providerMessageIds.map((id) => [this.refs.ref(id), id]));
    const refs = [...byRef.keys()];
    for (let i = 0; i < refs.length; i += 500) {
      const rows = await this.db
        .selectFrom('messages')
        .select(['id', 'conversation_id', 'provider_message_id', 'handled'])
        .where('channel_id', '=', channelId)
        .where('provider_message_id', 'in', refs.slice(i, i + 500))
        .execute();
      // Callers match the rows against the ids they asked for: hand back the ids, not their stored hashes.
      for (const row of rows) {
        out.push({
          ...row,
          handled: row.handled === 1,
          provider_message_id: byRef.get(row.provider_message_id!) ?? null,
        });
      }
    }
    return out;
  }
  async insert(row: MessageRecord): Promise<void> {
    await this.db.insertInto('messages').values(this.#stored(row)).execute();
    await countDaily(this.db, [{ at: row.created_at, metric: messageMetric(row) }]);
  }
  async findById(id: string): Promise<MessageRecord | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
  }
  async findByProviderId(channelId: string, providerMessageId: string): Promise<MessageRecord | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('provider_message_id', '=', this.refs.ref(providerMessageId))
      .executeTakeFirst();
    return row && toMessage(row);
  }
  async listForConversation(conversationId: string): Promise<MessageRecord[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toMessage);
  }
  async listNewestSealed(
    conversationIds: readonly string[],
    limit: number,
  ): Promise<Pick<MessageRecord, 'id' | 'conversation_id' | 'body_enc' | 'created_at'>[]> {
    const out: Pick<MessageRecord, 'id' | 'conversation_id' | 'body_enc' | 'created_at'>[] = [];
    for (let i = 0; i < conversationIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('messages')
        .select(['id', 'conversation_id', 'body_enc', 'created_at'])
        .where('conversation_id', 'in', conversationIds.slice(i, i + 500))
        .where('body_enc', 'is not', null)
        .where('status', '!=', 'held')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      for (const r of rows) out.push({ ...r, body_enc: r.body_enc === null ? null : new Uint8Array(r.body_enc) });
    }
    out.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
    return out.slice(0, limit);
  }

  async latestForConversations(conversationIds: readonly string[]): Promise<MessageRecord[]> {
    if (conversationIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('messages as m')
      .selectAll('m')
      .where('m.conversation_id', 'in', [...conversationIds])
      .where((eb) =>
        eb(
          'm.id',
          '=',
          eb
            .selectFrom('messages as n')
            .select('n.id')
            .whereRef('n.conversation_id', '=', 'm.conversation_id')
            .where('n.direction', 'in', ['in', 'out', 'note'])
            .where('n.status', '!=', 'held')
            .where('n.kind', '!=', 'reaction')
            .orderBy('n.created_at', 'desc')
            .orderBy('n.id', 'desc')
            .limit(1),
        ),
      )
      .execute();
    return rows.map(toMessage);
  }
  async update(id: string, patch: Partial<Omit<MessageRecord, 'id'>>): Promise<void> {
    await this.db.updateTable('messages').set(messagePatch(patch)).where('id', '=', id).execute();
  }
  async releaseHeld(conversationId: string, at: number): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ status: 'received', updated_at: at })
      .where('conversation_id', '=', conversationId)
      .where('status', '=', 'held')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
  advanceStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    at: number,
  ): Promise<MessageRecord | undefined> {
    return advanceByRef(this.db, channelId, this.refs.ref(providerMessageId), status, error, at);
  }
  async advanceOrParkStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    statusAt: number,
    now: number,
    expiresAt: number,
  ): Promise<{ row: MessageRecord | undefined; parked: boolean }> {
    const ref = this.refs.ref(providerMessageId);
    const row = await advanceByRef(this.db, channelId, ref, status, error, now);
    if (row) return { row, parked: false };
    const known = await this.db
      .selectFrom('messages')
      .select('id')
      .where('channel_id', '=', channelId)
      .where('provider_message_id', '=', ref)
      .executeTakeFirst();
    // Known: the status repeats or goes backwards, or the send job committed the id between the two statements
    // (PostgreSQL: the update did not see it yet). Once more, now that it is visible; a no-op in the first cases.
    if (known) return { row: await advanceByRef(this.db, channelId, ref, status, error, now), parked: false };
    await parkStatus(this.db, { channelId, ref, status, at: statusAt, error, expiresAt });
    return { row: undefined, parked: true };
  }
  async advanceOrParkStatuses(
    statuses: readonly StatusReport[],
    now: number,
    expiresAt: number,
  ): Promise<{ rows: MessageRecord[]; parked: boolean[] }> {
    const items = statuses.map((s) => ({ ...s, ref: this.refs.ref(s.providerMessageId) }));
    const changed = new Map<string, MessageRecord>();
    const advanced = await sendAdvances(this.db, items, now);
    // Which ids are known, and their status after the UPDATEs (read with them, in the same round trip)?
    const known = new Map<string, MessageStatus>();
    for (const [channelId, distinct] of refsByChannel(items)) {
      const refs = [...distinct];
      for (let i = 0; i < refs.length; i += 500) {
        const found = await this.db
          .selectFrom('messages')
          .select(['provider_message_id', 'status'])
          .where('channel_id', '=', channelId)
          .where('provider_message_id', 'in', refs.slice(i, i + 500))
          .execute();
        for (const f of found) known.set(`${channelId}\0${f.provider_message_id}`, f.status);
      }
    }
    const applied = await advanced();
    for (const row of applied.rows) changed.set(row.id, row);
    // Not applied: the status repeats or goes backwards, or no message carries the id (yet).
    const rest = items.filter((_, i) => !applied.applied[i]);
    // Known and still behind the status: once more, now that it is visible (PostgreSQL: the send job committed the
    // id between the statements). A repeated or backward status is not tried again.
    const again = rest.filter((it) => REPLACES[it.status].includes(known.get(`${it.channelId}\0${it.ref}`)!));
    if (again.length > 0)
      for (const row of (await advanceManyByRef(this.db, again, now)).rows) changed.set(row.id, row);
    const parked = items.map((it, i) => !applied.applied[i] && !known.has(`${it.channelId}\0${it.ref}`));
    for (const [i, it] of items.entries()) {
      if (!parked[i]) continue;
      await parkStatus(this.db, {
        channelId: it.channelId,
        ref: it.ref,
        status: it.status,
        at: it.statusAt,
        error: it.error,
        expiresAt,
      });
    }
    return { rows: [...changed.values()], parked };
  }
  async wasReceived(channelId: string, providerMessageId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('inbound_receipts')
      .select('channel_id')
      .where('channel_id', '=', channelId)
      .where('provider_ref', '=', this.refs.ref(providerMessageId))
      .executeTakeFirst();
    return row !== undefined;
  }
  /**
   * The redelivery check of a webhook group, compiled once per number of ids (see PreparedQuery). Arguments: the
   * channel twice, then the provider references twice (once for each table). One round trip for both tables: a
   * receipt row has no message id.
   */
  readonly #storedOrReceived = preparedBySize(
    (n) =>
      new PreparedQuery(2 + 2 * n, (db, channel: string, again: string, ...refs: string[]) =>
        db
          .selectFrom('messages')
          .select(['id', 'conversation_id', 'provider_message_id as ref', 'handled'])
          .where('channel_id', '=', channel)
          .where('provider_message_id', 'in', refs.slice(0, n))
          .unionAll(
            db
              .selectFrom('inbound_receipts')
              // Typed as the message columns for the union; the values are null.
              .select([
                sql<MessageRow['id']>`null`.as('id'),
                sql<MessageRow['conversation_id']>`null`.as('conversation_id'),
                'provider_ref as ref',
                sql<MessageRow['handled']>`null`.as('handled'),
              ])
              .where('channel_id', '=', again)
              .where('provider_ref', 'in', refs.slice(n)),
          ),
      ),
  );

  async findStoredOrReceived(channelId: string, providerMessageIds: readonly string[]) {
    const stored: Pick<MessageRecord, 'id' | 'conversation_id' | 'provider_message_id' | 'handled'>[] = [];
    const received = new Set<string>();
    const byRef = new Map(providerMessageIds.map((id) => [this.refs.ref(id), id]));
    const refs = [...byRef.keys()];
    for (let i = 0; i < refs.length; i += 500) {
      const part = refs.slice(i, i + 500);
      const { rows } = await this.#storedOrReceived(part.length).execute(
        this.db,
        channelId,
        channelId,
        ...part,
        ...part,
      );
      for (const row of rows) {
        const id = byRef.get(row.ref!) ?? null;
        if ((row.id as string | null) === null) {
          if (id !== null) received.add(id);
        } else {
          stored.push({
            id: row.id,
            conversation_id: row.conversation_id!,
            provider_message_id: id,
            handled: row.handled === 1,
          });
        }
      }
    }
    return { stored, received };
  }
  async markReceived(channelId: string, providerMessageId: string, now: number, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('inbound_receipts')
      .values({
        channel_id: channelId,
        provider_ref: this.refs.ref(providerMessageId),
        received_at: now,
        expires_at: expiresAt,
      })
      .onConflict((oc) => oc.columns(['channel_id', 'provider_ref']).doNothing())
      .execute();
  }
  applyParkedStatuses(channelId: string, providerMessageId: string, now: number): Promise<MessageRecord | undefined> {
    return applyParkedStatuses(this.db, channelId, this.refs.ref(providerMessageId), now);
  }
}
