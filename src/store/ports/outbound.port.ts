import type { ContactRecord, ConversationRecord, MessageRecord } from '../../core/ports/model.ts';

/** What outbound-send needs to send one message: the message, its conversation and contact, the kill switch. */
export interface OutboundTarget {
  message: MessageRecord;
  /** Undefined when the conversation was erased after the message was queued. */
  conversation: ConversationRecord | undefined;
  /** Undefined when the contact was erased. */
  contact: ContactRecord | undefined;
  /** false when an admin stopped the channel (kill switch) or the channel row is gone. */
  channelEnabled: boolean;
  /**
   * Send order per conversation (created_at, then id, over directions 'out' and 'system'): the latest earlier message
   * of the same conversation that is still 'queued' or 'sending', while this message itself is 'queued'. Undefined
   * when the message may go.
   */
  earlierPending: string | undefined;
}

/** A message the provider accepted, as stored, and the send job that its end must wake. */
export interface SentMessage {
  row: MessageRecord;
  /**
   * The conversation's next queued message (see {@link OutboundPort.nextQueuedOutbound}) when its send job waits to
   * be woken: deferred, or running (it may be about to defer). Undefined when there is none, or its job is due anyway
   * and will find this message sent.
   */
  toWake: string | undefined;
}

/**
 * The outbound side of the messages table, as src/jobs/outbound-send.job.ts uses it. Each status change is a
 * compare-and-set on the current status, so that two workers (or a stale one) can never both send a message or
 * overwrite each other's outcome.
 */
export interface OutboundPort {
  /** The message to send with everything its send needs, read at once (see {@link OutboundTarget}). */
  load(messageId: string): Promise<OutboundTarget | undefined>;
  /** queued (without provider id) → sending. False when the message is not queued any more: do not send. */
  markSending(messageId: string, now: number): Promise<boolean>;
  /** sending → queued: the provider certainly did not take the message (it answered with an error). */
  releaseSending(messageId: string, now: number): Promise<boolean>;
  /**
   * sending → sent with the provider's message id (also repairs a message that a lease takeover marked
   * SEND_UNCONFIRMED while this worker was still in the call). Once that is committed it applies the delivery
   * statuses the provider reported before (parked by the webhook, see MessagePort.advanceOrParkStatus), so the
   * returned row may already be 'delivered', 'read' or 'failed'. Returns the updated row and the next message to
   * wake (read after the commit, in the same statement as the parked statuses), or undefined when the message was
   * not 'sending'.
   */
  markSent(messageId: string, providerMessageId: string | null, now: number): Promise<SentMessage | undefined>;
  /** queued|sending → failed with the provider's code and reason (content-free). Returns the updated row. */
  markFailed(messageId: string, code: string, reason: string, now: number): Promise<MessageRecord | undefined>;
  /** The first later 'queued' message of the same conversation, once `messageId` is neither queued nor sending. */
  nextQueuedOutbound(messageId: string): Promise<string | undefined>;
}
