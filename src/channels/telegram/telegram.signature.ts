import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';

/** The header Telegram sets on every webhook call when `setWebhook` was given a `secret_token`. */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * Checks the `X-Telegram-Bot-Api-Secret-Token` header against the configured secret in constant time. Telegram does
 * not sign the body: the secret header (set by `sparsam channel set-webhook`) is the only proof that a request comes
 * from Telegram (https://core.telegram.org/bots/api#setwebhook). Both values are hashed first so that the comparison
 * takes the same time whatever the length of the forged value.
 *
 * @throws AppError('SIGNATURE_INVALID') when the header is missing, repeated or different.
 */
export function verifyTelegramSecretToken(header: string | string[] | undefined, secretToken: string): void {
  if (typeof header !== 'string' || header.length === 0) {
    throw new AppError('SIGNATURE_INVALID', 'the Telegram secret token header is missing');
  }
  const given = createHash('sha256').update(header, 'utf8').digest();
  const expected = createHash('sha256').update(secretToken, 'utf8').digest();
  if (!timingSafeEqual(given, expected)) {
    throw new AppError('SIGNATURE_INVALID', 'the Telegram secret token does not match');
  }
}
