import type { DownloadedMedia } from '../core/channel/channel.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../core/channel/channel-errors.ts';

/**
 * Downloads one media file from a provider URL with a hard size limit: refused early when the provider announces a
 * larger `Content-Length`, and aborted while streaming as soon as more bytes arrive than allowed (a provider or a
 * hostile URL cannot make sparsam buffer an unbounded body). Shared by the channels that fetch media by URL
 * (Telegram's file URL, Messenger attachment URLs, Twilio MediaUrlN).
 *
 * Errors: a non-2xx answer is a {@link ChannelApiError} with code `http_<status>` (retryable for 408/429/5xx); a
 * file over the limit is a non-retryable `ChannelApiError('media_too_large')`; no answer is a
 * {@link ChannelNetworkError}. Messages never contain the URL (it can carry a token).
 */
export async function downloadLimited(
  fetchImpl: typeof fetch,
  url: string,
  options: {
    maxBytes: number;
    headers?: Record<string, string>;
    what?: string;
    /**
     * Checks the URL and every redirect target before it is fetched (e.g. {@link assertPublicUrl}); with it,
     * redirects are followed by hand, at most `maxRedirects` (default 3).
     */
    checkUrl?: (url: URL) => Promise<void>;
    maxRedirects?: number;
  },
): Promise<DownloadedMedia> {
  const what = options.what ?? 'media';
  let response: Response;
  let target = new URL(url);
  for (let hop = 0; ; hop += 1) {
    if (options.checkUrl) await options.checkUrl(target);
    try {
      response = await fetchImpl(target, {
        headers: options.headers ?? {},
        redirect: options.checkUrl ? 'manual' : 'follow',
      });
    } catch (error) {
      throw new ChannelNetworkError(`${what} download failed: no answer from the provider`, { cause: strip(error) });
    }
    const location = response.headers.get('location');
    if (!options.checkUrl || response.status < 300 || response.status >= 400 || !location) break;
    await response.body?.cancel().catch(() => undefined);
    if (hop >= (options.maxRedirects ?? 3)) {
      throw new ChannelApiError('too_many_redirects', `${what} download refused: too many redirects`, 502, false);
    }
    target = new URL(location, target);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new ChannelApiError(
      `http_${response.status}`,
      `${what} download refused (HTTP ${response.status})`,
      response.status,
      retryable,
    );
  }
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(announced) && announced > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(what, options.maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new ChannelNetworkError(`${what} download broke off`, { cause: strip(error) });
      }
      if (chunk.done) break;
      total += chunk.value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(what, options.maxBytes);
      }
      chunks.push(Buffer.from(chunk.value));
    }
  }
  const type = response.headers.get('content-type');
  return { data: Buffer.concat(chunks, total), mimeType: type ? type.split(';')[0]!.trim() || undefined : undefined };
}

function tooLarge(what: string, maxBytes: number): ChannelApiError {
  return new ChannelApiError('media_too_large', `${what} is larger than the limit of ${maxBytes} bytes`, 413, false);
}

/** Keeps the error's type and code but not its message (fetch errors may quote the URL, which can hold a token). */
function strip(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const cause = (e as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return new Error(`${e.name}${code ? ` (${code})` : ''}`);
}
