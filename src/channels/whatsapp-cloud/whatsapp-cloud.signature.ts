import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';

/** The header Meta puts on every webhook POST (lower-case, as Node exposes it). */
export const WHATSAPP_SIGNATURE_HEADER = 'x-hub-signature-256';

/** `"sha256=" + lower-case hex HMAC-SHA256(appSecret, body)`: what Meta sends in `X-Hub-Signature-256`. */
export function signWhatsAppBody(appSecret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/**
 * Checks `X-Hub-Signature-256` over the raw body bytes exactly as received. Meta signs the body it sends, in which
 * non-ASCII characters are already `\uXXXX`-escaped, so the bytes must never be re-serialised from parsed JSON
 * (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads). The comparison is
 * constant-time over the 32-byte digests; the legacy SHA-1 `X-Hub-Signature` is ignored.
 *
 * @throws AppError('SIGNATURE_INVALID') when the header is missing, repeated, malformed or does not match, or when
 * there is no raw body to check.
 */
export function verifyWhatsAppSignature(
  header: string | string[] | undefined,
  rawBody: Buffer | undefined,
  appSecret: string,
): void {
  if (typeof header !== 'string' || header.length === 0) {
    throw new AppError('SIGNATURE_INVALID', 'the X-Hub-Signature-256 header is missing');
  }
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) throw new AppError('SIGNATURE_INVALID', 'the X-Hub-Signature-256 header is malformed');
  if (!rawBody) throw new AppError('SIGNATURE_INVALID', 'the webhook has no body to verify');
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError('SIGNATURE_INVALID', 'the X-Hub-Signature-256 signature does not match');
  }
}
