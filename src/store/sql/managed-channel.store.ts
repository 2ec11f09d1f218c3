import type { Kysely } from 'kysely';
import type { ManagedChannelPort, ManagedChannelRow } from '../../core/ports/managed-channel.port.ts';
import type { ChannelRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { channelEnabledFlag, toChannel } from './records.ts';

/** Channels created in the admin screen: rows with `source = 'ui'`, their secrets sealed in `secrets_enc`. */
export class ManagedChannelStore implements ManagedChannelPort {
  constructor(private readonly db: Kysely<Database>) {}

  async listManaged(): Promise<ChannelRecord[]> {
    const rows = await this.db.selectFrom('channels').selectAll().where('source', '=', 'ui').orderBy('id').execute();
    return rows.map(toChannel);
  }

  async findChannel(id: string): Promise<ChannelRecord | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toChannel(row);
  }

  async inboxExists(id: string): Promise<boolean> {
    return Boolean(await this.db.selectFrom('inboxes').select('id').where('id', '=', id).executeTakeFirst());
  }

  async insertManaged(row: ManagedChannelRow, now: number): Promise<boolean> {
    const result = await this.db
      .insertInto('channels')
      .values({
        id: row.id,
        kind: row.kind,
        inbox_id: row.inboxId,
        enabled: channelEnabledFlag(row.enabled),
        settings: JSON.stringify(row.settings),
        secrets_enc: row.secretsSealed,
        source: 'ui',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateManaged(row: ManagedChannelRow, now: number): Promise<void> {
    await this.db
      .updateTable('channels')
      .set({
        inbox_id: row.inboxId,
        settings: JSON.stringify(row.settings),
        secrets_enc: row.secretsSealed,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('source', '=', 'ui')
      .execute();
  }

  async contactIdsOfChannel(channelId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('contacts').select('id').where('channel_id', '=', channelId).execute();
    return rows.map((r) => r.id);
  }

  async conversationIdsOfChannel(channelId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('conversations').select('id').where('channel_id', '=', channelId).execute();
    return rows.map((r) => r.id);
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const campaigns = tx.selectFrom('campaigns').select('id').where('channel_id', '=', channelId);
      await tx.deleteFrom('campaign_recipients').where('campaign_id', 'in', campaigns).execute();
      await tx.deleteFrom('campaigns').where('channel_id', '=', channelId).execute();
      await tx.deleteFrom('parked_statuses').where('channel_id', '=', channelId).execute();
      await tx.deleteFrom('inbound_receipts').where('channel_id', '=', channelId).execute();
      await tx.deleteFrom('channels').where('id', '=', channelId).where('source', '=', 'ui').execute();
    });
  }
}
