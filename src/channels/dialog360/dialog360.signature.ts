import { AppError } from '../../shared/app-error.ts';
import { sameSecret } from '../whatsapp-cloud/whatsapp-cloud.handshake.ts';

/** The header sparsam asks 360dialog to send with every webhook (set with the webhook URL, see below). */
export const DIALOG360_SECRET_HEADER = 'x-sparsam-webhook-secret';

/**
 * 360dialog does not sign Cloud API webhooks with Meta's app secret (the business never holds it), so sparsam
 * authenticates them with a shared secret, `webhookSecret` in the channel configuration, compared in constant time.
 * It is accepted from either place:
 *
 * 1. the header `X-Sparsam-Webhook-Secret` (preferred: headers do not end up in access logs). The admin registers
 *    the webhook URL together with the header once, with the channel's API key:
 *
 *        curl -X POST https://waba-v2.360dialog.io/v1/configs/webhook \
 *          -H "D360-API-KEY: $D360_API_KEY" -H "Content-Type: application/json" \
 *          -d '{"url":"https://inbox.example.org/webhooks/whatsapp/<channel id>",
 *               "headers":{"X-Sparsam-Webhook-Secret":"<webhookSecret>"}}'
 *
 *    (`GET /v1/configs/webhook` reads it back; https://docs.360dialog.com/api/whatsapp-api/webhook);
 * 2. the query parameter `?token=<webhookSecret>` on the webhook URL, only when the channel allows it
 *    (`webhookSecretInUrl: true`), for a webhook that can be registered with a URL alone (a WABA-level webhook in
 *    the 360dialog Hub form). Otherwise a URL token is refused: it would sit in every proxy's access log.
 *
 * A request with both must have both right.
 *
 * @throws AppError('SIGNATURE_INVALID') when neither is present, one does not match, or a URL token is not allowed.
 */
export function verifyDialog360Secret(
  header: string | string[] | undefined,
  query: unknown,
  webhookSecret: string,
  allowUrlToken = false,
): void {
  const token = query && typeof query === 'object' ? (query as Record<string, unknown>).token : undefined;
  if (token !== undefined && !allowUrlToken) {
    throw new AppError(
      'SIGNATURE_INVALID',
      `the webhook secret is not accepted in the URL (?token=): send it in the ${DIALOG360_SECRET_HEADER} header`,
    );
  }
  if (Array.isArray(header) || Array.isArray(token)) {
    throw new AppError('SIGNATURE_INVALID', 'the webhook secret is given more than once');
  }
  const given = [header, token].filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (given.length === 0) throw new AppError('SIGNATURE_INVALID', 'the webhook secret is missing');
  // Compare every given value (no early exit on the first): the time does not tell which one was wrong.
  const results = given.map((value) => sameSecret(value, webhookSecret));
  if (results.includes(false)) throw new AppError('SIGNATURE_INVALID', 'the webhook secret does not match');
}
