import { randomBytes } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type {
  Channel,
  ChannelCapabilities,
  DownloadedMedia,
  InboundMediaRef,
  OutboundCommand,
  SendResult,
  WebhookResult,
} from '../../core/channel/channel.port.ts';
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import { VISITOR_OUTBOUND_PREFIX } from '../../core/inbox/visitor-chat.service.ts';
import type { ChannelDeps } from '../channel-module.ts';
import type { WebchatChannelConfig } from './webchat.config.ts';

/** Largest file in either direction (uploads are checked again by the media sanitizer). */
export const WEBCHAT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * The website chat keeps its messages itself: no window, no templates, no provider limit on the pace. Consent is
 * given in the chat window before the first message, so the notice needs no buttons or keywords.
 */
export const WEBCHAT_CAPABILITIES: ChannelCapabilities = Object.freeze({
  messagingWindowHours: null,
  supportsButtons: false,
  supportsLists: false,
  supportsTemplates: false,
  supportsReadReceipts: false,
  messagesPerSecond: 50,
  maxMediaBytes: WEBCHAT_MAX_FILE_BYTES,
  supportsOutboundMedia: true,
  maxOutboundMediaBytes: Object.freeze({
    image: WEBCHAT_MAX_FILE_BYTES,
    document: WEBCHAT_MAX_FILE_BYTES,
    audio: WEBCHAT_MAX_FILE_BYTES,
    video: WEBCHAT_MAX_FILE_BYTES,
  }),
  maxTextChars: 4096,
});

/** How long an upload waits for the media fetch that sanitizes it (which the upload request itself runs at once). */
const UPLOAD_TTL_MS = 2 * 60 * 1000;

/**
 * A website chat as a sparsam channel. There is no provider: the "send" of a staff message marks it ready for the
 * visitor's window (the message is already stored, sealed, by the outbox) and answers with a provider id derived
 * from sparsam's message id, which the window's acknowledgements name (delivered, read). Uploads are held in memory
 * only until the media fetch has passed them through the sanitizer.
 */
export class WebchatChannel implements Channel {
  readonly kind = 'webchat' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities = WEBCHAT_CAPABILITIES;
  readonly config: WebchatChannelConfig;
  readonly #uploads = new Map<string, { data: Buffer; mimeType: string | undefined; expires: number }>();
  readonly #now: () => number;

  constructor(config: WebchatChannelConfig, deps: ChannelDeps) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.config = config;
    this.#now = deps.now ?? Date.now;
  }

  /** The chat posts to its own routes (/webchat/:channelId/…), not to a webhook. */
  verifyAndParse(): WebhookResult {
    throw new AppError('VALIDATION', 'the website chat takes messages at /webchat/<channelId>/messages, not here');
  }

  send(command: OutboundCommand): Promise<SendResult> {
    if (command.type === 'read') return Promise.resolve({ providerMessageId: undefined });
    if (command.type === 'template') {
      return Promise.reject(new AppError('VALIDATION', 'the website chat has no templates; send a text instead'));
    }
    if (command.type === 'list') {
      // capabilities.supportsLists is false: core never asks; refusing keeps a wrong call visible.
      return Promise.reject(new AppError('VALIDATION', 'the website chat has no list messages; send a text instead'));
    }
    // A direct reply before an erasure (declined, STOP) has no stored message: the window learns of it by the
    // erasure itself (its token opens nothing any more).
    if (!command.messageId) return Promise.resolve({ providerMessageId: undefined });
    return Promise.resolve({ providerMessageId: `${VISITOR_OUTBOUND_PREFIX}${command.messageId}` });
  }

  acceptUpload(data: Buffer, mimeType: string | undefined, fileName: string | undefined): InboundMediaRef {
    const now = this.#now();
    for (const [id, upload] of this.#uploads) if (upload.expires < now) this.#uploads.delete(id);
    const id = `wcu-${randomBytes(16).toString('base64url')}`;
    this.#uploads.set(id, { data, mimeType, expires: now + UPLOAD_TTL_MS });
    return { providerMediaId: id, mimeType, fileName, sha256: undefined, size: data.length };
  }

  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    const upload = this.#uploads.get(ref.providerMediaId);
    if (!upload) {
      // The upload request itself runs the media fetch; the queued fetch job may meet an upload held by another
      // instance, or one whose request was cut off. Retryable: by the next attempt the request has stored the file
      // (the job then skips it), or, if the request never finished, the job's retries run out and the file shows
      // failed. Never marked failed at once, which could overtake the request that is storing it.
      return Promise.reject(
        new ChannelApiError('upload_pending', 'the uploaded file is held by the request that received it', 503, true),
      );
    }
    return Promise.resolve({ data: upload.data, mimeType: upload.mimeType });
  }
}

export function createWebchatChannel(config: WebchatChannelConfig, deps: ChannelDeps): WebchatChannel {
  return new WebchatChannel(config, deps);
}
