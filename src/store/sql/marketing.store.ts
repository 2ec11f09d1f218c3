import type { Kysely } from 'kysely';
import { OUTBOUND_ATTEMPTS } from '../../core/inbox/inbox.ports.ts';
import type { CampaignRecord, ContactRecord, ConversationRecord, MessageRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { conversationRow, messageRow, toConversation } from './records.ts';
import type { BroadcastItem, CampaignRecipientStatus, MarketingPort } from '../../core/ports/marketing.port.ts';

/** The job queue's enqueue, able to write in the caller's transaction. */
export type Enqueue = (
  queue: string,
  payload: Record<string, string | number | boolean | null>,
  options: { dedupeKey?: string; maxAttempts?: number; db?: Kysely<Database> },
) => Promise<string>;

/** Retry budget of an 'outbound-send' job (as the inbox queues them). */

export class MarketingStore implements MarketingPort {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly enqueue: Enqueue,
  ) {}

  async queueAutomated(input: {
    kind: string;
    conversationId: string;
    cooldownMs: number | null;
    now: number;
    message: MessageRecord;
  }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const last = await tx
        .selectFrom('automation_sends')
        .select(['sent_at'])
        .where('conversation_id', '=', input.conversationId)
        .where('kind', '=', input.kind)
        .executeTakeFirst();
      if (last && (input.cooldownMs === null || input.now - Number(last.sent_at) < input.cooldownMs)) return false;
      const conversation = await tx
        .selectFrom('conversations')
        .select('id')
        .where('id', '=', input.conversationId)
        .executeTakeFirst();
      if (!conversation) return false; // erased meanwhile
      // Compare-and-set: of two instances queueing for the same conversation at once, only one wins; the other
      // sees no row changed and queues nothing (PostgreSQL re-checks the condition after the first one commits).
      if (last) {
        const claimed = await tx
          .updateTable('automation_sends')
          .set({ sent_at: input.now, message_id: input.message.id })
          .where('conversation_id', '=', input.conversationId)
          .where('kind', '=', input.kind)
          .where('sent_at', '=', last.sent_at)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) return false;
      } else {
        const claimed = await tx
          .insertInto('automation_sends')
          .values({
            conversation_id: input.conversationId,
            kind: input.kind,
            message_id: input.message.id,
            sent_at: input.now,
          })
          .onConflict((oc) => oc.columns(['conversation_id', 'kind']).doNothing())
          .executeTakeFirst();
        if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      }
      await tx.insertInto('messages').values(messageRow(input.message)).execute();
      await this.enqueue(
        'outbound-send',
        { messageId: input.message.id },
        { dedupeKey: `outbound-send:${input.message.id}`, maxAttempts: OUTBOUND_ATTEMPTS, db: tx },
      );
      return true;
    });
  }

  async queueMessage(message: MessageRecord, dedupeKey: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('messages').values(messageRow(message)).execute();
      await this.enqueue(
        'outbound-send',
        { messageId: message.id },
        { dedupeKey, maxAttempts: OUTBOUND_ATTEMPTS, db: tx },
      );
    });
  }

  async channelContacts(channelId: string): Promise<ContactRecord[]> {
    return this.db
      .selectFrom('contacts')
      .selectAll()
      .where('channel_id', '=', channelId)
      .orderBy('label_seq')
      .execute();
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
            .where('state', 'in', ['open', 'pending_consent'])
            .execute()
        ).map(toConversation),
      );
    }
    return out;
  }

  async createCampaign(campaign: CampaignRecord, items: readonly BroadcastItem[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('campaigns').values(campaign).execute();
      for (const item of items) {
        if (item.newConversation)
          await tx.insertInto('conversations').values(conversationRow(item.conversation)).execute();
        else {
          await tx
            .updateTable('conversations')
            .set({ last_activity_at: item.message.created_at })
            .where('id', '=', item.conversation.id)
            .execute();
        }
        await tx.insertInto('messages').values(messageRow(item.message)).execute();
        await tx
          .insertInto('campaign_recipients')
          .values({
            campaign_id: campaign.id,
            contact_id: item.contactId,
            conversation_id: item.conversation.id,
            message_id: item.message.id,
          })
          .execute();
        await this.enqueue(
          'outbound-send',
          { messageId: item.message.id },
          { dedupeKey: `outbound-send:${item.message.id}`, maxAttempts: OUTBOUND_ATTEMPTS, db: tx },
        );
      }
    });
  }

  async findCampaign(id: string): Promise<CampaignRecord | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listCampaigns(limit: number): Promise<CampaignRecord[]> {
    return this.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  }

  async recipients(campaignId: string): Promise<CampaignRecipientStatus[]> {
    const rows = await this.db
      .selectFrom('campaign_recipients as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .select(['r.contact_id', 'r.message_id', 'm.status'])
      .where('r.campaign_id', '=', campaignId)
      .execute();
    return rows.map((r) => ({ contactId: r.contact_id, messageId: r.message_id, status: r.status ?? null }));
  }
}
