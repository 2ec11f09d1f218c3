import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';

/** The header Twilio puts on every webhook request. */
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64(HMAC-SHA1(authToken, url + every POST parameter sorted by name, name and value concatenated without
 * delimiters)). A parameter sent several times contributes each distinct value, sorted, as Twilio's libraries do.
 * `url` is the full URL Twilio was told to call, query string included.
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: readonly (readonly [string, string])[],
): string {
  // Twilio's libraries sort by name, then by value, and sign each distinct name/value pair once (twilio-python
  // `sorted(set(values))`; their test vector with a repeated `Digits` checks exactly that).
  const distinct = new Map(params.map(([k, v]) => [`${k}\u0000${v}`, [k, v] as const]));
  const sorted = [...distinct.values()].sort(([ka, va], [kb, vb]) =>
    ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0,
  );
  const hmac = createHmac('sha1', authToken);
  hmac.update(url, 'utf8');
  for (const [key, value] of sorted) hmac.update(`${key}${value}`, 'utf8');
  return hmac.digest('base64');
}

/**
 * The URLs a signature may have been computed over: the URL as configured, and the same URL with the default port
 * added or removed (Twilio signs whichever form it was given; its libraries accept both for that reason).
 */
export function signatureUrls(url: string): string[] {
  const urls = new Set([url]);
  try {
    const parsed = new URL(url);
    const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : undefined;
    // `parsed.port` is empty both without a port and with the default one (the URL parser drops it).
    if (defaultPort && parsed.port === '') {
      const rest = `${parsed.pathname}${parsed.search}`;
      urls.add(`${parsed.protocol}//${parsed.host}${rest}`);
      urls.add(`${parsed.protocol}//${parsed.host}:${defaultPort}${rest}`);
    }
  } catch {
    // Not a URL: only the string as given.
  }
  return [...urls];
}

/**
 * Checks `X-Twilio-Signature` in constant time against each candidate URL.
 *
 * @throws AppError('SIGNATURE_INVALID') when the header is missing, repeated or matches none of them.
 */
export function verifyTwilioSignature(
  header: string | string[] | undefined,
  authToken: string,
  url: string,
  params: readonly (readonly [string, string])[],
): void {
  if (typeof header !== 'string' || header.length === 0) {
    throw new AppError('SIGNATURE_INVALID', 'the X-Twilio-Signature header is missing');
  }
  const given = Buffer.from(header.trim(), 'utf8');
  let ok = false;
  for (const candidate of signatureUrls(url)) {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    // Equal lengths are compared in constant time; a different length cannot match (SHA-1 base64 is 28 characters).
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  if (!ok) throw new AppError('SIGNATURE_INVALID', 'the X-Twilio-Signature signature does not match');
}
