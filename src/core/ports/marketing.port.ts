import type { CampaignRecord, ContactRecord, ConversationRecord, MessageStatus } from './model.ts';

/** A recipient of a broadcast as the report reads it: the message's current status (null once it was erased). */
export interface CampaignRecipientStatus {
  contactId: string;
  messageId: string;
  status: MessageStatus | null;
}

/** A recipient of a broadcast: the contact, the conversation and the message it got. */
export interface CampaignRecipient {
  contactId: string;
  conversationId: string;
  messageId: string;
}

/**
 * The marketing rows written in the outbox's transaction, with the messages they belong to (InboxTx.marketing); the
 * messages and their jobs themselves are written by the outbox (src/core/inbox/outbox.ts).
 */
export interface MarketingWrites {
  /**
   * Claims the automated message `kind` (greeting, away) of a conversation for `messageId`, unless one went to the
   * conversation less than `cooldownMs` ago (null: ever) or the conversation is gone. A compare-and-set: of two
   * instances claiming at once only one gets true.
   */
  claimAutomatedSend(input: {
    kind: string;
    conversationId: string;
    cooldownMs: number | null;
    now: number;
    messageId: string;
  }): Promise<boolean>;
  /** Inserts the campaign and its recipients. */
  insertCampaign(campaign: CampaignRecord, recipients: readonly CampaignRecipient[]): Promise<void>;
}

/** Storage of automated messages and marketing broadcasts (SQL in store/sql/marketing.store.ts). */
export interface MarketingPort {
  /** Every contact of a channel (ids and sealed columns only). */
  channelContacts(channelId: string): Promise<ContactRecord[]>;
  /** The contacts' current (open or waiting) conversations. */
  currentConversations(contactIds: readonly string[]): Promise<ConversationRecord[]>;
  findCampaign(id: string): Promise<CampaignRecord | undefined>;
  listCampaigns(limit: number): Promise<CampaignRecord[]>;
  recipients(campaignId: string): Promise<CampaignRecipientStatus[]>;
}
