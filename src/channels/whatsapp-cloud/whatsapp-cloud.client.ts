import { LIST_LIMITS, type InteractiveList } from '../../core/inbox/interactive-list.ts';
import type { DownloadedMedia } from '../../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../../core/channel/channel-errors.ts';
import { downloadLimited } from '../media-download.ts';

/**
 * Where and how a WhatsApp API is reached. The Cloud API (Graph) and 360dialog take the same JSON bodies but differ
 * in URLs and authentication, so the client is written once against this description.
 */
export interface WhatsAppEndpoints {
  /** POST: send a message or mark one as read. */
  messagesUrl: string;
  /** POST multipart: upload media, answers `{ id }`. */
  mediaUploadUrl: string;
  /** GET: a media id's metadata with a short-lived download `url`. */
  mediaInfoUrl(mediaId: string): string;
  /** Headers that authenticate every call (Bearer token, or D360-API-KEY). */
  authHeaders: Record<string, string>;
  /** Rewrites the download URL the media info gave (360dialog proxies Meta's lookaside host). */
  downloadUrl?(url: string): string;
  /** Name used in error messages ("WhatsApp Cloud API", "360dialog"). */
  providerName: string;
}

export interface WhatsAppClientOptions {
  endpoints: WhatsAppEndpoints;
  fetch: typeof fetch;
  /** Per API call (default 15 s); media downloads get {@link downloadTimeoutMs}. */
  timeoutMs?: number;
  /** Per media download (default 120 s: up to 100 MB over a slow link). */
  downloadTimeoutMs?: number;
}

/**
 * Graph error codes after which the same request may succeed later (PROTOCOL.md §6): 130429 throughput, 131056 pair
 * rate limit, 131000 "something went wrong", 4 app request limit, 80007 WABA rate limit, 133016 register limit.
 */
export const RETRYABLE_GRAPH_CODES: ReadonlySet<string> = new Set([
  '130429',
  '131056',
  '131000',
  '4',
  '80007',
  '133016',
]);

/** Meta's limits for reply buttons (interactive-reply-buttons-messages) and text bodies. */
export const WHATSAPP_LIMITS = Object.freeze({
  maxButtons: 3,
  maxButtonTitle: 20,
  maxButtonId: 256,
  maxTextBody: 4096,
  maxInteractiveBody: 1024,
  maxFooter: 60,
  maxCaption: 1024,
});

export type WhatsAppMediaType = 'image' | 'document' | 'audio' | 'video';

/** The values of one template send: body parameters, the header's value, URL buttons' values by index. */
export interface TemplateFillParameters {
  parameters: string[];
  header?: { format: 'TEXT'; text: string } | { format: 'IMAGE' | 'DOCUMENT' | 'VIDEO'; link: string };
  buttons?: { index: number; text: string }[];
}

/** The metadata of a media id (GET /{ver}/{media-id}). */
export interface WhatsAppMediaInfo {
  url: string;
  mimeType: string | undefined;
  size: number | undefined;
}

/**
 * A small client for the WhatsApp send and media endpoints. Every failure is one of two kinds: a
 * {@link ChannelApiError} carrying the provider's code, a short reason and whether a retry can help, or a
 * {@link ChannelNetworkError} when no answer came (refused, reset, DNS, timeout). Errors never carry the
 * recipient's number, the token or a URL.
 */
export class WhatsAppClient {
  private readonly endpoints: WhatsAppEndpoints;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly downloadTimeoutMs: number;

  constructor(options: WhatsAppClientOptions) {
    this.endpoints = options.endpoints;
    this.fetchImpl = options.fetch;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.downloadTimeoutMs = options.downloadTimeoutMs ?? 120_000;
  }

  /** Free text; link previews are off (a preview makes WhatsApp fetch the link, which can leak that it was sent). */
  async sendText(to: string, text: string, replyTo?: string): Promise<string> {
    checkText(text, WHATSAPP_LIMITS.maxTextBody, 'text');
    return this.sendMessage({
      to,
      type: 'text',
      text: { preview_url: false, body: text },
      ...(replyTo ? { context: { message_id: replyTo } } : {}),
    });
  }

  /** A reaction to one of the customer's messages; an empty emoji takes the reaction back. */
  async sendReaction(to: string, messageId: string, emoji: string): Promise<string> {
    return this.sendMessage({ to, type: 'reaction', reaction: { message_id: messageId, emoji } });
  }

  /** Interactive reply buttons: at most 3, titles 1–20 characters and unique, ids at most 256 characters. */
  async sendButtons(
    to: string,
    text: string,
    buttons: { id: string; title: string }[],
    footer?: string,
  ): Promise<string> {
    checkText(text, WHATSAPP_LIMITS.maxInteractiveBody, 'button message text');
    checkButtons(buttons);
    if (footer !== undefined && (footer.length === 0 || [...footer].length > WHATSAPP_LIMITS.maxFooter)) {
      throw invalidRequest(`the footer must be 1-${WHATSAPP_LIMITS.maxFooter} characters`);
    }
    return this.sendMessage({
      to,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text },
        ...(footer ? { footer: { text: footer } } : {}),
        action: { buttons: buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) },
      },
    });
  }

  /**
   * An interactive list: `text` as the body and a button (`list.button`) that opens the rows to choose from; the
   * customer's choice comes back as an `interactive.list_reply` with the row's id and title. Checked against
   * Meta's limits before the call (LIST_LIMITS: 10 sections, 10 rows in all, titles 24, descriptions 72, ids 200;
   * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages/).
   * Reusable for any list sparsam sends, the agent's reply or its own.
   */
  async sendInteractiveList(to: string, text: string, list: InteractiveList): Promise<string> {
    checkText(text, LIST_LIMITS.text, 'list message text');
    checkList(list);
    return this.sendMessage({
      to,
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text },
        action: {
          button: list.button,
          sections: list.sections.map((s) => ({
            ...(s.title ? { title: s.title } : {}),
            rows: s.rows.map((r) => ({
              id: r.id,
              title: r.title,
              ...(r.description ? { description: r.description } : {}),
            })),
          })),
        },
      },
    });
  }

  /**
   * A pre-approved template (the only message allowed outside the 24 h window) with its components' parameters:
   * the header's (its text placeholder, or the link of its image, document or video), the body's positional
   * parameters, and URL buttons' placeholders by button index
   * (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
   */
  async sendTemplate(
    to: string,
    name: string,
    language: string,
    fill: string[] | TemplateFillParameters,
  ): Promise<string> {
    if (!/^[a-z0-9_]{1,512}$/.test(name)) throw invalidRequest('a template name is lower-case letters, digits and _');
    const { parameters, header, buttons } = Array.isArray(fill) ? { parameters: fill } : fill;
    const components: Record<string, unknown>[] = [];
    if (header?.format === 'TEXT') {
      components.push({ type: 'header', parameters: [{ type: 'text', text: header.text }] });
    } else if (header) {
      const type = header.format.toLowerCase();
      components.push({ type: 'header', parameters: [{ type, [type]: { link: header.link } }] });
    }
    if (parameters.length > 0) {
      components.push({ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) });
    }
    for (const b of buttons ?? []) {
      components.push({
        type: 'button',
        sub_type: 'url',
        index: String(b.index),
        parameters: [{ type: 'text', text: b.text }],
      });
    }
    return this.sendMessage({
      to,
      type: 'template',
      template: { name, language: { code: language }, ...(components.length > 0 ? { components } : {}) },
    });
  }

  /**
   * Sends media uploaded before with {@link uploadMedia}, by its id. `voice` marks an Ogg/Opus audio as a voice
   * message (auto-download, microphone icon, transcription; `audio.voice: true`,
   * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/audio-messages/).
   */
  async sendMedia(
    to: string,
    mediaType: WhatsAppMediaType,
    mediaId: string,
    options: { caption?: string; fileName?: string; voice?: boolean } = {},
  ): Promise<string> {
    if (options.caption !== undefined && [...options.caption].length > WHATSAPP_LIMITS.maxCaption) {
      throw invalidRequest(`a caption is at most ${WHATSAPP_LIMITS.maxCaption} characters`);
    }
    const object: Record<string, string | boolean> = { id: mediaId };
    // WhatsApp shows no caption on audio.
    if (options.caption && mediaType !== 'audio') object.caption = options.caption;
    if (options.fileName && mediaType === 'document') object.filename = options.fileName;
    if (options.voice && mediaType === 'audio') object.voice = true;
    return this.sendMessage({ to, type: mediaType, [mediaType]: object });
  }

  /** Marks an inbound message (and the ones before it) as read: the customer sees blue ticks. */
  async markRead(messageId: string): Promise<void> {
    await this.call(this.endpoints.messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', status: 'read', message_id: messageId }),
    });
  }

  /** Uploads media (multipart: file, type, messaging_product) and answers its media id. */
  async uploadMedia(data: Buffer, mimeType: string, fileName = 'file'): Promise<string> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', mimeType);
    form.set('file', new Blob([new Uint8Array(data)], { type: mimeType }), fileName);
    const answer = await this.call(this.endpoints.mediaUploadUrl, { method: 'POST', body: form });
    const id = (answer as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || id.length === 0) throw unexpectedAnswer(this.endpoints.providerName, 'media upload');
    return id;
  }

  /** GET /{media-id}: the short-lived download URL (about 5 minutes) and what the provider knows of the file. */
  async mediaInfo(mediaId: string): Promise<WhatsAppMediaInfo> {
    const answer = (await this.call(this.endpoints.mediaInfoUrl(mediaId), { method: 'GET' })) as
      { url?: unknown; mime_type?: unknown; file_size?: unknown } | undefined;
    if (typeof answer?.url !== 'string') throw unexpectedAnswer(this.endpoints.providerName, 'media lookup');
    const size = Number(answer.file_size);
    return {
      url: answer.url,
      mimeType: typeof answer.mime_type === 'string' ? answer.mime_type : undefined,
      size: Number.isFinite(size) ? size : undefined,
    };
  }

  /**
   * Downloads a media id: looks up its URL, refuses early when the announced size is over `maxBytes`, then streams
   * the bytes with the auth headers and aborts as soon as more than `maxBytes` arrive.
   */
  async downloadMedia(mediaId: string, maxBytes: number): Promise<DownloadedMedia> {
    const info = await this.mediaInfo(mediaId);
    if (info.size !== undefined && info.size > maxBytes) {
      throw new ChannelApiError('media_too_large', `media is larger than the limit of ${maxBytes} bytes`, 413, false);
    }
    const url = this.endpoints.downloadUrl ? this.endpoints.downloadUrl(info.url) : info.url;
    const timeoutMs = this.downloadTimeoutMs;
    const fetchImpl = this.fetchImpl;
    const timed: typeof fetch = (input, init) => fetchImpl(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const media = await downloadLimited(timed, url, {
      maxBytes,
      headers: this.endpoints.authHeaders,
      what: `${this.endpoints.providerName} media`,
    });
    return { data: media.data, mimeType: media.mimeType ?? info.mimeType };
  }

  private async sendMessage(body: Record<string, unknown>): Promise<string> {
    const answer = (await this.call(this.endpoints.messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', ...body }),
    })) as { messages?: { id?: unknown }[] } | undefined;
    const id = answer?.messages?.[0]?.id;
    if (typeof id !== 'string' || id.length === 0) throw unexpectedAnswer(this.endpoints.providerName, 'send');
    return id;
  }

  /**
   * One API call: auth headers (unless `init.headers` carries its own authorization), timeout, JSON answer; errors
   * mapped to the two channel error kinds. Used by the account calls (whatsapp-cloud.account.ts) too.
   */
  async call(url: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        ...init,
        headers: { ...this.endpoints.authHeaders, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw networkError(this.endpoints.providerName, error, this.timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw networkError(this.endpoints.providerName, error, this.timeoutMs);
    }
    if (!response.ok) throw graphError(response.status, response.headers.get('retry-after'), text);
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw unexpectedAnswer(this.endpoints.providerName, 'call');
    }
  }
}

/**
 * Maps a non-2xx answer to a {@link ChannelApiError}. The Graph error body is
 * `{"error":{"message","type","code","error_subcode"?,"error_data":{"details"},"fbtrace_id"}}`
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes); Meta advises deciding by `code`,
 * and the agent is shown `error_data.details` (else the message without its "(#code) " prefix). Retryable: HTTP 429
 * and 5xx, and the codes in {@link RETRYABLE_GRAPH_CODES}; `Retry-After` (seconds or an HTTP date) becomes
 * `retryAfterMs`.
 */
export function graphError(httpStatus: number, retryAfter: string | null, bodyText: string): ChannelApiError {
  let code: string | undefined;
  let reason: string | undefined;
  try {
    const parsed = JSON.parse(bodyText) as {
      error?: { code?: unknown; message?: unknown; error_data?: { details?: unknown } };
      // 360dialog answers some errors in the On-Premises shape {errors:[{code,title,details}]}.
      errors?: { code?: unknown; title?: unknown; details?: unknown }[];
    };
    const e = parsed.error;
    if (e && (typeof e.code === 'number' || typeof e.code === 'string')) {
      code = String(e.code);
      const details = typeof e.error_data?.details === 'string' ? e.error_data.details : undefined;
      const message = typeof e.message === 'string' ? e.message.replace(/^\(#\d+\)\s*/, '') : undefined;
      reason = details || message;
    } else if (Array.isArray(parsed.errors) && parsed.errors[0]) {
      const first = parsed.errors[0];
      if (typeof first.code === 'number' || typeof first.code === 'string') code = String(first.code);
      reason =
        (typeof first.details === 'string' && first.details) ||
        (typeof first.title === 'string' && first.title) ||
        undefined;
    }
  } catch {
    // Not JSON (a proxy's HTML error page): only the status is known.
  }
  const providerCode = code ?? `http_${httpStatus}`;
  const retryable = httpStatus === 429 || httpStatus >= 500 || (code !== undefined && RETRYABLE_GRAPH_CODES.has(code));
  return new ChannelApiError(
    providerCode,
    shortReason(reason ?? `HTTP ${httpStatus}`),
    httpStatus,
    retryable,
    retryable ? parseRetryAfter(retryAfter) : undefined,
  );
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** At most 200 characters; digit runs that could be a phone number are masked. Used for every provider reason. */
export function shortReason(text: string): string {
  const masked = text.replace(/\+?\d[\d ()-]{6,}\d/g, '…');
  return masked.length > 200 ? `${masked.slice(0, 197)}...` : masked;
}

function networkError(provider: string, error: unknown, timeoutMs: number): ChannelNetworkError {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new ChannelNetworkError(`${provider} did not answer within ${timeoutMs} ms`);
  }
  const cause = (e as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  // The original message may quote the URL; keep only its kind and code.
  return new ChannelNetworkError(`${provider} did not answer${code ? ` (${code})` : ''}`, {
    cause: new Error(`${e.name}${code ? ` (${code})` : ''}`),
  });
}

function unexpectedAnswer(provider: string, what: string): ChannelApiError {
  return new ChannelApiError('unexpected_answer', `${provider} gave an unexpected answer to the ${what}`, 502, true);
}

function invalidRequest(reason: string): ChannelApiError {
  return new ChannelApiError('invalid_request', reason, 400, false);
}

function checkText(text: string, max: number, what: string): void {
  if (text.trim().length === 0) throw invalidRequest(`the ${what} is empty`);
  if ([...text].length > max) throw invalidRequest(`the ${what} is longer than ${max} characters`);
}

/** The same limits core checks (interactive-list.ts), again at the edge: a wrong call never reaches Meta. */
function checkList(list: InteractiveList): void {
  const chars = (s: string) => [...s].length;
  const rows = list.sections.flatMap((s) => s.rows);
  if (chars(list.button) < 1 || chars(list.button) > LIST_LIMITS.button) {
    throw invalidRequest(`a list's button is 1-${LIST_LIMITS.button} characters`);
  }
  if (list.sections.length < 1 || list.sections.length > LIST_LIMITS.sections) {
    throw invalidRequest(`a list has 1-${LIST_LIMITS.sections} sections`);
  }
  if (rows.length < 1 || rows.length > LIST_LIMITS.rows) throw invalidRequest(`a list has 1-${LIST_LIMITS.rows} rows`);
  for (const s of list.sections) {
    if (s.rows.length === 0) throw invalidRequest('every section of a list has a row');
    if ((s.title === undefined && list.sections.length > 1) || (s.title && chars(s.title) > LIST_LIMITS.sectionTitle)) {
      throw invalidRequest(
        `section titles are 1-${LIST_LIMITS.sectionTitle} characters (required with several sections)`,
      );
    }
  }
  for (const r of rows) {
    if (chars(r.title) < 1 || chars(r.title) > LIST_LIMITS.rowTitle) {
      throw invalidRequest(`a row title is 1-${LIST_LIMITS.rowTitle} characters`);
    }
    if (r.description !== undefined && chars(r.description) > LIST_LIMITS.rowDescription) {
      throw invalidRequest(`a row description is at most ${LIST_LIMITS.rowDescription} characters`);
    }
    if (r.id.length < 1 || r.id.length > LIST_LIMITS.rowId)
      throw invalidRequest(`a row id is 1-${LIST_LIMITS.rowId} characters`);
  }
  if (new Set(rows.map((r) => r.id)).size !== rows.length) throw invalidRequest('the row ids of a list must be unique');
}

function checkButtons(buttons: { id: string; title: string }[]): void {
  if (buttons.length < 1 || buttons.length > WHATSAPP_LIMITS.maxButtons) {
    throw invalidRequest(`a button message has 1-${WHATSAPP_LIMITS.maxButtons} buttons`);
  }
  const titles = new Set<string>();
  const ids = new Set<string>();
  for (const b of buttons) {
    const length = [...b.title].length;
    if (length === 0 || length > WHATSAPP_LIMITS.maxButtonTitle) {
      throw invalidRequest(`a button title is 1-${WHATSAPP_LIMITS.maxButtonTitle} characters`);
    }
    if (b.id.length === 0 || b.id.length > WHATSAPP_LIMITS.maxButtonId || b.id !== b.id.trim()) {
      throw invalidRequest(`a button id is 1-${WHATSAPP_LIMITS.maxButtonId} characters without outer spaces`);
    }
    if (titles.has(b.title) || ids.has(b.id)) throw invalidRequest('button titles and ids must be unique');
    titles.add(b.title);
    ids.add(b.id);
  }
}
