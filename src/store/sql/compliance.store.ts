import { dailyCounts, utcDay } from './daily-counts.ts';
import type { Kysely } from 'kysely';
import type { ActivityRows, BreachFilter, CompliancePort } from '../../core/ports/compliance.port.ts';
import type { BreachRecord, ChannelRecord, InboxRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { breachPatch, breachRow, channelEnabledFlag, settingValueOf, toBreach, toChannel, toInbox } from './records.ts';

/** Channels, inboxes, settings and the breach register for the compliance tools, shared by both dialects. */
export class ComplianceStore implements CompliancePort {
  constructor(private readonly db: Kysely<Database>) {}

  async listInboxes(): Promise<InboxRecord[]> {
    return (await this.db.selectFrom('inboxes').selectAll().orderBy('id').execute()).map(toInbox);
  }
  async listChannels(): Promise<ChannelRecord[]> {
    return (await this.db.selectFrom('channels').selectAll().orderBy('id').execute()).map(toChannel);
  }
  async findChannel(id: string): Promise<ChannelRecord | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toChannel(row);
  }
  async setChannelEnabled(id: string, enabled: boolean, now: number): Promise<void> {
    await this.db
      .updateTable('channels')
      .set({ enabled: channelEnabledFlag(enabled), updated_at: now })
      .where('id', '=', id)
      .execute();
  }
  async getStructuredSetting(key: string): Promise<unknown> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return settingValueOf(row?.value);
  }
  async activity(from: number, to: number, auditActions: readonly string[]): Promise<ActivityRows> {
    const conversations = await this.db
      .selectFrom('conversations')
      .select(['id', 'state', 'created_at', 'closed_at'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .execute();
    const messages = await this.db
      .selectFrom('messages')
      .select(['conversation_id', 'direction', 'author_id', 'created_at'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .execute();
    const consent = await this.db
      .selectFrom('consent_events')
      .select(['action', 'purpose', 'at'])
      .where('at', '>=', from)
      .where('at', '<', to)
      .execute();
    const auditCounts: Record<string, number> = Object.fromEntries(auditActions.map((a) => [a, 0]));
    if (auditActions.length > 0) {
      const rows = await this.db
        .selectFrom('audit_log')
        .select(['action', (eb) => eb.fn.countAll<string | number>().as('n')])
        .where('action', 'in', [...auditActions])
        .where('at', '>=', from)
        .where('at', '<', to)
        .groupBy('action')
        .execute();
      for (const r of rows) auditCounts[r.action] = Number(r.n);
    }
    const counters = await dailyCounts(this.db, utcDay(from), utcDay(to - 1));
    return { conversations, messages, consent, auditCounts, counters };
  }
  async insertBreach(row: BreachRecord): Promise<void> {
    await this.db.insertInto('breaches').values(breachRow(row)).execute();
  }
  async updateBreach(
    id: string,
    patch: Partial<Omit<BreachRecord, 'id' | 'created_at' | 'created_by'>>,
  ): Promise<void> {
    await this.db.updateTable('breaches').set(breachPatch(patch)).where('id', '=', id).execute();
  }
  async findBreach(id: string): Promise<BreachRecord | undefined> {
    const row = await this.db.selectFrom('breaches').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toBreach(row);
  }
  async listBreaches(filter: BreachFilter): Promise<BreachRecord[]> {
    const rows = await this.db
      .selectFrom('breaches')
      .selectAll()
      .orderBy('discovered_at', 'desc')
      .orderBy('id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return rows.map(toBreach);
  }
  async deleteBreach(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('breaches').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
