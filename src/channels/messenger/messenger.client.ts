import type { DownloadedMedia } from '../../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../../core/channel/channel-errors.ts';
import { downloadLimited } from '../media-download.ts';
import { assertPublicUrl } from '../public-address.ts';
import { graphError } from '../whatsapp-cloud/whatsapp-cloud.client.ts';

/** Messenger's limits (https://developers.facebook.com/docs/messenger-platform/reference/send-api). */
export const MESSENGER_LIMITS = Object.freeze({
  maxText: 2000,
  maxTemplateText: 640,
  maxButtons: 3,
  maxButtonTitle: 20,
  maxPayload: 1000,
  maxAttachmentBytes: 25 * 1024 * 1024,
});

/**
 * The tag used when a reply falls outside the 24-hour standard messaging window. HUMAN_AGENT is the tag Meta made for
 * exactly what sparsam sends: a person on the business's team answering a customer's own question, up to 7 days
 * after the customer's last message; it needs the "Human Agent" permission in the app review. ACCOUNT_UPDATE is for
 * notifications about a change to the customer's account or application, not for conversations, and using it for
 * replies breaks the Messenger policy (and can get the page restricted).
 * https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags
 */
export const MESSENGER_OUTSIDE_WINDOW_TAG = 'HUMAN_AGENT';

/** Graph codes after which the same Send API call may succeed later (besides HTTP 429/5xx). */
const RETRYABLE_MESSENGER_CODES = new Set(['2', '4', '17', '32', '613', '1200']);
/** Code 10 with this subcode: "This message is sent outside of allowed window". */
const OUTSIDE_WINDOW_SUBCODE = 2018278;

export interface MessengerClientOptions {
  graphBaseUrl: string;
  graphApiVersion: string;
  pageId: string;
  pageAccessToken: string;
  fetch: typeof fetch;
  timeoutMs?: number;
}

type SendBody = Record<string, unknown>;

/**
 * The Messenger Send API for one page: `POST /{version}/{page id}/messages` with the page access token in the
 * Authorization header (never in the URL, which ends up in proxy logs). Errors are Graph errors, mapped with the
 * WhatsApp channel's {@link graphError} plus Messenger's own retryable codes.
 */
export class MessengerClient {
  private readonly messagesUrl: string;
  private readonly graphOrigin: string;

  constructor(private readonly options: MessengerClientOptions) {
    const root = `${options.graphBaseUrl.replace(/\/+$/, '')}/${options.graphApiVersion}`;
    this.messagesUrl = `${root}/${encodeURIComponent(options.pageId)}/messages`;
    this.graphOrigin = new URL(options.graphBaseUrl).origin;
  }

  async sendText(psid: string, text: string): Promise<string> {
    if (text.trim().length === 0) throw invalid('the text is empty');
    if ([...text].length > MESSENGER_LIMITS.maxText) {
      throw invalid(`a Messenger text holds at most ${MESSENGER_LIMITS.maxText} characters`);
    }
    return this.send(psid, { message: { text } });
  }

  /** A button template with postback buttons: at most 3, titles at most 20 characters, text at most 640. */
  async sendButtons(psid: string, text: string, buttons: { id: string; title: string }[]): Promise<string> {
    if (buttons.length === 0 || buttons.length > MESSENGER_LIMITS.maxButtons) {
      throw invalid(`a button template holds 1-${MESSENGER_LIMITS.maxButtons} buttons`);
    }
    for (const b of buttons) {
      if (b.title.length === 0 || [...b.title].length > MESSENGER_LIMITS.maxButtonTitle) {
        throw invalid(`a button title must be 1-${MESSENGER_LIMITS.maxButtonTitle} characters`);
      }
      if (b.id.length === 0 || b.id.length > MESSENGER_LIMITS.maxPayload) throw invalid('a button id is too long');
    }
    if (text.trim().length === 0 || [...text].length > MESSENGER_LIMITS.maxTemplateText) {
      throw invalid(`a button template's text must be 1-${MESSENGER_LIMITS.maxTemplateText} characters`);
    }
    return this.send(psid, {
      message: {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'button',
            text,
            buttons: buttons.map((b) => ({ type: 'postback', title: b.title, payload: b.id })),
          },
        },
      },
    });
  }

  /** Uploads the file with the message (multipart `filedata`); sparsam never hands out a URL to its media. */
  async sendMedia(
    psid: string,
    mediaType: 'image' | 'document' | 'audio' | 'video',
    data: Buffer,
    mimeType: string,
    fileName: string | undefined,
  ): Promise<string> {
    if (data.length > MESSENGER_LIMITS.maxAttachmentBytes) throw invalid('the file is larger than Messenger accepts');
    const type = mediaType === 'document' ? 'file' : mediaType;
    const build = (messagingType: string, tag?: string) => {
      const form = new FormData();
      form.set('recipient', JSON.stringify({ id: psid }));
      form.set('messaging_type', messagingType);
      if (tag) form.set('tag', tag);
      form.set('message', JSON.stringify({ attachment: { type, payload: { is_reusable: false } } }));
      form.set('filedata', new Blob([data], { type: mimeType }), fileName ?? `${type}`);
      return form;
    };
    return this.withWindowFallback((messagingType, tag) => this.post(build(messagingType, tag)));
  }

  /**
   * Downloads an attachment by the URL in the webhook (Meta's CDN, signed and short-lived). Only https URLs, or URLs
   * on the configured Graph host (the simulator in tests), are fetched.
   */
  async download(url: string, maxBytes: number): Promise<DownloadedMedia> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ChannelApiError('invalid_media_url', 'the media reference is not a URL', 400, false);
    }
    if (parsed.protocol !== 'https:' && parsed.origin !== this.graphOrigin) {
      throw new ChannelApiError('invalid_media_url', 'attachment URLs must be https', 400, false);
    }
    // Outside the configured Graph host, the URL (and each redirect) must not point into this machine or network.
    const external = parsed.origin !== this.graphOrigin;
    return downloadLimited(this.options.fetch, url, {
      maxBytes,
      what: 'Messenger attachment',
      ...(external ? { checkUrl: (u: URL) => this.checkExternal(u), maxRedirects: 3 } : {}),
    });
  }

  private async checkExternal(url: URL): Promise<void> {
    if (url.protocol !== 'https:') {
      throw new ChannelApiError('invalid_media_url', 'attachment URLs must be https', 400, false);
    }
    await assertPublicUrl(url, 'Messenger attachment');
  }

  /**
   * Sends as RESPONSE (within 24 h of the customer's last message). When Messenger answers that the window has
   * closed (code 10, subcode 2018278: the clocks of sparsam and Meta can disagree by the time a queued reply
   * goes out), the same message is sent once more as MESSAGE_TAG with {@link MESSENGER_OUTSIDE_WINDOW_TAG}.
   */
  private send(psid: string, body: SendBody): Promise<string> {
    return this.withWindowFallback((messagingType, tag) =>
      this.post(
        JSON.stringify({ recipient: { id: psid }, messaging_type: messagingType, ...(tag ? { tag } : {}), ...body }),
      ),
    );
  }

  private async withWindowFallback(call: (messagingType: string, tag?: string) => Promise<string>): Promise<string> {
    try {
      return await call('RESPONSE');
    } catch (error) {
      if (!(error instanceof OutsideWindow)) throw error;
    }
    try {
      return await call('MESSAGE_TAG', MESSENGER_OUTSIDE_WINDOW_TAG);
    } catch (error) {
      if (error instanceof OutsideWindow) {
        throw new ChannelApiError(
          '10',
          'outside the 24h window, and the page may not use the HUMAN_AGENT tag for this reply',
          error.apiError.httpStatus,
          false,
        );
      }
      throw error;
    }
  }

  private async post(body: string | FormData): Promise<string> {
    let response: Response;
    try {
      response = await this.options.fetch(this.messagesUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.pageAccessToken}`,
          ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      throw new ChannelNetworkError(
        e.name === 'TimeoutError'
          ? 'Messenger did not answer in time'
          : `Messenger did not answer${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw messengerError(response.status, response.headers.get('retry-after'), text);
    let mid: unknown;
    try {
      mid = (JSON.parse(text) as { message_id?: unknown }).message_id;
    } catch {
      mid = undefined;
    }
    if (typeof mid !== 'string' || mid.length === 0) {
      throw new ChannelApiError('unexpected_answer', 'Messenger gave no message id', 502, true);
    }
    return mid;
  }
}

/** Thrown inside the client when Messenger refuses a RESPONSE because the window closed; never leaves the client. */
class OutsideWindow extends Error {
  constructor(readonly apiError: ChannelApiError) {
    super('outside window');
  }
}

/**
 * Maps a Send API error: {@link graphError} (code, details, Retry-After) plus Messenger's temporary codes
 * (2 service unavailable, 4/17/32/613 rate limits, 1200 temporary send failure) as retryable, and the
 * outside-the-window answer (code 10 / subcode 2018278) as a readable, permanent reason.
 */
export function messengerError(httpStatus: number, retryAfter: string | null, bodyText: string): Error {
  const base = graphError(httpStatus, retryAfter, bodyText);
  let subcode: number | undefined;
  try {
    const sub = (JSON.parse(bodyText) as { error?: { error_subcode?: unknown } }).error?.error_subcode;
    if (typeof sub === 'number') subcode = sub;
  } catch {
    // Not JSON.
  }
  if (base.providerCode === '10' && subcode === OUTSIDE_WINDOW_SUBCODE) {
    return new OutsideWindow(
      new ChannelApiError(
        '10',
        'outside the 24h window: the customer has not written for more than 24 hours',
        httpStatus,
        false,
      ),
    );
  }
  if (!base.retryable && RETRYABLE_MESSENGER_CODES.has(base.providerCode)) {
    return new ChannelApiError(base.providerCode, base.reason, httpStatus, true, base.retryAfterMs);
  }
  if (base.providerCode === '551') {
    return new ChannelApiError('551', 'this person is not available to receive messages right now', httpStatus, false);
  }
  return base;
}

function invalid(reason: string): ChannelApiError {
  return new ChannelApiError('invalid_request', reason, 400, false);
}
