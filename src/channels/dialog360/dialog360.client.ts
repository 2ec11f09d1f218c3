import type { WhatsAppEndpoints } from '../whatsapp-cloud/whatsapp-cloud.client.ts';

/**
 * 360dialog's endpoints for Cloud API numbers (https://docs.360dialog.com/docs/waba-messaging/media/upload-retrieve-or-delete-media):
 * the same JSON bodies as Meta's Graph API, without version or phone number id in the path, authenticated with
 * `D360-API-KEY`. Media URLs from `GET /{media-id}` point at Meta's lookaside host, which 360dialog proxies: the host
 * is swapped for the API host and the same key sent.
 *
 * 360dialog blocks `GET /{media-id}` for an hour after a handful of failed requests in an hour; failed media
 * lookups with 4xx are therefore not retryable (ChannelApiError.retryable false), only 429/5xx are.
 */
export function dialog360Endpoints(config: { apiBaseUrl: string; apiKey: string }): WhatsAppEndpoints {
  const root = config.apiBaseUrl.replace(/\/+$/, '');
  const apiHost = new URL(root);
  return {
    messagesUrl: `${root}/messages`,
    mediaUploadUrl: `${root}/media`,
    mediaInfoUrl: (mediaId) => `${root}/${encodeURIComponent(mediaId)}`,
    authHeaders: { 'D360-API-KEY': config.apiKey },
    downloadUrl: (url) => swapToApiHost(url, apiHost),
    providerName: '360dialog',
  };
}

/**
 * `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=…` → `https://waba-v2.360dialog.io/whatsapp_business/attachments/?mid=…`.
 * Any other host is replaced too: the API key must only ever go to the configured 360dialog host.
 */
export function swapToApiHost(url: string, apiHost: URL): string {
  const parsed = new URL(url);
  parsed.protocol = apiHost.protocol;
  parsed.host = apiHost.host;
  const base = apiHost.pathname.replace(/\/+$/, '');
  if (base && !parsed.pathname.startsWith(`${base}/`)) parsed.pathname = `${base}${parsed.pathname}`;
  return parsed.toString();
}
