import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of a Standard Webhooks signing secret; the rest is the key in base64. */
export const SECRET_PREFIX = 'whsec_';

/**
 * A new signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks spec asks for 24 to 64 bytes).
 */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The Standard Webhooks signature of one attempt (https://www.standardwebhooks.com, "Signature scheme"):
 * `v1,` + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")), the key being the base64-decoded
 * part of the secret after `whsec_`. Several secrets (during a rotation) give several space-separated signatures.
 * Node's crypto: the scheme is three lines of HMAC; the `standardwebhooks` package verifies it in the tests.
 */
export function signWebhook(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  const signed = `${id}.${timestampSeconds}.${body}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
      return `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`;
    })
    .join(' ');
}
