import { createHmac } from 'node:crypto';

/**
 * Provider message ids as they are stored: a keyed hash, never the id itself. WhatsApp's ids ("wamid.HBgL…") are
 * base64 of a structure that holds the customer's phone number in clear, so a stored wamid would be a phone number
 * in plain sight of anyone who decodes it. The hash keeps what the column is for (deduplicating redeliveries and
 * matching delivery statuses, both by equality) and nothing else. Where the real id is needed again (read receipts),
 * it travels sealed inside the message content, under the conversation's key, so it is shredded with the
 * conversation.
 */
export class ProviderRefs {
  readonly #key: Buffer;

  /** `key`: a secret that outlives master-key rotation (the pseudonym pepper), so stored refs stay matchable. */
  constructor(key: Buffer) {
    this.#key = createHmac('sha256', key).update('sparsam/provider-message-ref').digest();
  }

  /** The stored form of a provider message id ("r1:" + 32 url-safe characters of HMAC-SHA256). */
  ref(providerMessageId: string): string;
  ref(providerMessageId: string | null): string | null;
  ref(providerMessageId: string | null): string | null {
    if (providerMessageId === null) return null;
    return `r1:${createHmac('sha256', this.#key).update(providerMessageId).digest('base64url').slice(0, 32)}`;
  }
}
