/**
 * Open live-event streams by session, so that logging out (here or everywhere) ends them at once instead of at the
 * next keep-alive check.
 */
export class SessionStreams {
  readonly #bySession = new Map<string, { userId: string; close: Set<() => void> }>();

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
    const entry = this.#bySession.get(sessionIdHash);
    if (!entry) return;
    for (const close of [...entry.close]) close();
  }

  closeUser(userId: string): void {
    for (const [hash, entry] of [...this.#bySession]) if (entry.userId === userId) this.closeSession(hash);
  }

  get size(): number {
    let n = 0;
    for (const e of this.#bySession.values()) n += e.close.size;
    return n;
  }
}
