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
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import { TELEGRAM_MAX_DOWNLOAD_BYTES, TELEGRAM_MAX_TEXT, TelegramClient } from './telegram.client.ts';
import {
  mapTelegramUpdate,
  splitTelegramMessageId,
  telegramChatKey,
  telegramMessageId,
  type ChatKey,
} from './telegram.mapper.ts';
import { parseTelegramUpdate } from './telegram.parser.ts';
import { TELEGRAM_SECRET_HEADER, verifyTelegramSecretToken } from './telegram.signature.ts';

import type { TelegramChannelConfig } from './telegram.config.ts';

export type { TelegramChannelConfig };

/**
 * Telegram bots have no customer-service window and no templates: a bot may write to anyone who started it, at any
 * time, until the customer blocks it. Inline keyboards carry the consent buttons. There are no read receipts for
 * bots. About 30 messages per second per bot (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
 */
export const TELEGRAM_CAPABILITIES: ChannelCapabilities = Object.freeze({
  messagingWindowHours: null,
  supportsButtons: true,
  supportsLists: false,
  // Inline keyboards take many rows; ten keep a question readable.
  maxReplyOptions: 10,
  supportsTemplates: false,
  supportsReadReceipts: false,
  messagesPerSecond: 30,
  maxMediaBytes: TELEGRAM_MAX_DOWNLOAD_BYTES,
  // Bot API uploads (multipart through grammY's InputFile): photos up to 10 MB, other files up to 50 MB
  // (https://core.telegram.org/bots/api#sending-files).
  supportsOutboundMedia: true,
  maxTextChars: TELEGRAM_MAX_TEXT,
  maxOutboundMediaBytes: Object.freeze({
    image: 10 * 1024 * 1024,
    document: 50 * 1024 * 1024,
    audio: 50 * 1024 * 1024,
    video: 50 * 1024 * 1024,
  }),
});

/** The dependencies a Telegram channel uses; `now` and `logger` are optional (tests pass a clock). */
export type TelegramChannelDeps = ChannelDeps;

/** A Telegram bot as a sparsam channel (see {@link createTelegramChannel}). */
export class TelegramChannel implements Channel {
  readonly kind = 'telegram' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities = TELEGRAM_CAPABILITIES;
  readonly client: TelegramClient;
  private readonly now: () => number;
  private readonly chatKey: ChatKey;
  private readonly logger: ChannelDeps['logger'];

  constructor(
    private readonly config: TelegramChannelConfig,
    deps: TelegramChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger;
    this.chatKey = telegramChatKey(config.botToken);
    this.client = new TelegramClient({ botToken: config.botToken, apiBaseUrl: config.apiBaseUrl, fetch: deps.fetch });
  }

  /**
   * Checks the secret header, parses the one Update in the body and maps it. A tapped inline button is acknowledged
   * with answerCallbackQuery in the background (it only stops the spinner in the customer's app; the tap itself is
   * committed by the caller, and a failed acknowledgement changes nothing). Parts left out (group chats, other update
   * types) are logged with a content-free reason and answered 200 so that Telegram does not redeliver them.
   */
  verifyAndParse(request: WebhookRequest): WebhookResult {
    verifyTelegramSecretToken(request.headers[TELEGRAM_SECRET_HEADER], this.config.secretToken);
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'Telegram webhooks are POST requests');
    const update = parseTelegramUpdate(request.body);
    const mapping = mapTelegramUpdate(update, this.id, this.now(), this.chatKey);
    if (mapping.callbackQueryId) {
      const id = mapping.callbackQueryId;
      this.client.answerCallbackQuery(id).catch((error: unknown) => {
        this.logger?.warn(
          { channelId: this.id, code: error instanceof ChannelApiError ? error.providerCode : 'network' },
          'telegram answerCallbackQuery failed',
        );
      });
    }
    const ignored = mapping.ignored.length > 0 ? [{ updateId: update.update_id, parts: mapping.ignored }] : [];
    return { kind: 'events', events: mapping.events, ignored };
  }

  async send(command: OutboundCommand): Promise<SendResult> {
    switch (command.type) {
      case 'text': {
        const reply = command.replyToProviderMessageId
          ? splitTelegramMessageId(command.replyToProviderMessageId)
          : undefined;
        const sent = await this.client.sendText(command.address, command.text, reply?.messageId);
        return { providerMessageId: telegramMessageId(this.chatKey(sent.chat.id), sent.message_id) };
      }
      case 'buttons': {
        // Telegram has no footer on a message: it is appended as a last paragraph.
        const text = command.footer ? `${command.text}\n\n${command.footer}` : command.text;
        const sent = await this.client.sendButtons(command.address, text, command.buttons);
        return { providerMessageId: telegramMessageId(this.chatKey(sent.chat.id), sent.message_id) };
      }
      case 'media': {
        const sent = await this.client.sendMedia(
          command.address,
          command.mediaType,
          command.data,
          command.fileName,
          command.caption,
          command.voice === true,
        );
        return { providerMessageId: telegramMessageId(this.chatKey(sent.chat.id), sent.message_id) };
      }
      case 'template':
        // capabilities.supportsTemplates is false: core never asks; refusing keeps a wrong call visible.
        throw new ChannelApiError('unsupported', 'Telegram has no message templates', 400, false);
      case 'list':
        // capabilities.supportsLists is false: core never asks; refusing keeps a wrong call visible.
        throw new ChannelApiError('unsupported', 'Telegram has no list messages', 400, false);
      case 'read':
        // Bots cannot mark messages as read (supportsReadReceipts false): nothing to send.
        return { providerMessageId: undefined };
    }
  }

  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    return this.client.downloadFile(ref.providerMediaId, this.capabilities.maxMediaBytes);
  }

  /** `sparsam channel set-webhook`: registers `<baseUrl>/webhooks/telegram/<id>` with the secret token. */
  async setWebhook(baseUrl: string): Promise<{ url: string }> {
    const url = telegramWebhookUrl(baseUrl, this.id);
    await this.client.setWebhook(url, this.config.secretToken);
    return { url };
  }
}

/** The URL Telegram must call for a channel: `<baseUrl>/webhooks/telegram/<channel id>`. */
export function telegramWebhookUrl(baseUrl: string, channelId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/webhooks/telegram/${encodeURIComponent(channelId)}`;
}

/** The factory of kind `telegram` (telegram.module.ts). */
export function createTelegramChannel(config: TelegramChannelConfig, deps: TelegramChannelDeps): TelegramChannel {
  return new TelegramChannel(config, deps);
}
