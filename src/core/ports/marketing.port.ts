import type { CampaignRecord, ContactRecord, ConversationRecord, MessageRecord, MessageStatus } from './model.ts';

/** A recipient of a broadcast as the report reads it: the message's current status (null once it was erased). */
export interface CampaignRecipientStatus {
  contactId: string;
  messageId: string;
  status: MessageStatus | null;
}

/** One message of a broadcast to insert, with the conversation it goes to (new ones are inserted first). */
export interface BroadcastItem {
  contactId: string;
  conversation: ConversationRecord;
  newConversation: boolean;
  message: MessageRecord;
}

/** Storage of automated messages and marketing broadcasts (SQL in store/sql/marketing.store.ts). */
export interface MarketingPort {
  /**
   * Inserts the queued message and its 'outbound-send' job in one transaction, unless a message of this `kind`
   * went to the conversation less than `cooldownMs` ago (null: ever). True when it was queued.
   */
  queueAutomated(input: {
    kind: string;
    conversationId: string;
    cooldownMs: number | null;
    now: number;
    message: MessageRecord;
  }): Promise<boolean>;
  /** A queued outbound message and its job, in one transaction. */
  queueMessage(message: MessageRecord, dedupeKey: string): Promise<void>;
  /** Every contact of a channel (ids and sealed columns only). */
  channelContacts(channelId: string): Promise<ContactRecord[]>;
  /** The contacts' current (open or waiting) conversations. */
  currentConversations(contactIds: readonly string[]): Promise<ConversationRecord[]>;
  /** Inserts the campaign, the new conversations, the messages, their jobs and the recipients in one transaction. */
  createCampaign(campaign: CampaignRecord, items: readonly BroadcastItem[]): Promise<void>;
  findCampaign(id: string): Promise<CampaignRecord | undefined>;
  listCampaigns(limit: number): Promise<CampaignRecord[]>;
  recipients(campaignId: string): Promise<CampaignRecipientStatus[]>;
}
