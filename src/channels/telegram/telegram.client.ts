import type { Api } from 'grammy';
import type { InlineKeyboardButton, Message } from 'grammy/types';
import type { DownloadedMedia } from '../../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../../core/channel/channel-errors.ts';
import { downloadLimited } from '../media-download.ts';

/** The Bot API's download limit for `getFile` (https://core.telegram.org/bots/api#getfile): 20 MB. */
export const TELEGRAM_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
/** Longest text message after entity parsing (https://core.telegram.org/bots/api#sendmessage): 4096 characters. */
export const TELEGRAM_MAX_TEXT = 4096;

export interface TelegramClientOptions {
  botToken: string;
  /** `https://api.telegram.org`, a local Bot API server, or the simulator. */
  apiBaseUrl: string;
  fetch: typeof fetch;
  /** Seconds before a Bot API call is given up (grammY's default is 500 s, far too long for a queue worker). */
  timeoutSeconds?: number;
}

/**
 * Bot API calls for one bot, through grammY's {@link Api} (`new Api(token, { apiRoot })`): grammY keeps the method
 * types in step with the Bot API, builds multipart uploads, and separates "Telegram said no" (GrammyError, with
 * `parameters.retry_after` on 429) from "no answer" (HttpError). This class turns those into sparsam's
 * {@link ChannelApiError} / {@link ChannelNetworkError}, without the request payload (it holds the chat id and text).
 * grammY's `sensitiveLogs` stays off, so its errors never quote the URL with the token.
 */
/** grammY (about 17 MiB) is loaded with the first Bot API call, so that installations without Telegram never load it. */
let grammy: typeof import('grammy') | undefined;
async function loadGrammy(): Promise<typeof import('grammy')> {
  grammy ??= await import('grammy');
  return grammy;
}

export class TelegramClient {
  #api: Api | undefined;
  private readonly root: string;

  constructor(private readonly options: TelegramClientOptions) {
    this.root = options.apiBaseUrl.replace(/\/+$/, '');
  }

  /** The grammY client of this bot, made on first use. */
  async #client(): Promise<Api> {
    const { Api } = await loadGrammy();
    this.#api ??= new Api(this.options.botToken, {
      apiRoot: this.root,
      fetch: adaptFetch(this.options.fetch) as never,
      timeoutSeconds: this.options.timeoutSeconds ?? 30,
      sensitiveLogs: false,
    });
    return this.#api;
  }

  async sendText(chatId: string, text: string, replyToMessageId?: number): Promise<Message.TextMessage> {
    return this.call('sendMessage', (api) =>
      api.sendMessage(chatId, text, {
        ...(replyToMessageId !== undefined
          ? { reply_parameters: { message_id: replyToMessageId, allow_sending_without_reply: true } }
          : {}),
      }),
    );
  }

  /** Text with an inline keyboard, one button per row (titles stay readable on narrow phones). */
  async sendButtons(chatId: string, text: string, buttons: { id: string; title: string }[]): Promise<Message> {
    for (const button of buttons) {
      // callback_data is limited to 1-64 bytes (https://core.telegram.org/bots/api#inlinekeyboardbutton).
      const size = Buffer.byteLength(button.id, 'utf8');
      if (size < 1 || size > 64) {
        throw new ChannelApiError('button_id_too_long', 'a button id must be 1 to 64 bytes for Telegram', 400, false);
      }
    }
    const inline_keyboard: InlineKeyboardButton[][] = buttons.map((b) => [{ text: b.title, callback_data: b.id }]);
    return this.call('sendMessage', (api) => api.sendMessage(chatId, text, { reply_markup: { inline_keyboard } }));
  }

  async sendMedia(
    chatId: string,
    mediaType: 'image' | 'document' | 'audio' | 'video',
    data: Buffer,
    fileName: string | undefined,
    caption: string | undefined,
    /** An Ogg/Opus voice note: sent with sendVoice, which Telegram shows as a voice message. */
    voice = false,
  ): Promise<Message> {
    // grammY writes the name unquoted into the part header and refuses line breaks: keep it to a plain name.
    const safeName = fileName?.replace(/[\r\n";\\/]/g, '_').slice(0, 200) || undefined;
    const file = new (await loadGrammy()).InputFile(data, safeName);
    const other = caption ? { caption } : {};
    switch (mediaType) {
      case 'image':
        return this.call('sendPhoto', (api) => api.sendPhoto(chatId, file, other));
      case 'video':
        return this.call('sendVideo', (api) => api.sendVideo(chatId, file, other));
      case 'audio':
        if (voice) return this.call('sendVoice', (api) => api.sendVoice(chatId, file, other));
        return this.call('sendAudio', (api) => api.sendAudio(chatId, file, other));
      case 'document':
        return this.call('sendDocument', (api) => api.sendDocument(chatId, file, other));
    }
  }

  async answerCallbackQuery(callbackQueryId: string): Promise<void> {
    await this.call('answerCallbackQuery', (api) => api.answerCallbackQuery(callbackQueryId));
  }

  /** Points the bot's webhook at sparsam; Telegram then sends `secretToken` in X-Telegram-Bot-Api-Secret-Token. */
  async setWebhook(url: string, secretToken: string): Promise<void> {
    await this.call('setWebhook', (api) =>
      api.setWebhook(url, {
        secret_token: secretToken,
        // Only what sparsam maps; everything else would be refused work.
        allowed_updates: ['message', 'edited_message', 'callback_query', 'my_chat_member'],
      }),
    );
  }

  async getWebhookInfo(): Promise<{ url: string; pendingUpdateCount: number; lastErrorMessage?: string }> {
    const info = await this.call('getWebhookInfo', (api) => api.getWebhookInfo());
    return {
      url: info.url ?? '',
      pendingUpdateCount: info.pending_update_count,
      ...(info.last_error_message ? { lastErrorMessage: info.last_error_message } : {}),
    };
  }

  /**
   * Downloads a file the customer sent: `getFile` gives a `file_path`, valid for at least an hour, fetched from
   * `<apiRoot>/file/bot<token>/<file_path>`. Refused before downloading when Telegram reports a size over `maxBytes`.
   */
  async downloadFile(fileId: string, maxBytes: number): Promise<DownloadedMedia> {
    const file = await this.call('getFile', (api) => api.getFile(fileId));
    if (file.file_size !== undefined && file.file_size > maxBytes) {
      throw new ChannelApiError('media_too_large', `media is larger than the limit of ${maxBytes} bytes`, 413, false);
    }
    if (!file.file_path) {
      throw new ChannelApiError('no_file_path', 'Telegram gave no download path for this file', 400, false);
    }
    const url = `${this.root}/file/bot${this.options.botToken}/${file.file_path}`;
    return downloadLimited(this.options.fetch, url, { maxBytes, what: 'Telegram file' });
  }

  private async call<T>(method: string, fn: (api: Api) => Promise<T>): Promise<T> {
    const api = await this.#client();
    try {
      return await fn(api);
    } catch (error) {
      throw toChannelError(method, error);
    }
  }
}

/**
 * grammY on Node targets node-fetch: multipart uploads are a Node stream body with a `connection: keep-alive` header.
 * The WHATWG fetch in Node (undici) refuses that header and needs `duplex: 'half'` for a streamed body; this adapter
 * makes any standard fetch accept grammY's requests, so the channel uses the injected `deps.fetch` throughout.
 */
function adaptFetch(fetchImpl: typeof fetch): typeof fetch {
  return (input, init) => {
    if (!init) return fetchImpl(input);
    const headers = new Headers(init.headers);
    headers.delete('connection');
    const streamed =
      init.body !== undefined &&
      init.body !== null &&
      typeof init.body === 'object' &&
      Symbol.asyncIterator in init.body;
    return fetchImpl(input, { ...init, headers, ...(streamed ? { duplex: 'half' } : {}) } as RequestInit);
  };
}

/**
 * Maps grammY's errors to the channel errors. 429 carries `parameters.retry_after` in seconds
 * (https://core.telegram.org/bots/api#responseparameters) → `retryAfterMs`; 5xx is retryable; 400/403 (chat not
 * found, bot blocked by the user) are not. The description is Telegram's own short text and holds no chat content.
 */
export function toChannelError(method: string, error: unknown): Error {
  // Errors come from a call, so grammY is loaded by then.
  if (grammy && error instanceof grammy.GrammyError) {
    const code = error.error_code;
    const retryAfter = error.parameters?.retry_after;
    const retryable = code === 429 || code >= 500;
    return new ChannelApiError(
      String(code),
      error.description.slice(0, 200),
      code,
      retryable,
      retryAfter !== undefined ? retryAfter * 1000 : undefined,
    );
  }
  if (grammy && error instanceof grammy.HttpError) {
    return new ChannelNetworkError(`Telegram ${method}: no answer from the Bot API`);
  }
  if (error instanceof ChannelApiError || error instanceof ChannelNetworkError) return error;
  return new ChannelNetworkError(`Telegram ${method} failed`);
}
