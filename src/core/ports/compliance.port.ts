import type {
  BreachRecord,
  ChannelRecord,
  ConversationRecord,
  InboxRecord,
  MediaRecord,
  MessageRecord,
} from './model.ts';

/**
 * What the data subject rights (export, rectification, reveal) read beyond the privacy core's own ports: everything
 * stored for one contact, found by the contact id (the contact itself is found only by its lookup hash).
 */
export interface SubjectRightsPort {
  channel(id: string): Promise<Pick<ChannelRecord, 'id' | 'kind' | 'inbox_id'> | undefined>;
  labelPrefix(inboxId: string): Promise<string | undefined>;
  /** Every conversation of the contact (pending, open and closed), oldest first. */
  conversationsOfContact(contactId: string): Promise<ConversationRecord[]>;
  findConversation(id: string): Promise<ConversationRecord | undefined>;
  /** Every message of a conversation (held ones, notes and system messages included), oldest first. */
  messagesOfConversation(conversationId: string): Promise<MessageRecord[]>;
  /** Every media row of a conversation with its sealed bytes, oldest first. */
  mediaOfConversation(conversationId: string): Promise<MediaRecord[]>;
  findMessage(id: string): Promise<MessageRecord | undefined>;
  /** Replaces a message's sealed content (rectification of a note). */
  updateMessageBody(id: string, bodyEnc: Uint8Array, updatedAt: number): Promise<void>;
  /** Display names of staff, by id (for authors of notes and replies). */
  staffNames(ids: readonly string[]): Promise<Map<string, string>>;
}

/** Content-free rows for the statistics: times, directions and ids, never contents or addresses. */
export interface ActivityRows {
  conversations: { id: string; state: string; created_at: number; closed_at: number | null }[];
  messages: { conversation_id: string; direction: string; author_id: string | null; created_at: number }[];
  consent: { action: string; purpose: string; at: number }[];
  /** Audit actions counted in the period (e.g. 'conversation.erased'). */
  auditCounts: Record<string, number>;
  /**
   * The content-free daily counters of the UTC days the period touches, per day and metric ('conversations.started',
   * 'messages.inbound', 'messages.staffReplies', 'messages.automatic', 'messages.notes',
   * 'consent.<service|marketing>.<grant|withdraw>'); they outlive erasure.
   */
  counters: { day: string; metric: string; count: number }[];
}

export interface BreachFilter {
  limit: number;
  offset: number;
}

/** Channels and inboxes as the compliance tools see them, installation settings, and the breach register. */
export interface CompliancePort {
  listInboxes(): Promise<InboxRecord[]>;
  listChannels(): Promise<ChannelRecord[]>;
  findChannel(id: string): Promise<ChannelRecord | undefined>;
  setChannelEnabled(id: string, enabled: boolean, now: number): Promise<void>;
  /** A structured installation setting (see WebPort.getStructuredSetting). */
  getStructuredSetting(key: string): Promise<unknown>;
  /** Activity in [from, to): conversations created, messages, consent events, and counts of the given audit actions. */
  activity(from: number, to: number, auditActions: readonly string[]): Promise<ActivityRows>;
  insertBreach(row: BreachRecord): Promise<void>;
  updateBreach(id: string, patch: Partial<Omit<BreachRecord, 'id' | 'created_at' | 'created_by'>>): Promise<void>;
  findBreach(id: string): Promise<BreachRecord | undefined>;
  /** Newest discovery first. */
  listBreaches(filter: BreachFilter): Promise<BreachRecord[]>;
  deleteBreach(id: string): Promise<boolean>;
}
