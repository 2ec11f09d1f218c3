import type { CampaignRow, ContactRow, ConversationRow, MessageRow, MessageStatus } from '../database.ts';

/** A recipient of a broadcast as the report reads it: the message's current status (null once it was erased). */
export interface CampaignRecipientStatus {
  contactId: string;
  messageId: string;
  status: MessageStatus | null;
}

/** One message of a broadcast to insert, with the conversation it goes to (new ones are inserted first). */
export interface BroadcastItem {
  contactId: string;
  conversation: ConversationRow;
  newConversation: boolean;
  message: MessageRow;
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
    message: MessageRow;
  }): Promise<boolean>;
  /** A queued outbound message and its job, in one transaction. */
  queueMessage(message: MessageRow, dedupeKey: string): Promise<void>;
  /** Every contact of a channel (ids and sealed columns only). */
  channelContacts(channelId: string): Promise<ContactRow[]>;
  /** The contacts' current (open or waiting) conversations. */
  currentConversations(contactIds: readonly string[]): Promise<ConversationRow[]>;
  /** Inserts the campaign, the new conversations, the messages, their jobs and the recipients in one transaction. */
  createCampaign(campaign: CampaignRow, items: readonly BroadcastItem[]): Promise<void>;
  findCampaign(id: string): Promise<CampaignRow | undefined>;
  listCampaigns(limit: number): Promise<CampaignRow[]>;
  recipients(campaignId: string): Promise<CampaignRecipientStatus[]>;
}
