import type { ChannelConfig } from '../../config/config.ts';
import type { ChannelCheck } from '../auth/web-deps.ts';

/**
 * "Test connection" for the admin screen: one read-only call to the provider with the channel's credentials. Returns
 * a content-free verdict (the provider's status or error code, the verified business name), never the credentials.
 * WhatsApp Cloud API: GET /{version}/{phone-number-id} (https://developers.facebook.com/docs/graph-api/reference/whatsapp-business-phone-number/);
 * 360dialog: GET /v1/configs/webhook with D360-API-KEY; Telegram: getMe.
 */
export async function checkChannelConnection(
  channel: ChannelConfig,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 8000,
): Promise<ChannelCheck> {
  let url: string;
  let headers: Record<string, string> = {};
  switch (channel.kind) {
    case 'whatsapp-cloud':
      url = `${channel.graphBaseUrl.replace(/\/$/, '')}/${channel.graphApiVersion}/${channel.phoneNumberId}?fields=verified_name,quality_rating`;
      headers = { authorization: `Bearer ${channel.accessToken}` };
      break;
    case 'dialog360':
      url = `${channel.apiBaseUrl.replace(/\/$/, '')}/v1/configs/webhook`;
      headers = { 'D360-API-KEY': channel.apiKey };
      break;
    case 'telegram':
      url = `${channel.apiBaseUrl.replace(/\/$/, '')}/bot${channel.botToken}/getMe`;
      break;
    case 'messenger':
      url = `${channel.graphBaseUrl.replace(/\/$/, '')}/${channel.graphApiVersion}/${channel.pageId}?fields=name`;
      headers = { authorization: `Bearer ${channel.pageAccessToken}` };
      break;
    default:
      return { ok: false, reason: 'unsupported', detail: 'no connection check for this kind of channel yet' };
  }
  try {
    const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    let body: Record<string, unknown> = {};
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      body = {};
    }
    if (!res.ok) {
      const err = (body.error ?? {}) as { code?: unknown };
      const code = typeof err.code === 'number' || typeof err.code === 'string' ? ` (code ${err.code})` : '';
      return {
        ok: false,
        reason: 'refused',
        httpStatus: res.status,
        detail: `the provider answered HTTP ${res.status}${code}`,
      };
    }
    const name =
      typeof body.verified_name === 'string'
        ? body.verified_name
        : typeof body.name === 'string'
          ? body.name
          : typeof (body.result as { username?: unknown } | undefined)?.username === 'string'
            ? `@${(body.result as { username: string }).username}`
            : undefined;
    const short = name?.slice(0, 80);
    return {
      ok: true,
      reason: 'connected',
      ...(short ? { name: short } : {}),
      detail: short ? `connected: ${short}` : `connected (HTTP ${res.status})`,
    };
  } catch (error) {
    const timeout = (error as Error).name === 'TimeoutError';
    return timeout
      ? { ok: false, reason: 'timeout', detail: 'the provider did not answer in time' }
      : { ok: false, reason: 'unreachable', detail: 'the provider could not be reached' };
  }
}
