import type { Kysely } from 'kysely';
import type { ConversationRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { inboxSettingsOf, toConversation } from './records.ts';
import type { InboxRetentionRow, RetentionPort } from '../../core/ports/retention.port.ts';

/** RetentionPort over the main database. */
export class RetentionStore implements RetentionPort {
  constructor(private readonly db: Kysely<Database>) {}

  async listInboxes(): Promise<InboxRetentionRow[]> {
    const rows = await this.db.selectFrom('inboxes').select(['id', 'settings']).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, settings: inboxSettingsOf(r.settings) }));
  }

  async dueConsentTimeouts(
    inboxId: string,
    cutoff: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]> {
    let q = this.db
      .selectFrom('conversations')
      .selectAll()
      .where('inbox_id', '=', inboxId)
      .where('state', '=', 'pending_consent')
      .where((eb) => eb(eb.fn.coalesce('consent_requested_at', 'created_at'), '<', cutoff));
    if (exclude.length) q = q.where('id', 'not in', [...exclude]);
    return (await q.orderBy('created_at').limit(limit).execute()).map(toConversation);
  }

  async dueInactive(
    inboxId: string,
    cutoff: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]> {
    let q = this.db
      .selectFrom('conversations')
      .selectAll()
      .where('inbox_id', '=', inboxId)
      .where('state', '=', 'open')
      .where('last_activity_at', '<', cutoff);
    if (exclude.length) q = q.where('id', 'not in', [...exclude]);
    return (await q.orderBy('last_activity_at').limit(limit).execute()).map(toConversation);
  }

  async closeInactive(id: string, cutoff: number, closedAt: number, eraseAt: number): Promise<boolean> {
    const result = await this.db
      .updateTable('conversations')
      .set({ state: 'closed', closed_at: closedAt, erase_at: eraseAt })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .where('last_activity_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async dueErasures(
    inboxId: string,
    now: number,
    eraseAfterMs: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]> {
    let q = this.db
      .selectFrom('conversations')
      .selectAll()
      .where('inbox_id', '=', inboxId)
      .where('state', '=', 'closed')
      .where((eb) =>
        eb.or([
          eb('erase_at', '<=', now),
          eb.and([eb('erase_at', 'is', null), eb('closed_at', '<=', now - eraseAfterMs)]),
        ]),
      );
    if (exclude.length) q = q.where('id', 'not in', [...exclude]);
    return (await q.orderBy('closed_at').limit(limit).execute()).map(toConversation);
  }

  async expireInboundReceipts(now: number): Promise<number> {
    const result = await this.db.deleteFrom('inbound_receipts').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0n);
  }
  async expireConsentProofs(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('consent_events')
      .where('proof_until', 'is not', null)
      .where('proof_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0n);
  }
  async expireParkedStatuses(now: number): Promise<number> {
    const result = await this.db.deleteFrom('parked_statuses').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
