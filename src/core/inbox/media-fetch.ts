import { ChannelApiError } from '../channel/channel-errors.ts';
import type { InboundMediaRef } from '../channel/channel.port.ts';
import type { InboxDeps } from './inbox.ports.ts';
import { openMessageContent, sealMediaBytes } from './message-content.ts';
import { mediaRejectedReply } from './notices.ts';

/** What became of one attachment. */
export type MediaFetchResult = 'stored' | 'rejected' | 'failed' | 'skipped';

/**
 * The 'media-fetch' job: downloads an attachment through its channel, passes it through the MediaSanitizer with the
 * inbox's media policy (images re-encoded without EXIF/XMP/GPS, other types checked by magic bytes), and stores the
 * result sealed with the conversation's key. A refusal marks the row rejected; with the policy 'reject' the customer
 * gets the polite text-only reply once per conversation. Retryable provider errors are thrown for the queue to retry.
 */
export class MediaFetcher {
  constructor(private readonly deps: InboxDeps) {}

  async fetch(mediaId: string): Promise<MediaFetchResult> {
    const media = await this.deps.media.findById(mediaId);
    if (!media || media.state !== 'pending' || !media.message_id) return 'skipped';
    const conversation = await this.deps.conversations.findById(media.conversation_id);
    const message = await this.deps.messages.findById(media.message_id);
    const key = await this.deps.keys.existingDataKey('conversation', media.conversation_id);
    if (!conversation || !message?.body_enc || !key) return 'skipped';
    const channel = this.deps.channels.get(conversation.channel_id);
    const inbox = await this.deps.inboxes.get(conversation.inbox_id);
    if (!channel || !inbox) return 'skipped';
    const content = openMessageContent(key, message.id, message.body_enc);
    const ref = toRef(content.extra?.media);
    if (!ref) {
      await this.deps.media.update(media.id, { state: 'failed' });
      return 'failed';
    }
    if (inbox.media === 'reject') {
      await this.#reject(media.id, conversation.id, true);
      return 'rejected';
    }
    let downloaded;
    try {
      downloaded = await channel.downloadMedia(ref);
    } catch (error) {
      if (error instanceof ChannelApiError && !error.retryable) {
        await this.deps.media.update(media.id, { state: 'failed' });
        this.deps.logger.warn({ mediaId, providerCode: error.providerCode }, 'media download refused by the provider');
        return 'failed';
      }
      throw error;
    }
    const result = await this.deps.sanitizer.sanitize(downloaded.data, {
      policy: inbox.media,
      claimedMime: downloaded.mimeType ?? ref.mimeType,
      maxBytes: channel.capabilities.maxMediaBytes,
      sticker: message.kind === 'sticker',
    });
    if (!result.ok) {
      await this.#reject(media.id, conversation.id, result.reason === 'rejected-by-policy');
      this.deps.logger.info({ mediaId, reason: result.reason }, 'media refused by the sanitizer');
      return 'rejected';
    }
    await this.deps.media.update(media.id, {
      data_enc: sealMediaBytes(key, media.id, result.data),
      mime_type: result.mimeType,
      size: result.data.length,
      state: 'stored',
    });
    if (conversation.state !== 'pending_consent') {
      this.deps.events.publish({
        type: 'message.updated',
        inboxId: conversation.inbox_id,
        conversationId: conversation.id,
        messageId: message.id,
        status: message.status,
      });
    }
    return 'stored';
  }

  /** The job gave up (retries spent): the agent sees the file as failed instead of pending forever. */
  async markFailed(mediaId: string): Promise<void> {
    const media = await this.deps.media.findById(mediaId);
    if (media?.state === 'pending') await this.deps.media.update(mediaId, { state: 'failed' });
  }

  async #reject(mediaId: string, conversationId: string, politeReply: boolean): Promise<void> {
    await this.deps.transactions.run(async (tx) => {
      await tx.media.update(mediaId, { state: 'rejected', data_enc: null, size: 0 });
      if (!politeReply || (await tx.media.countByState(conversationId, 'rejected')) !== 1) return;
      const conversation = await tx.conversations.findById(conversationId);
      const inbox = conversation ? await this.deps.inboxes.get(conversation.inbox_id) : undefined;
      if (!conversation || !inbox) return;
      await this.deps.outbox.queueIn(tx, {
        conversation,
        kind: 'text',
        content: { text: mediaRejectedReply(inbox.language) },
      });
    });
  }
}

function toRef(value: unknown): InboundMediaRef | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.providerMediaId !== 'string') return undefined;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return {
    providerMediaId: v.providerMediaId,
    mimeType: str(v.mimeType),
    fileName: str(v.fileName),
    sha256: str(v.sha256),
    size: typeof v.size === 'number' ? v.size : undefined,
  };
}
