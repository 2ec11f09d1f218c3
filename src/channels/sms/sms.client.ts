import type { DownloadedMedia } from '../../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../../core/channel/channel-errors.ts';
import { downloadLimited } from '../media-download.ts';

/** Twilio's limit for one message body (https://www.twilio.com/docs/messaging/api/message-resource). */
export const TWILIO_MAX_BODY = 1600;

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  fromNumber: string;
  apiBaseUrl: string;
  fetch: typeof fetch;
  timeoutMs?: number;
}

/**
 * Twilio's Programmable Messaging REST API for one account and sender number, with Node's fetch: the two calls sparsam
 * makes (create a message, download a media file) do not justify the `twilio` package and its dependency tree.
 * Authentication is HTTP Basic with the account SID and auth token.
 */
export class TwilioClient {
  private readonly root: string;
  private readonly auth: string;

  constructor(private readonly options: TwilioClientOptions) {
    this.root = options.apiBaseUrl.replace(/\/+$/, '');
    this.auth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  }

  /**
   * `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded To, From, Body, StatusCallback); returns the new
   * Message SID. 201 means queued, not delivered: delivery arrives at the status callback.
   */
  async sendMessage(to: string, body: string, statusCallback: string | undefined): Promise<string> {
    if (body.trim().length === 0) throw new ChannelApiError('invalid_request', 'the message is empty', 400, false);
    if (body.length > TWILIO_MAX_BODY) {
      throw new ChannelApiError('invalid_request', `an SMS can hold at most ${TWILIO_MAX_BODY} characters`, 400, false);
    }
    const form = new URLSearchParams({ To: to, From: this.options.fromNumber, Body: body });
    if (statusCallback) form.set('StatusCallback', statusCallback);
    const url = `${this.root}/2010-04-01/Accounts/${encodeURIComponent(this.options.accountSid)}/Messages.json`;
    let response: Response;
    try {
      response = await this.options.fetch(url, {
        method: 'POST',
        headers: {
          authorization: this.auth,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw networkError(error);
    }
    const text = await response.text();
    if (!response.ok) throw twilioError(response.status, response.headers.get('retry-after'), text);
    let sid: unknown;
    try {
      sid = (JSON.parse(text) as { sid?: unknown }).sid;
    } catch {
      sid = undefined;
    }
    if (typeof sid !== 'string' || sid.length === 0) {
      throw new ChannelApiError('unexpected_answer', 'Twilio gave no message SID', 502, true);
    }
    return sid;
  }

  /**
   * Downloads a media file of an inbound MMS (`MediaUrlN`). Only URLs of the configured API host are fetched, with
   * Basic authentication (required when the account enforces authenticated media URLs); Twilio redirects to its
   * storage, and fetch drops the Authorization header on that cross-origin redirect.
   */
  async downloadMedia(mediaUrl: string, maxBytes: number): Promise<DownloadedMedia> {
    let origin: string;
    try {
      origin = new URL(mediaUrl).origin;
    } catch {
      throw new ChannelApiError('invalid_media_url', 'the media reference is not a URL', 400, false);
    }
    if (origin !== new URL(this.root).origin) {
      throw new ChannelApiError('invalid_media_url', 'the media URL is not on the Twilio API host', 400, false);
    }
    return downloadLimited(this.options.fetch, mediaUrl, {
      maxBytes,
      headers: { authorization: this.auth },
      what: 'Twilio media',
    });
  }
}

/**
 * Maps a non-2xx answer: Twilio's error body is `{"code": 21610, "message": "...", "more_info": "...", "status": 400}`
 * (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions). Retryable: HTTP 429 / code 20429
 * (too many requests) and 5xx; `Retry-After` in seconds becomes `retryAfterMs`. The message is Twilio's, with digit
 * runs that could be a phone number masked (Twilio quotes the number in some messages).
 */
export function twilioError(httpStatus: number, retryAfter: string | null, bodyText: string): ChannelApiError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(bodyText) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'number' || typeof parsed.code === 'string') code = String(parsed.code);
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // A proxy's HTML page: only the status is known.
  }
  const retryable = httpStatus === 429 || httpStatus >= 500 || code === '20429';
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : undefined;
  const reason = (message ?? `HTTP ${httpStatus}`).replace(/\+?\d[\d ()-]{6,}\d/g, '…').slice(0, 200);
  return new ChannelApiError(
    code ?? `http_${httpStatus}`,
    reason,
    httpStatus,
    retryable,
    retryable ? seconds : undefined,
  );
}

function networkError(error: unknown): ChannelNetworkError {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new ChannelNetworkError('Twilio did not answer in time');
  const cause = (e as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return new ChannelNetworkError(`Twilio did not answer${code ? ` (${code})` : ''}`);
}
