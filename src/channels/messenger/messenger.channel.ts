import { AppError } from '../../shared/app-error.ts';
import type {
  Channel,
  ChannelCapabilities,
  DownloadedMedia,
  InboundMediaRef,
  OutboundCommand,
  SendResult,
  WebhookRequest,
  WebhookResult,
} from '../../core/channel/channel.port.ts';
import type { ChannelDeps } from '../channel-module.ts';
import { NO_OUTBOUND_MEDIA } from '../../core/channel/channel.port.ts';
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import { MESSENGER_LIMITS, MessengerClient } from './messenger.client.ts';
import { mapMessengerWebhook, messengerSenderKey, type SenderKey } from './messenger.mapper.ts';
import { parseMessengerWebhook } from './messenger.parser.ts';
import {
  MESSENGER_SIGNATURE_HEADER,
  answerMessengerHandshake,
  verifyMessengerSignature,
} from './messenger.signature.ts';

import type { MessengerChannelConfig } from './messenger.config.ts';

export type { MessengerChannelConfig };

/**
 * Messenger has the 24-hour standard messaging window like WhatsApp, but no templates: core allows free text within
 * 24 h of the customer's last message; the client falls back to the HUMAN_AGENT tag when Meta's clock disagrees.
 * Button templates carry the consent buttons. Attachments up to 25 MB.
 */
export const MESSENGER_CAPABILITIES: ChannelCapabilities = Object.freeze({
  messagingWindowHours: 24,
  supportsButtons: true,
  supportsLists: false,
  supportsTemplates: false,
  supportsReadReceipts: false,
  messagesPerSecond: 10,
  maxMediaBytes: MESSENGER_LIMITS.maxAttachmentBytes,
  // Not yet: Messenger attachments carry no caption, so the agent's text would need a second message whose failure
  // the single message row cannot show. Core refuses files for Messenger conversations before storing anything.
  supportsOutboundMedia: false,
  maxTextChars: MESSENGER_LIMITS.maxText,
  maxOutboundMediaBytes: NO_OUTBOUND_MEDIA,
});

/** A Facebook page's Messenger inbox as a sparsam channel (see {@link createMessengerChannel}). */
export class MessengerChannel implements Channel {
  readonly kind = 'messenger' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities = MESSENGER_CAPABILITIES;
  readonly client: MessengerClient;
  private readonly senderKey: SenderKey;

  constructor(
    private readonly config: MessengerChannelConfig,
    deps: ChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.senderKey = messengerSenderKey(config.appSecret);
    this.client = new MessengerClient({
      graphBaseUrl: config.graphBaseUrl,
      graphApiVersion: config.graphApiVersion,
      pageId: config.pageId,
      pageAccessToken: config.pageAccessToken,
      fetch: deps.fetch,
    });
  }

  /**
   * GET: Meta's subscription handshake (verify token). POST: `X-Hub-Signature-256` over the raw body, then every
   * entry must be for this page; messages, postbacks, quick replies, reactions, edits, echoes and deliveries become
   * events, standby and read watermarks are logged as left out.
   */
  verifyAndParse(request: WebhookRequest): WebhookResult {
    if (request.method === 'GET') return answerMessengerHandshake(request.query, this.config.verifyToken);
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'Messenger webhooks are GET or POST requests');
    verifyMessengerSignature(request.headers[MESSENGER_SIGNATURE_HEADER], request.rawBody, this.config.appSecret);
    const mapping = mapMessengerWebhook(
      parseMessengerWebhook(request.body, this.config.pageId),
      this.id,
      this.senderKey,
    );
    return { kind: 'events', events: mapping.events, ignored: mapping.ignored };
  }

  async send(command: OutboundCommand): Promise<SendResult> {
    switch (command.type) {
      case 'text':
        // Messenger's Send API has no reply reference for pages: the reply is sent as a plain message.
        return { providerMessageId: await this.client.sendText(command.address, command.text) };
      case 'buttons': {
        const text = command.footer ? `${command.text}\n\n${command.footer}` : command.text;
        if ([...text].length <= MESSENGER_LIMITS.maxTemplateText) {
          return { providerMessageId: await this.client.sendButtons(command.address, text, command.buttons) };
        }
        // Longer than a button template holds (the privacy notice with its link): the whole text as a message, then
        // the buttons under its first paragraph (the question they answer).
        await this.client.sendText(command.address, text);
        const prompt = [...(text.split('\n')[0] ?? text)].slice(0, MESSENGER_LIMITS.maxTemplateText).join('');
        return { providerMessageId: await this.client.sendButtons(command.address, prompt, command.buttons) };
      }
      case 'media':
        return {
          providerMessageId: await this.client.sendMedia(
            command.address,
            command.mediaType,
            command.data,
            command.mimeType,
            command.fileName,
          ),
        };
      case 'template':
        throw new ChannelApiError('unsupported', 'Messenger has no message templates', 400, false);
      case 'list':
        // capabilities.supportsLists is false: core never asks; refusing keeps a wrong call visible.
        throw new ChannelApiError('unsupported', 'Messenger has no list messages', 400, false);
      case 'read':
        // mark_seen needs the customer's id, which a read command does not carry (supportsReadReceipts is false).
        return { providerMessageId: undefined };
    }
  }

  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    return this.client.download(ref.providerMediaId, this.capabilities.maxMediaBytes);
  }
}

/** The callback URL to paste into the Meta app's Messenger webhook settings. */
export function messengerWebhookUrl(baseUrl: string, channelId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/webhooks/messenger/${encodeURIComponent(channelId)}`;
}

/** The factory of kind `messenger` (messenger.module.ts). */
export function createMessengerChannel(config: MessengerChannelConfig, deps: ChannelDeps): MessengerChannel {
  return new MessengerChannel(config, deps);
}
