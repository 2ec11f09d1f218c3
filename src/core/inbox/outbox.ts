import type { Clock } from '../../shared/clock.ts';
import { newId, newMessageId } from '../../shared/ids.ts';
import type { ConversationRecord, ConversationState, MessageRecord } from '../ports/model.ts';
import type { InboxTransactions, InboxTx } from '../ports/conversation.port.ts';
import { messageStamp, OUTBOUND_ATTEMPTS, type ConversationKeyPort } from './inbox.ports.ts';
import { sealMediaBytes, sealMessageContent, type ConversationKey, type MessageContent } from './message-content.ts';

/** Queue name of outbound sends. Payload: `{ messageId }`, or `{ messageId, action: 'read' }` for a read receipt. */
export const OUTBOUND_SEND = 'outbound-send';

/**
 * The dedupe key of a message's send job, the one key scheme of outbound sends: every queued message has exactly
 * one job under `outbound-send:<messageId>`, so that the job of an earlier message of the conversation finds (and
 * wakes) the next one by its id (src/jobs/outbound-order.ts), and enqueueing the same message twice creates one job.
 */
export function outboundDedupeKey(messageId: string, action?: 'read'): string {
  return action === 'read' ? `${OUTBOUND_SEND}:read:${messageId}` : `${OUTBOUND_SEND}:${messageId}`;
}

/** One message for the customer: what it says, which conversation it goes to, and a file if it carries one. */
export interface OutboundDraft {
  conversation: ConversationRecord;
  /** The conversation is new (from {@link newConversationRow}): it is opened in the same transaction, first. */
  opens?: boolean;
  /** 'text', 'buttons', 'template', or the file's type ('image', 'document', 'audio', 'video'). */
  kind: string;
  content: MessageContent;
  /** The staff member who wrote it; none for automated messages. */
  authorId?: string | null;
  /** A file sent with the message (already sanitised): stored sealed in a media row of the conversation. */
  file?: { data: Uint8Array; mimeType: string };
}

/** A message the outbox queued. */
export interface QueuedOutbound {
  messageId: string;
  mediaId: string | null;
  /** The message's `created_at` (its place in the conversation's send order). */
  createdAt: number;
}

export interface OutboxQueueOptions {
  /**
   * Runs first in the transaction, with the ids the messages will get: false queues nothing (e.g. an away message
   * whose cooldown is not over); throwing rolls everything back (e.g. the conversation was closed meanwhile).
   */
  guard?: (tx: InboxTx, messageIds: readonly string[]) => Promise<boolean>;
  /** Further writes in the same transaction, after the messages and their jobs (a campaign's recipients). */
  alongside?: (tx: InboxTx, queued: readonly QueuedOutbound[]) => Promise<void>;
}

export interface OutboxDeps {
  clock: Clock;
  transactions: InboxTransactions;
  keys: Pick<ConversationKeyPort, 'dataKeyFor' | 'dataKeysFor'>;
}

/**
 * The one writer of outbound messages and their send jobs: agents' replies and files, the privacy notice, the
 * media-rejected reply, greeting and away message, marketing keyword replies and broadcasts all enter the queue
 * here, in the same state ('queued', content sealed with the conversation's data key, stamped in creation order)
 * and with exactly one 'outbound-send' job each under {@link outboundDedupeKey}, written in the same transaction as
 * the message (the job exists exactly when the message does). It is also the one place a conversation is opened
 * ({@link openConversation}, {@link newConversationRow}).
 *
 * Sending is src/jobs/outbound-send.job.ts; the order of a conversation's messages is kept there
 * (src/jobs/outbound-order.ts), which relies on the key scheme here.
 */
export class Outbox {
  constructor(private readonly deps: OutboxDeps) {}

  /**
   * Queues the messages in one transaction of their own (with the guard and the further writes of `options`).
   * Returns what was queued, in the order of `drafts`, or undefined when the guard declined.
   */
  async queue(
    drafts: readonly OutboundDraft[],
    options: OutboxQueueOptions = {},
  ): Promise<QueuedOutbound[] | undefined> {
    const ids = drafts.map(() => newMessageId());
    return this.deps.transactions.run(async (tx) => {
      if (options.guard && !(await options.guard(tx, ids))) return undefined;
      // Several messages (a broadcast batch): the conversations' data keys at once, the new ones in one key-store
      // transaction rather than one durable commit per new conversation.
      const keys =
        drafts.length > 1
          ? await this.deps.keys.dataKeysFor(
              'conversation',
              drafts.map((d) => d.conversation.id),
            )
          : undefined;
      const queued: QueuedOutbound[] = [];
      for (const [i, draft] of drafts.entries()) {
        queued.push(await this.#write(tx, draft, ids[i]!, keys?.get(draft.conversation.id)));
      }
      await options.alongside?.(tx, queued);
      return queued;
    });
  }

  /** Queues one message in the caller's transaction (the inbound path, which writes the customer's rows with it). */
  queueIn(tx: InboxTx, draft: OutboundDraft): Promise<QueuedOutbound> {
    return this.#write(tx, draft, newMessageId());
  }

  /** Opens a conversation of the contact in the caller's transaction: inserts and returns its row. */
  async openConversation(tx: InboxTx, input: NewConversation): Promise<ConversationRecord> {
    const row = newConversationRow(input);
    await tx.conversations.insert(row);
    return row;
  }

  async #write(tx: InboxTx, draft: OutboundDraft, messageId: string, known?: ConversationKey): Promise<QueuedOutbound> {
    const { conversation } = draft;
    if (draft.opens) await tx.conversations.insert(conversation);
    const now = this.deps.clock.now().getTime();
    const key = known ?? (await this.deps.keys.dataKeyFor('conversation', conversation.id));
    const mediaId = draft.file ? newId() : null;
    const row: MessageRecord = {
      id: messageId,
      conversation_id: conversation.id,
      channel_id: conversation.channel_id,
      direction: 'out',
      kind: draft.kind,
      provider_message_id: null,
      status: 'queued',
      body_enc: sealMessageContent(key, messageId, draft.content),
      media_id: mediaId,
      author_id: draft.authorId ?? null,
      error_code: null,
      error_reason: null,
      created_at: messageStamp(now),
      updated_at: now,
      edited: false,
      deleted: false,
      handled: true,
    };
    await tx.messages.insert(row);
    if (draft.file && mediaId) {
      await tx.media.insert({
        id: mediaId,
        conversation_id: conversation.id,
        message_id: messageId,
        mime_type: draft.file.mimeType,
        size: draft.file.data.length,
        data_enc: sealMediaBytes(key, mediaId, draft.file.data),
        state: 'stored',
        created_at: now,
      });
    }
    await tx.enqueue(
      OUTBOUND_SEND,
      { messageId },
      { dedupeKey: outboundDedupeKey(messageId), maxAttempts: OUTBOUND_ATTEMPTS },
    );
    return { messageId, mediaId, createdAt: row.created_at };
  }
}

/** A conversation to open: whose it is, where, and whether it waits for the customer's consent. */
export interface NewConversation {
  inboxId: string;
  channelId: string;
  contact: { id: string; label_seq: number };
  state: Extract<ConversationState, 'open' | 'pending_consent'>;
  now: number;
}

/** The row of a new conversation (inserted by {@link Outbox.openConversation}, or with a draft that `opens` it). */
export function newConversationRow(input: NewConversation): ConversationRecord {
  return {
    id: newId(),
    inbox_id: input.inboxId,
    channel_id: input.channelId,
    contact_id: input.contact.id,
    label_seq: input.contact.label_seq,
    state: input.state,
    assignee_id: null,
    labels: [],
    unread: 0,
    created_at: input.now,
    last_activity_at: input.now,
    last_inbound_at: null,
    consent_requested_at: null,
    closed_at: null,
    erase_at: null,
    notice_version: null,
  };
}
