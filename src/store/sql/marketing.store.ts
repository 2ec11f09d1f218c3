import type { Kysely } from 'kysely';
import type { CampaignRecord, ContactRecord, ConversationRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { CURRENT_CONVERSATION_STATES, toConversation } from './records.ts';
import type {
  CampaignRecipient,
  CampaignRecipientStatus,
  MarketingPort,
  MarketingWrites,
} from '../../core/ports/marketing.port.ts';

/**
 * Kysely implementation of {@link MarketingPort} and, bound to a transaction (SqlInboxTransactions), of
 * {@link MarketingWrites}. It writes no messages and no jobs: the outbox (src/core/inbox/outbox.ts) does.
 */
export class MarketingStore implements MarketingPort, MarketingWrites {
  constructor(private readonly db: Kysely<Database>) {}

  async claimAutomatedSend(input: {
    kind: string;
    conversationId: string;
    cooldownMs: number | null;
    now: number;
    messageId: string;
  }): Promise<boolean> {
    const db = this.db;
    const last = await db
      .selectFrom('automation_sends')
      .select(['sent_at'])
      .where('conversation_id', '=', input.conversationId)
      .where('kind', '=', input.kind)
      .executeTakeFirst();
    if (last && (input.cooldownMs === null || input.now - Number(last.sent_at) < input.cooldownMs)) return false;
    const conversation = await db
      .selectFrom('conversations')
      .select('id')
      .where('id', '=', input.conversationId)
      .executeTakeFirst();
    if (!conversation) return false; // erased meanwhile
    // Compare-and-set: of two instances queueing for the same conversation at once, only one wins; the other
    // sees no row changed and queues nothing (PostgreSQL re-checks the condition after the first one commits).
    if (last) {
      const claimed = await db
        .updateTable('automation_sends')
        .set({ sent_at: input.now, message_id: input.messageId })
        .where('conversation_id', '=', input.conversationId)
        .where('kind', '=', input.kind)
        .where('sent_at', '=', last.sent_at)
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) > 0;
    }
    const claimed = await db
      .insertInto('automation_sends')
      .values({
        conversation_id: input.conversationId,
        kind: input.kind,
        message_id: input.messageId,
        sent_at: input.now,
      })
      .onConflict((oc) => oc.columns(['conversation_id', 'kind']).doNothing())
      .executeTakeFirst();
    return Number(claimed.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async insertCampaign(campaign: CampaignRecord): Promise<void> {
    await this.db.insertInto('campaigns').values(campaign).execute();
  }

  async insertRecipients(campaignId: string, recipients: readonly CampaignRecipient[]): Promise<void> {
    // 4 columns a row: 200 rows stay far below both dialects' limits on bound parameters.
    for (let i = 0; i < recipients.length; i += 200) {
      await this.db
        .insertInto('campaign_recipients')
        .values(
          recipients.slice(i, i + 200).map((r) => ({
            campaign_id: campaignId,
            contact_id: r.contactId,
            conversation_id: r.conversationId,
            message_id: r.messageId,
          })),
        )
        .execute();
    }
  }

  async advanceCampaign(input: { id: string; from: string | null; to: string; skipped: number }): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set((eb) => ({ cursor: input.to, skipped: eb('skipped', '+', input.skipped) }))
      .where('id', '=', input.id)
      .where('state', '=', 'queueing')
      .where((eb) => (input.from === null ? eb('cursor', 'is', null) : eb('cursor', '=', input.from)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async finishCampaign(id: string): Promise<void> {
    await this.db
      .updateTable('campaigns')
      .set({ state: 'queued', parameters_enc: null })
      .where('id', '=', id)
      .execute();
  }

  async queueingCampaigns(): Promise<CampaignRecord[]> {
    return this.db.selectFrom('campaigns').selectAll().where('state', '=', 'queueing').orderBy('created_at').execute();
  }

  async channelContactsAfter(channelId: string, after: string | null, limit: number): Promise<ContactRecord[]> {
    let q = this.db.selectFrom('contacts').selectAll().where('channel_id', '=', channelId);
    if (after !== null) q = q.where('id', '>', after);
    return q.orderBy('id').limit(limit).execute();
  }

  async currentConversations(contactIds: readonly string[]): Promise<ConversationRecord[]> {
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

  async findCampaign(id: string): Promise<CampaignRecord | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listCampaigns(limit: number): Promise<CampaignRecord[]> {
    return this.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  }

  async recipients(campaignId: string, after: string | null, limit: number): Promise<CampaignRecipientStatus[]> {
    let q = this.db
      .selectFrom('campaign_recipients as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .select(['r.contact_id', 'r.message_id', 'm.status'])
      .where('r.campaign_id', '=', campaignId);
    if (after !== null) q = q.where('r.contact_id', '>', after);
    const rows = await q.orderBy('r.contact_id').limit(limit).execute();
    return rows.map((r) => ({ contactId: r.contact_id, messageId: r.message_id, status: r.status ?? null }));
  }
}
