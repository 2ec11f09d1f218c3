import { sql, type Kysely } from 'kysely';
import type { ConversationRecord, Millis } from '../../core/ports/model.ts';
import type { SnoozePort } from '../../core/ports/snooze.port.ts';
import type { Database } from '../database.ts';
import { toConversation } from './records.ts';

/** {@link SnoozePort} over Kysely, shared by SQLite and PostgreSQL. */
export class SnoozeStore implements SnoozePort {
  constructor(private readonly db: Kysely<Database>) {}

  async findConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConversation(row);
  }

  async snooze(id: string, until: Millis): Promise<boolean> {
    const r = await this.db
      .updateTable('conversations')
      .set({ snoozed_until: until })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async wake(id: string, opts: { expected?: Millis; attention: boolean }): Promise<boolean> {
    let q = this.db
      .updateTable('conversations')
      .set({
        snoozed_until: null,
        ...(opts.attention ? { unread: sql<number>`case when unread < 1 then 1 else unread end` } : {}),
      })
      .where('id', '=', id)
      .where('state', '=', 'open');
    q =
      opts.expected === undefined
        ? q.where('snoozed_until', 'is not', null)
        : q.where('snoozed_until', '=', opts.expected);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async due(now: Millis, limit: number): Promise<{ id: string; inbox_id: string; snoozed_until: Millis }[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .select(['id', 'inbox_id', 'snoozed_until'])
      .where('snoozed_until', '<=', now)
      .where('state', '=', 'open')
      .orderBy('snoozed_until')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, inbox_id: r.inbox_id, snoozed_until: Number(r.snoozed_until) }));
  }
}
