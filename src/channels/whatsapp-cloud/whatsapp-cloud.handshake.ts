import { createHash, timingSafeEqual } from 'node:crypto';
import type { WebhookResult } from '../../core/channel/channel.port.ts';

/**
 * Meta's subscription handshake: `GET <callback>?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`, sent each
 * time the callback URL or verify token is set in the App Dashboard. The answer is 200 with the challenge echoed as
 * the plain body when the token matches, 403 otherwise
 * (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint).
 * The token is compared in constant time (both sides hashed first, so length leaks nothing).
 */
export function answerWhatsAppHandshake(query: unknown, verifyToken: string): WebhookResult {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const mode = q['hub.mode'];
  const token = q['hub.verify_token'];
  const challenge = q['hub.challenge'];
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge.length === 0) {
    return { kind: 'handshake', status: 403, body: 'Forbidden' };
  }
  if (!sameSecret(token, verifyToken)) return { kind: 'handshake', status: 403, body: 'Forbidden' };
  // The challenge is echoed only when it is a plain token (Meta sends digits); anything else is refused so the
  // endpoint cannot be used to reflect arbitrary content.
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(challenge)) return { kind: 'handshake', status: 403, body: 'Forbidden' };
  return { kind: 'handshake', status: 200, body: challenge };
}

/** Constant-time equality of two secrets of any length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
