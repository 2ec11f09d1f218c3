import type { CacheSignals } from '../../shared/cache-signals.ts';

/**
 * Open live-event streams by session, so that logging out (here or everywhere) ends them at once instead of at the
 * next keep-alive check. With cache signals (several instances on PostgreSQL) a logout at one instance ends the
 * streams the same session or user holds open at every other instance too.
 */
export class SessionStreams {
  readonly #bySession = new Map<string, { userId: string; close: Set<() => void> }>();

  constructor(private readonly signals?: CacheSignals) {
    signals?.subscribe((signal) => {
      if (signal.type !== 'sessions.closed') return;
      if (signal.sessionIdHash) this.#closeSession(signal.sessionIdHash);
      if (signal.userId) this.#closeUser(signal.userId);
    });
  }

  add(sessionIdHash: string, userId: string, close: () => void): () => void {
    let entry = this.#bySession.get(sessionIdHash);
    if (!entry) {
      entry = { userId, close: new Set() };
      this.#bySession.set(sessionIdHash, entry);
    }
    entry.close.add(close);
    return () => {
      entry.close.delete(close);
      if (entry.close.size === 0) this.#bySession.delete(sessionIdHash);
    };
  }

  closeSession(sessionIdHash: string): void {
    if (this.signals) void this.signals.publish({ type: 'sessions.closed', sessionIdHash });
    else this.#closeSession(sessionIdHash);
  }

  closeUser(userId: string): void {
    if (this.signals) void this.signals.publish({ type: 'sessions.closed', userId });
    else this.#closeUser(userId);
  }

  #closeSession(sessionIdHash: string): void {
    const entry = this.#bySession.get(sessionIdHash);
    if (!entry) return;
    for (const close of [...entry.close]) close();
  }

  #closeUser(userId: string): void {
    for (const [hash, entry] of [...this.#bySession]) if (entry.userId === userId) this.#closeSession(hash);
  }

  get size(): number {
    let n = 0;
    for (const e of this.#bySession.values()) n += e.close.size;
    return n;
  }
}
