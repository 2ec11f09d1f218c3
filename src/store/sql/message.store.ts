import type { Kysely } from 'kysely';
import type { DeliveryStatus } from '../../core/channel/channel.port.ts';
import type { MessagePort } from '../../core/ports/message.port.ts';
import type { MessageRecord } from '../../core/ports/model.ts';
import type { Database, MessageRow } from '../database.ts';
import { countDaily, messageMetric } from './daily-counts.ts';
import { advanceByRef, applyParkedStatuses, parkStatus } from './parked-status.ts';
import type { ProviderRefs } from './provider-ref.ts';
import { messagePatch, messageRow, toMessage } from './records.ts';

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
    const result = await this.db
      .insertInto('messages')
      .values(this.#stored(row))
      .onConflict((oc) => oc.columns(['channel_id', 'provider_message_id']).doNothing())
      .executeTakeFirst();
    const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    if (inserted) await countDaily(this.db, [{ at: row.created_at, metric: messageMetric(row) }]);
    return inserted;
  }
  async insertManyUnlessDuplicate(rows: readonly MessageRecord[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    // 18 columns a row: 200 rows stay far below both dialects' limits on bound parameters.
    for (let i = 0; i < rows.length; i += 200) {
      const result = await this.db
        .insertInto('messages')
        .values(rows.slice(i, i + 200).map((row) => this.#stored(row)))
        .onConflict((oc) => oc.columns(['channel_id', 'provider_message_id']).doNothing())
        .returning('id')
        .execute();
      for (const r of result) inserted.add(r.id);
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
  async wasReceived(channelId: string, providerMessageId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('inbound_receipts')
      .select('channel_id')
      .where('channel_id', '=', channelId)
      .where('provider_ref', '=', this.refs.ref(providerMessageId))
      .executeTakeFirst();
    return row !== undefined;
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
