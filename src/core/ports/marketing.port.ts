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
  /**
   * Moves a queueing campaign's cursor from `from` to `to` and adds `skipped`, unless the cursor is no longer
   * `from` (another instance wrote this batch meanwhile): a compare-and-set, false when nothing changed.
   */
  advanceCampaign(input: { id: string; from: string | null; to: string; skipped: number }): Promise<boolean>;
  /** Inserts recipients of a campaign. */
  insertRecipients(campaignId: string, recipients: readonly CampaignRecipient[]): Promise<void>;
}

/** Storage of automated messages and marketing broadcasts (SQL in store/sql/marketing.store.ts). */
export interface MarketingPort {
  /** Up to `limit` contacts of a channel with ids after `after` (all when null), in id order (keyset pages). */
  channelContactsAfter(channelId: string, after: string | null, limit: number): Promise<ContactRecord[]>;
  /** Inserts a campaign (state 'queueing', cursor null) on its own. */
  insertCampaign(campaign: CampaignRecord): Promise<void>;
  /** Marks a campaign 'queued' and drops its sealed parameters. */
  finishCampaign(id: string): Promise<void>;
  /** Campaigns still 'queueing' (a process stopped while writing their batches). */
  queueingCampaigns(): Promise<CampaignRecord[]>;
  /** The contacts' current (open or waiting) conversations. */
  currentConversations(contactIds: readonly string[]): Promise<ConversationRecord[]>;
  findCampaign(id: string): Promise<CampaignRecord | undefined>;
  listCampaigns(limit: number): Promise<CampaignRecord[]>;
  /** Up to `limit` recipients with contact ids after `after` (all when null), in contact id order (keyset pages). */
  recipients(campaignId: string, after: string | null, limit: number): Promise<CampaignRecipientStatus[]>;
}
