/**
 * Signals that make every instance drop per-process cached state at once when one instance changes what the cache
 * holds: data keys destroyed by an erasure, inbox settings changed by an admin, sessions ended by a logout. Payloads
 * are content-free (random ids and hashes only), because on PostgreSQL they pass through the database server.
 */
export type CacheSignal =
  /** Data keys destroyed (crypto-shredding): drop them from every key cache. */
  | { type: 'keys.destroyed'; ownerType: 'conversation' | 'contact'; ownerIds: string[] }
  /** An inbox's settings changed: read them again. */
  | { type: 'inbox.settings'; inboxId: string }
  /** Sessions ended: close their live-event streams (by session id hash, or every session of a user). */
  | { type: 'sessions.closed'; sessionIdHash?: string; userId?: string }
  /** The key epoch changed (a new epoch began, or the previous one was retired): read the key store's epoch again. */
  | { type: 'keys.epoch'; epoch: number }
  /** A channel was created, changed or removed in the admin screen: load the managed channels again. */
  | { type: 'channels.changed' };

export type CacheSignalListener = (signal: CacheSignal) => void;

/**
 * The transport of {@link CacheSignal}s. {@link publish} reaches the subscribers of this process at once and, on
 * PostgreSQL, those of every other instance; it resolves once the signal left this process (a failure to reach
 * the others is logged, never thrown: the change itself is already committed).
 *
 * {@link live} is false while signals from other instances may be missed (the PostgreSQL listening connection is
 * down); caches must not serve entries then. {@link onResync} listeners run whenever signals may have been missed
 * (the listening connection dropped or came back): they drop everything they cache.
 */
export interface CacheSignals {
  publish(signal: CacheSignal): Promise<void>;
  subscribe(listener: CacheSignalListener): () => void;
  onResync(listener: () => void): () => void;
  readonly live: boolean;
}

/** In-process delivery: one instance (SQLite), where no signal can be missed. */
export class LocalCacheSignals implements CacheSignals {
  readonly #listeners = new Set<CacheSignalListener>();
  readonly #resync = new Set<() => void>();

  get live(): boolean {
    return true;
  }

  async publish(signal: CacheSignal): Promise<void> {
    this.deliver(signal);
  }

  /** Delivers to this process's subscribers only. */
  deliver(signal: CacheSignal): void {
    for (const listener of this.#listeners) {
      try {
        listener(signal);
      } catch {
        // A failing subscriber must not keep the others from dropping their entries.
      }
    }
  }

  /** Runs every resync listener (signals may have been missed). */
  resync(): void {
    for (const listener of this.#resync) {
      try {
        listener();
      } catch {
        // as above
      }
    }
  }

  subscribe(listener: CacheSignalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }
}
