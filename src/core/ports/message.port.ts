import type { DeliveryStatus } from '../channel/channel.port.ts';
import type { MessageRecord } from './model.ts';

/** A delivery status as a provider reported it, for {@link MessagePort.advanceOrParkStatuses}. */
export interface StatusReport {
  channelId: string;
  providerMessageId: string;
  status: DeliveryStatus;
  error: { code: string; reason: string } | undefined;
  /** When the provider says it happened (orders parked statuses). */
  statusAt: number;
}

/** Messages of conversations; content is sealed by core before it gets here. */
export interface MessagePort {
  /** Inserts unless a message with the same (channel_id, provider_message_id) exists; false = it was a duplicate. */
  insertUnlessDuplicate(row: MessageRecord): Promise<boolean>;
  insert(row: MessageRecord): Promise<void>;
  /**
   * Inserts several messages in one statement, leaving out those whose (channel_id, provider_message_id) exists;
   * returns the ids of the rows inserted.
   */
  insertManyUnlessDuplicate(rows: readonly MessageRecord[]): Promise<Set<string>>;
  /** The messages of a channel with these provider ids (to recognise a provider's retry). */
  findByProviderIds(
    channelId: string,
    providerMessageIds: readonly string[],
  ): Promise<Pick<MessageRecord, 'id' | 'conversation_id' | 'provider_message_id' | 'handled'>[]>;
  /** Whether an inbound event without a message row (a number change) with this provider id took effect already. */
  wasReceived(channelId: string, providerMessageId: string): Promise<boolean>;
  /**
   * For several provider ids of one channel, in one query: the messages that carry them ({@link findByProviderIds})
   * and those that took effect without a message row ({@link wasReceived}: number changes, and the tombstones of
   * erased messages).
   */
  findStoredOrReceived(
    channelId: string,
    providerMessageIds: readonly string[],
  ): Promise<{
    stored: Pick<MessageRecord, 'id' | 'conversation_id' | 'provider_message_id' | 'handled'>[];
    received: Set<string>;
  }>;
  /** Remembers that such an event took effect, until `expiresAt`; a second call is a no-op. */
  markReceived(channelId: string, providerMessageId: string, now: number, expiresAt: number): Promise<void>;
  findById(id: string): Promise<MessageRecord | undefined>;
  findByProviderId(channelId: string, providerMessageId: string): Promise<MessageRecord | undefined>;
  listForConversation(conversationId: string): Promise<MessageRecord[]>;
  /**
   * The newest messages with sealed content of these conversations (held ones left out), newest first, at most
   * `limit`: what a search decrypts in memory.
   */
  listNewestSealed(
    conversationIds: readonly string[],
    limit: number,
  ): Promise<Pick<MessageRecord, 'id' | 'conversation_id' | 'body_enc' | 'created_at'>[]>;
  /**
   * The newest message of each of these conversations that staff see in the thread (customer, agent or note; not
   * held, not a reaction); conversations without one are left out. One query for the whole list.
   */
  latestForConversations(conversationIds: readonly string[]): Promise<MessageRecord[]>;
  update(id: string, patch: Partial<Omit<MessageRecord, 'id'>>): Promise<void>;
  /** Makes the held messages of a conversation visible; returns how many there were. */
  releaseHeld(conversationId: string, at: number): Promise<number>;
  /**
   * Moves an outbound message's status forward only (queued < sending < sent < delivered < read; failed is
   * terminal and replaces anything before read). Returns the updated row, or undefined when nothing changed (unknown
   * message, a repeated status, or a status that would go backwards).
   */
  advanceStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    at: number,
  ): Promise<MessageRecord | undefined>;
  /**
   * {@link advanceStatus}, except that a status for a provider id no message carries yet is parked instead of
   * dropped: the send job may not have stored the id yet (the provider reports 'sent'/'delivered' as soon as it
   * accepts the message). Parked rows are content-free (keyed hash of the id, status, `statusAt`, the provider's code
   * and reason for 'failed') and kept until `expiresAt`. A status for a known message that would go backwards is
   * not parked. Parking never creates a message or a conversation.
   */
  advanceOrParkStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    statusAt: number,
    now: number,
    expiresAt: number,
  ): Promise<{ row: MessageRecord | undefined; parked: boolean }>;
  /**
   * {@link advanceOrParkStatus} for several statuses, applied in their order (a few statements for the lot, however
   * many there are). Returns the messages whose status changed (each once, as it is after the last status) and, per
   * status, whether it was parked.
   */
  advanceOrParkStatuses(
    statuses: readonly StatusReport[],
    now: number,
    expiresAt: number,
  ): Promise<{ rows: MessageRecord[]; parked: boolean[] }>;
  /**
   * Applies and deletes the statuses parked for this provider id once a message carries it (forward-only rules as
   * for a live status); returns the message when its status changed. Nothing happens while no message has the id.
   */
  applyParkedStatuses(channelId: string, providerMessageId: string, now: number): Promise<MessageRecord | undefined>;
}
