/**
 * Configuration secrets sealed in the key store (never in the main database): rows of name and ciphertext. Only
 * core/privacy/keys/sealed-secrets.ts uses it.
 */
export interface SealedSecretPort {
  find(name: string): Promise<Uint8Array | undefined>;
  /** Inserts or replaces the ciphertext of `name`. */
  put(name: string, sealed: Uint8Array, at: number): Promise<void>;
}
