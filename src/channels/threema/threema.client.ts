import type { DownloadedMedia } from '../../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../../core/channel/channel-errors.ts';
import { downloadLimited } from '../media-download.ts';

export interface ThreemaClientOptions {
  gatewayId: string;
  apiSecret: string;
  apiBaseUrl: string;
  fetch: typeof fetch;
  timeoutMs?: number;
}

/** A Threema ID: eight characters of A-Z, 0-9 and `*` (gateway IDs begin with `*`). */
export const THREEMA_ID = /^[A-Z0-9*]{8}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const BLOB_ID = /^[0-9a-fA-F]{32}$/;
const MESSAGE_ID = /^[0-9a-fA-F]{16}$/;

/**
 * The Threema Gateway REST API (https://gateway.threema.ch/en/developer/api) for one gateway ID in end-to-end mode,
 * with Node's fetch: public key lookup, `send_e2e`, blob upload and download, and the credit balance. Every call
 * authenticates with `from` (the gateway ID) and `secret` (the API secret), as form fields or query parameters.
 * Answers as the SDKs map them (threema-gateway-rs `src/connection.rs` `map_response_code`): 400 bad sender or
 * recipient, 401 bad credentials, 402 no credits, 404 unknown ID, 413 too long, 429 rate limit, 500 server error.
 */
export class ThreemaClient {
  private readonly root: string;

  constructor(private readonly options: ThreemaClientOptions) {
    this.root = options.apiBaseUrl.replace(/\/+$/, '');
  }

  private auth(): URLSearchParams {
    return new URLSearchParams({ from: this.options.gatewayId, secret: this.options.apiSecret });
  }

  private async call(what: string, url: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await this.options.fetch(url, {
        ...init,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw networkError(what, error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw threemaError(what, response.status);
    }
    return response;
  }

  /** `GET /pubkeys/{id}`: the current public key of a Threema ID (32 bytes). */
  async publicKey(threemaId: string): Promise<Uint8Array> {
    if (!THREEMA_ID.test(threemaId)) throw new ChannelApiError('invalid_id', 'not a Threema ID', 400, false);
    const response = await this.call('public key lookup', `${this.root}/pubkeys/${threemaId}?${this.auth()}`);
    const text = (await response.text()).trim();
    if (!HEX64.test(text)) throw new ChannelApiError('unexpected_answer', 'Threema gave no public key', 502, true);
    return Uint8Array.from(Buffer.from(text, 'hex'));
  }

  /** `POST /send_e2e` (form: from, to, nonce, box, secret; hex): the new message's id (16 hex characters). */
  async sendE2e(to: string, nonce: Uint8Array, box: Uint8Array): Promise<string> {
    const form = this.auth();
    form.set('to', to);
    form.set('nonce', Buffer.from(nonce).toString('hex'));
    form.set('box', Buffer.from(box).toString('hex'));
    const response = await this.call('send', `${this.root}/send_e2e`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' },
      body: form.toString(),
    });
    const id = (await response.text()).trim();
    if (!MESSAGE_ID.test(id)) throw new ChannelApiError('unexpected_answer', 'Threema gave no message id', 502, true);
    return id.toLowerCase();
  }

  /** `POST /upload_blob` (multipart field `blob`): the blob's id (32 hex characters). */
  async uploadBlob(data: Uint8Array): Promise<string> {
    const form = new FormData();
    form.append('blob', new Blob([data], { type: 'application/octet-stream' }), 'blob');
    const response = await this.call('file upload', `${this.root}/upload_blob?${this.auth()}`, {
      method: 'POST',
      body: form,
    });
    const id = (await response.text()).trim();
    if (!BLOB_ID.test(id)) throw new ChannelApiError('unexpected_answer', 'Threema gave no blob id', 502, true);
    return id.toLowerCase();
  }

  /** `GET /blobs/{id}`: an encrypted blob of an inbound file message, at most `maxBytes`. */
  downloadBlob(blobId: string, maxBytes: number): Promise<DownloadedMedia> {
    if (!BLOB_ID.test(blobId)) throw new ChannelApiError('invalid_blob', 'not a Threema blob id', 400, false);
    return downloadLimited(this.options.fetch, `${this.root}/blobs/${blobId}?${this.auth()}`, {
      maxBytes,
      what: 'Threema blob',
    });
  }

  /** `GET /credits`: the credits left on the gateway account. */
  async credits(): Promise<number> {
    const response = await this.call('credit balance', `${this.root}/credits?${this.auth()}`);
    const text = (await response.text()).trim();
    if (!/^-?\d+$/.test(text))
      throw new ChannelApiError('unexpected_answer', 'Threema gave no credit balance', 502, true);
    return Number(text);
  }
}

const REASONS: Record<number, { code: string; reason: string; retryable: boolean }> = {
  400: { code: 'bad_recipient', reason: 'Threema refused the sender or recipient ID', retryable: false },
  401: { code: 'bad_credentials', reason: 'Threema refused the gateway ID or API secret', retryable: false },
  402: { code: 'no_credits', reason: 'the Threema Gateway account has no credits left', retryable: false },
  404: { code: 'unknown_id', reason: 'the Threema ID does not exist', retryable: false },
  413: { code: 'too_long', reason: 'the message is too long for Threema', retryable: false },
  429: { code: 'rate_limited', reason: 'Threema asks to slow down', retryable: true },
};

/** Maps a non-2xx answer of the gateway; 402 (no credits) is final: a retry would only fail again and cost time. */
export function threemaError(what: string, status: number): ChannelApiError {
  const known = REASONS[status];
  if (known) return new ChannelApiError(known.code, known.reason, status, known.retryable);
  const retryable = status >= 500 || status === 408;
  return new ChannelApiError(`http_${status}`, `Threema ${what} failed (HTTP ${status})`, status, retryable);
}

function networkError(what: string, error: unknown): ChannelNetworkError {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new ChannelNetworkError(`Threema did not answer in time (${what})`);
  }
  const cause = (e as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  // Never the error's own message: it may quote the URL, which carries the API secret.
  return new ChannelNetworkError(`Threema did not answer (${what}${code ? `, ${code}` : ''})`);
}
