import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';

/** The callback parameters the MAC covers, in this order (hex strings and ids exactly as sent). */
export const THREEMA_MAC_FIELDS = ['from', 'to', 'messageId', 'date', 'nonce', 'box'] as const;

/**
 * The MAC of a Threema Gateway callback: HMAC-SHA256 keyed with the API secret over
 * from ‖ to ‖ messageId ‖ date ‖ nonce ‖ box as sent, in lower-case hex
 * (https://gateway.threema.ch/en/developer/api, "Incoming messages"; threema-gateway-rs `src/receive.rs`).
 */
export function threemaMac(
  apiSecret: string,
  params: Readonly<Record<(typeof THREEMA_MAC_FIELDS)[number], string>>,
): string {
  const hmac = createHmac('sha256', apiSecret);
  for (const field of THREEMA_MAC_FIELDS) hmac.update(params[field], 'utf8');
  return hmac.digest('hex');
}

/**
 * Checks the `mac` parameter in constant time.
 *
 * @throws AppError('SIGNATURE_INVALID') when a covered parameter or the MAC is missing, or the MAC does not match.
 */
export function verifyThreemaMac(apiSecret: string, get: (name: string) => string | undefined): void {
  const values: Record<string, string> = {};
  for (const field of THREEMA_MAC_FIELDS) {
    const value = get(field);
    if (value === undefined)
      throw new AppError('SIGNATURE_INVALID', `the Threema callback lacks ${field}, which the MAC covers`);
    values[field] = value;
  }
  const mac = get('mac');
  if (!mac || !/^[0-9a-fA-F]{64}$/.test(mac)) {
    throw new AppError('SIGNATURE_INVALID', 'the Threema callback has no valid mac parameter');
  }
  const expected = Buffer.from(
    threemaMac(apiSecret, values as Record<(typeof THREEMA_MAC_FIELDS)[number], string>),
    'hex',
  );
  if (!timingSafeEqual(Buffer.from(mac, 'hex'), expected)) {
    throw new AppError('SIGNATURE_INVALID', 'the Threema callback MAC does not match');
  }
}
