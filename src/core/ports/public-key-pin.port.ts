/**
 * Public keys of customers pinned per channel (end-to-end channels such as Threema): the first key seen for an
 * address is kept, and a different one later is a change that is shown to staff, never taken silently. Addresses
 * are personal data: implementations keep only a keyed hash of them.
 */
export interface PublicKeyPinPort {
  /** The pinned key of an address on a channel, or undefined when none is pinned yet. */
  get(channelId: string, address: string): Promise<Uint8Array | undefined>;
  /** Pins a key for an address that has none (a concurrent first pin wins; the loser's key is not stored). */
  pinIfAbsent(channelId: string, address: string, key: Uint8Array): Promise<void>;
  /** Replaces the pinned key after a change was detected and reported; counts the change. */
  replace(channelId: string, address: string, key: Uint8Array): Promise<void>;
}

/** An in-memory pin list, for channels built without a store (unit tests, one-shot CLI calls). */
export class MemoryPublicKeyPins implements PublicKeyPinPort {
  readonly #pins = new Map<string, Uint8Array>();
  async get(channelId: string, address: string): Promise<Uint8Array | undefined> {
    return this.#pins.get(`${channelId}\u0000${address}`);
  }
  async pinIfAbsent(channelId: string, address: string, key: Uint8Array): Promise<void> {
    const k = `${channelId}\u0000${address}`;
    if (!this.#pins.has(k)) this.#pins.set(k, Uint8Array.from(key));
  }
  async replace(channelId: string, address: string, key: Uint8Array): Promise<void> {
    this.#pins.set(`${channelId}\u0000${address}`, Uint8Array.from(key));
  }
}
