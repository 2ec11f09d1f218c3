import type { Channel, OutboundCommand } from '../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../core/channel/channel-errors.ts';
import type { InboxEventBus } from '../core/inbox/inbox-events.ts';
import { OUTBOUND_ATTEMPTS } from '../core/inbox/inbox.ports.ts';
import { OUTBOUND_SEND, outboundDedupeKey } from '../core/inbox/outbox.ts';
import {
  openMediaBytes,
  openMessageContent,
  type ConversationKey,
  type MessageContent,
} from '../core/inbox/message-content.ts';
import { AppError } from '../shared/app-error.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { ContactRecord, MediaRecord, MessageRecord } from '../core/ports/model.ts';
import type { OutboundPort } from '../store/ports/outbound.port.ts';
import { SEND_UNCONFIRMED } from '../store/sql/outbound.store.ts';
import { PermanentFailure, RetryLater } from './job-errors.ts';
import { backoffDelay, describeJobError, type Job, type JobQueue } from './job-queue.ts';
import { inOutboundOrder, passTurn, type OrderedSendHandler } from './outbound-order.ts';
import type { Pacer } from './pacer.ts';
import { SendPacer } from './send-pacer.ts';
import type { OutgoingEventSink } from '../core/webhooks/outgoing-events.ts';

// The queue name and the key scheme of send jobs belong to the outbox, the one writer of outbound messages.
export { OUTBOUND_SEND, outboundDedupeKey } from '../core/inbox/outbox.ts';

export type OutboundSendPayload = { messageId: string; action?: 'read' } & Record<string, string>;

/** Retry budget of a send: with the backoff below at least 20 minutes of provider trouble. */
export const OUTBOUND_MAX_ATTEMPTS = OUTBOUND_ATTEMPTS;

/**
 * Backoff of a send refused with a retryable answer and no Retry-After: 1 s doubling, capped at 20 s (±25 % jitter).
 * The cap is low on purpose: after a provider outage every waiting message goes out within about 25 s; the number of
 * attempts (OUTBOUND_MAX_ATTEMPTS) makes up the 20 minutes of trouble a message outlasts.
 */
export const OUTBOUND_BACKOFF = { baseMs: 1_000, maxMs: 20_000 } as const;

/** What the handler needs; the privacy core's KeyService and ContactDirectory and B1's ChannelRegistry fit as is. */
export interface OutboundSendDeps {
  store: OutboundPort;
  /** The conversation's data key if it still exists (never creates one: a missing key means the conversation is being erased). */
  keys: { existingDataKey(ownerType: 'conversation', ownerId: string): Promise<ConversationKey | undefined> };
  /** Decrypts a contact's address (ContactDirectory.address). */
  contacts: { address(contact: ContactRecord): Promise<string> };
  channels: { get(channelId: string): Channel | undefined };
  /** Media rows (the sealed file of a message with an attachment; MediaStore fits). */
  media?: { findById(id: string): Promise<MediaRecord | undefined> };
  events: InboxEventBus;
  /** Outgoing webhooks: 'message.sent' and 'message.failed'. */
  webhooks?: OutgoingEventSink;
  /** Shared by every worker of the process (and, on PostgreSQL, every instance); one pace per channel. */
  pacer?: Pacer;
  clock?: Clock;
  logger?: Logger;
  /** Backoff of retryable provider errors without a Retry-After (default OUTBOUND_BACKOFF). */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * After a 429/130429 without Retry-After, no send of that channel starts for this long (default 250 ms): long
   * enough for the provider's one-second window to move on, short enough not to waste much of the throughput.
   */
  rateLimitHoldOffMs?: number;
}

/** Codes and reasons shown to the agent on a failed message (content-free). */
const REASONS = {
  unavailable: 'provider unavailable',
  unconfirmed: 'sparsam stopped during the send; the message may not have been delivered, send it again if needed',
  disabled: 'the channel was stopped by an administrator',
  unknownChannel: 'the channel is not configured any more',
  noContent: 'the message has no content to send',
  noFile: 'the file of this message is not stored any more',
};

/**
 * The 'outbound-send' handler. For one queued message it:
 * 1. loads the message, its conversation and contact; a message, conversation or contact erased meanwhile ends the
 *    job quietly (nothing to send, nothing to tell);
 * 2. opens the content with the conversation's data key and builds the OutboundCommand (template, buttons or text);
 * 3. decrypts the address just before the call, marks the message 'sending' (compare-and-set from 'queued', so
 *    only one worker ever gets past this point), waits for the channel's pacing slot and calls the channel;
 * 4. success: 'sent' with the provider's message id; retryable provider errors (429, 130429, 5xx, network) put the
 *    message back to 'queued' and retry after the provider's Retry-After or a backoff; non-retryable errors and a
 *    spent retry budget mark it 'failed' with the provider's code and reason. Every change publishes
 *    'message.updated'.
 *
 * Never twice: a message with a provider id or a status other than 'queued' is not sent. The one window left: the
 * process dies after the provider accepted the message and before 'sent' is committed. The provider has no
 * idempotency key, so the next attempt cannot ask; it finds 'sending' and marks the message failed with
 * SEND_UNCONFIRMED, so that the agent decides, instead of risking a duplicate to the customer. The same holds
 * for a timeout or a connection lost mid-request; only failures where no connection was made (refused, DNS) and
 * provider error answers (429, 5xx) are retried automatically.
 */
export function outboundSendHandler(deps: OutboundSendDeps): OrderedSendHandler {
  const clock = deps.clock ?? systemClock;
  const pacer = deps.pacer ?? new SendPacer();
  const baseMs = deps.backoff?.baseMs ?? OUTBOUND_BACKOFF.baseMs;
  const maxMs = deps.backoff?.maxMs ?? OUTBOUND_BACKOFF.maxMs;
  const holdOffMs = deps.rateLimitHoldOffMs ?? 250;
  const now = () => clock.now().getTime();

  return async (job, loaded) => {
    const messageId = job.payload.messageId;
    if (typeof messageId !== 'string' || messageId === '') throw new PermanentFailure('payload without messageId');
    // Read by the order check just before (inOutboundOrder), or here (read receipts, direct calls).
    const target = loaded ? loaded.target : await deps.store.load(messageId);
    // Erased before the job ran (conversation erasure deletes its messages): nothing to do.
    if (!target?.conversation || !target.contact) return;
    const { message, conversation, contact } = target;
    const inboxId = conversation.inbox_id;
    // Nothing of a conversation waiting for consent leaves sparsam through outgoing webhooks (the notice's send).
    const visible = conversation.state !== 'pending_consent';
    const fail = async (m: MessageRecord, inbox: string, code: string, reason: string): Promise<void> => {
      const row = await deps.store.markFailed(m.id, code, reason, now());
      if (row) {
        publish(deps.events, inbox, row);
        if (visible) await emitOutcome(deps, inbox, row);
      }
    };

    if (job.payload.action === 'read') {
      await sendReadReceipt(deps, pacer, message);
      return;
    }

    if (message.direction !== 'out' && message.direction !== 'system') {
      throw new PermanentFailure(`message ${message.id} is not outbound (${message.direction})`);
    }
    if (message.status === 'sending') {
      // A previous attempt stopped during the provider call (crash, or its lease ran out): it may have gone out.
      await fail(message, inboxId, SEND_UNCONFIRMED, REASONS.unconfirmed);
      return;
    }
    if (message.status !== 'queued' || message.provider_message_id !== null) return;

    if (!target.channelEnabled) {
      await fail(message, inboxId, 'CHANNEL_DISABLED', REASONS.disabled);
      return;
    }
    const channel = deps.channels.get(message.channel_id);
    if (!channel) {
      await fail(message, inboxId, 'CHANNEL_UNKNOWN', REASONS.unknownChannel);
      return;
    }
    const key = await deps.keys.existingDataKey('conversation', conversation.id);
    if (!key) return; // the conversation is being erased right now
    if (!message.body_enc) {
      await fail(message, inboxId, 'NO_CONTENT', REASONS.noContent);
      return;
    }
    const content = openMessageContent(key, message.id, message.body_enc);

    const sender = channel.id;
    let attachment: Attachment | undefined;
    if (message.media_id) {
      const media = await deps.media?.findById(message.media_id);
      if (media?.state !== 'stored' || !media.data_enc) {
        await fail(message, inboxId, 'NO_CONTENT', REASONS.noFile);
        return;
      }
      attachment = {
        mediaType: message.kind as Attachment['mediaType'],
        data: openMediaBytes(key, media.id, media.data_enc),
        mimeType: media.mime_type,
      };
    }
    const address = await deps.contacts.address(contact);
    const reaction = message.kind === 'reaction' ? reactionOf(content) : undefined;
    const command = reaction ? undefined : buildCommand(content, address, attachment);
    if (!command && !(reaction && channel.react)) {
      await fail(message, inboxId, 'NO_CONTENT', REASONS.noContent);
      return;
    }
    if (!(await deps.store.markSending(message.id, now()))) return; // another worker has it, or it changed

    let providerMessageId: string | null;
    try {
      // Paced last, right before the request: commits before it (grouped, of varying duration) would otherwise
      // bunch paced requests together on their way to the provider.
      await pacer.acquire(sender, channel.capabilities.messagesPerSecond);
      const stored = command && command.type !== 'read' ? { ...command, messageId: message.id } : command;
      providerMessageId =
        (reaction && channel.react
          ? await channel.react(address, reaction.providerMessageId, reaction.emoji)
          : await channel.send(stored!)
        ).providerMessageId ?? null;
    } catch (error) {
      await onSendError(error);
      return;
    }
    const sent = await retryWrite(() => deps.store.markSent(message.id, providerMessageId, now()));
    if (sent) {
      publish(deps.events, inboxId, sent.row);
      if (visible) await emitOutcome(deps, inboxId, sent.row);
    }
    deps.logger?.debug({ messageId: message.id, channelId: channel.id }, 'message sent');
    return sent ? { toWake: sent.toWake } : undefined;

    async function onSendError(error: unknown): Promise<void> {
      const lastAttempt = job.attempts >= job.maxAttempts;
      if (error instanceof ChannelApiError && error.providerCode === 'unexpected_answer') {
        // The provider answered the send, but not in its documented shape: it may have taken the message.
        await fail(message, inboxId, SEND_UNCONFIRMED, REASONS.unconfirmed);
        throw new PermanentFailure(`provider ${error.providerCode}: ${error.reason}`);
      }
      if (error instanceof ChannelApiError && !error.retryable) {
        await fail(message, inboxId, error.providerCode, error.reason);
        throw new PermanentFailure(`provider ${error.providerCode}: ${error.reason}`);
      }
      if (error instanceof ChannelNetworkError && !requestNeverLeft(error)) {
        // A timeout or a connection lost mid-request: the provider may have taken the message, and it has no
        // idempotency key to ask with. Never guess: no automatic retry, the agent sees it unconfirmed and decides.
        await fail(message, inboxId, SEND_UNCONFIRMED, REASONS.unconfirmed);
        throw new PermanentFailure(`send unconfirmed: ${error.message}`);
      }
      if (error instanceof ChannelApiError || error instanceof ChannelNetworkError) {
        // The provider answered with a retryable error, or could not be reached at all: it did not take it.
        if (error instanceof ChannelApiError && (error.httpStatus === 429 || error.providerCode === '130429')) {
          await pacer.holdOff(sender, error.retryAfterMs ?? holdOffMs);
        }
        const reason =
          error instanceof ChannelApiError
            ? `provider ${error.providerCode}: ${error.reason}`
            : `network: ${error.message}`;
        if (lastAttempt) {
          const shown =
            error instanceof ChannelApiError ? `${REASONS.unavailable} (${error.reason})` : REASONS.unavailable;
          const code = error instanceof ChannelApiError ? error.providerCode : 'NETWORK';
          await fail(message, inboxId, code, shown);
          throw new PermanentFailure(reason);
        }
        await deps.store.releaseSending(message.id, now());
        const retryAfter = error instanceof ChannelApiError ? error.retryAfterMs : undefined;
        throw new RetryLater(retryAfter ?? backoffDelay(job.attempts, baseMs, maxMs), reason);
      }
      if (error instanceof AppError) {
        // The channel refused the command before calling the provider (e.g. too many buttons).
        await fail(message, inboxId, error.code, error.message);
        throw new PermanentFailure(`${error.code}: ${error.message}`);
      }
      // Unknown error: the request may have left. Never guess: the agent sees it unconfirmed and decides.
      await fail(message, inboxId, SEND_UNCONFIRMED, REASONS.unconfirmed);
      throw new PermanentFailure(`send interrupted: ${describeJobError(error)}`);
    }
  };
}

/**
 * When the queue gives up on a send (its worker died on the last attempt, or an unexpected error used the budget
 * up), the message must not stay 'queued' or 'sending' for ever: the agent sees it failed.
 */
export function outboundSendOnFailed(deps: Pick<OutboundSendDeps, 'store' | 'events' | 'clock' | 'webhooks'>) {
  const clock = deps.clock ?? systemClock;
  return async (job: Job, _reason: string): Promise<void> => {
    const messageId = job.payload.messageId;
    if (typeof messageId !== 'string' || job.payload.action === 'read') return;
    const target = await deps.store.load(messageId);
    if (!target?.conversation) return;
    const wasSending = target.message.status === 'sending';
    const row = await deps.store.markFailed(
      messageId,
      wasSending ? SEND_UNCONFIRMED : 'SEND_FAILED',
      wasSending ? REASONS.unconfirmed : REASONS.unavailable,
      clock.now().getTime(),
    );
    if (row) {
      publish(deps.events, target.conversation.inbox_id, row);
      if (target.conversation.state !== 'pending_consent') await emitOutcome(deps, target.conversation.inbox_id, row);
    }
  };
}

/** 'message.sent' or 'message.failed' for outgoing webhooks (content-free: ids, kind, the error code). */
async function emitOutcome(
  deps: Pick<OutboundSendDeps, 'webhooks' | 'clock'>,
  inboxId: string,
  row: MessageRecord,
): Promise<void> {
  if (!deps.webhooks || (row.status !== 'sent' && row.status !== 'failed')) return;
  await deps.webhooks.emit({
    type: row.status === 'sent' ? 'message.sent' : 'message.failed',
    occurredAt: (deps.clock ?? systemClock).now().getTime(),
    channelId: row.channel_id,
    inboxId,
    conversationId: row.conversation_id,
    messageId: row.id,
    details: {
      kind: row.kind,
      automated: row.author_id === null,
      ...(row.status === 'failed' ? { errorCode: row.error_code, stage: 'send' } : {}),
    },
  });
}

/**
 * Registers the handler on `queue` (concurrency: sends in flight per process; needs rate × provider latency), with
 * the messages of a conversation sent in creation order (src/jobs/outbound-order.ts).
 */
export function registerOutboundSend(
  queue: JobQueue,
  deps: OutboundSendDeps,
  options: { concurrency?: number } = {},
): void {
  const order = { store: deps.store, wake: (key: string) => queue.wake(key), dedupeKey: outboundDedupeKey };
  const onFailed = outboundSendOnFailed(deps);
  queue.register(OUTBOUND_SEND, inOutboundOrder(outboundSendHandler(deps), { ...order, logger: deps.logger }), {
    concurrency: options.concurrency ?? 64,
    onFailed: async (job, reason) => {
      await onFailed(job, reason);
      const { messageId, action } = job.payload;
      if (typeof messageId === 'string' && action !== 'read') await passTurn(messageId, order);
    },
  });
}

/** The opened file of a message that carries one (kind image, document, audio or video). */
export interface Attachment {
  mediaType: 'image' | 'document' | 'audio' | 'video';
  data: Buffer;
  mimeType: string;
}

const MEDIA_TYPES = new Set(['image', 'document', 'audio', 'video']);

/**
 * The provider command for a message's content: a file with its caption, a template, text with buttons, or plain
 * text.
 */
export function buildCommand(
  content: MessageContent,
  address: string,
  attachment?: Attachment,
): OutboundCommand | undefined {
  if (attachment) {
    if (!MEDIA_TYPES.has(attachment.mediaType)) return undefined;
    const fileName = content.extra?.fileName;
    return {
      type: 'media',
      address,
      mediaType: attachment.mediaType,
      data: attachment.data,
      mimeType: attachment.mimeType,
      ...(typeof fileName === 'string' ? { fileName } : {}),
      ...(content.text ? { caption: content.text } : {}),
      ...(content.extra?.voice === true && attachment.mediaType === 'audio' ? { voice: true } : {}),
    };
  }
  if (content.template) {
    return {
      type: 'template',
      address,
      name: content.template.name,
      language: content.template.language,
      parameters: [...content.template.parameters],
      ...(content.template.header ? { header: { ...content.template.header } } : {}),
      ...(content.template.buttons ? { buttons: content.template.buttons.map((b) => ({ ...b })) } : {}),
    };
  }
  if (content.list && content.text) {
    return { type: 'list', address, text: content.text, list: structuredClone(content.list) };
  }
  if (content.buttons && content.buttons.length > 0 && content.text) {
    const listButton = content.extra?.listButton;
    return {
      type: 'buttons',
      address,
      text: content.text,
      buttons: content.buttons.map((b) => ({ ...b })),
      ...(typeof listButton === 'string' ? { listButton } : {}),
    };
  }
  if (content.text) {
    // An agent's reply to one customer message: the provider shows it as a quote (WhatsApp's context.message_id).
    const replyTo = content.extra?.replyTo;
    return {
      type: 'text',
      address,
      text: content.text,
      ...(typeof replyTo === 'string' ? { replyToProviderMessageId: replyTo } : {}),
    };
  }
  return undefined;
}

/** A staff reaction's target (the customer message's provider id) and emoji (empty: taken back). */
function reactionOf(content: MessageContent): { providerMessageId: string; emoji: string } | undefined {
  const providerMessageId = content.extra?.replyTo;
  if (typeof providerMessageId !== 'string') return undefined;
  return { providerMessageId, emoji: content.text ?? '' };
}

async function sendReadReceipt(deps: OutboundSendDeps, pacer: Pacer, message: MessageRecord): Promise<void> {
  const channel = deps.channels.get(message.channel_id);
  if (!channel?.capabilities.supportsReadReceipts || message.direction !== 'in' || !message.body_enc) return;
  // The stored provider id is a keyed hash; the real one is sealed in the content under the conversation's key.
  const key = await deps.keys.existingDataKey('conversation', message.conversation_id);
  if (!key) return;
  const providerMessageId = openMessageContent(key, message.id, message.body_enc).extra?.providerMessageId;
  if (typeof providerMessageId !== 'string') return;
  await pacer.acquire(channel.id, channel.capabilities.messagesPerSecond);
  try {
    await channel.send({ type: 'read', providerMessageId });
  } catch (error) {
    if (error instanceof ChannelApiError && !error.retryable) {
      throw new PermanentFailure(`provider ${error.providerCode}: ${error.reason}`);
    }
    if (error instanceof ChannelApiError) {
      throw new RetryLater(error.retryAfterMs ?? 2_000, `provider ${error.providerCode}: ${error.reason}`);
    }
    throw error;
  }
}

/**
 * Network failures that happen before a request can have reached the provider (no connection was made), so a
 * retry cannot duplicate the message. The channel clients name the system error code in the message, e.g.
 * "WhatsApp Cloud API did not answer (ECONNREFUSED)"; a timeout or a reset is not in this list.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function requestNeverLeft(error: ChannelNetworkError): boolean {
  const texts = [error.message, error.cause instanceof Error ? error.cause.message : ''];
  return texts.some((text) => [...text.matchAll(/\(([A-Z_]+)\)/g)].some((m) => NOT_SENT_CODES.has(m[1]!)));
}

function publish(events: InboxEventBus, inboxId: string, row: MessageRecord): void {
  events.publish({
    type: 'message.updated',
    inboxId,
    conversationId: row.conversation_id,
    messageId: row.id,
    status: row.status,
  });
}

/** A write right after a successful send is retried a few times: losing it would leave a sent message 'sending'. */
async function retryWrite<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
