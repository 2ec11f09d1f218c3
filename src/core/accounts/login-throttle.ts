import { createHash } from 'node:crypto';

interface Counter {
  failures: number;
  lockedUntil: number;
  /** When an unlocked counter may be forgotten. */
  staleAt: number;
}

const MAX_ENTRIES = 50_000;

/**
 * Failed password attempts per (e-mail address, client) pair, in memory: after `maxFailures` wrong passwords one
 * client is refused for that address for `lockMs`, while the staff member's own browser elsewhere still gets in.
 * It counts unknown addresses exactly like real accounts, so the answer (401, then 429) never tells a stranger
 * whether an account exists. Counts are per instance; the account-wide slow-down in the database bounds guessing
 * across instances and clients.
 */
export class LoginThrottle {
  readonly #counters = new Map<string, Counter>();

  constructor(
    private readonly maxFailures: number,
    private readonly lockMs: number,
  ) {}

  private key(email: string, client: string): string {
    const hash = (v: string) => createHash('sha256').update(v).digest('base64url');
    return `${hash(email.trim().toLowerCase())}|${hash(client)}`;
  }

  /** Forgets every client's failures for this address (an admin's unlock). */
  forget(email: string): void {
    const prefix = this.key(email, '').split('|')[0]!;
    for (const key of [...this.#counters.keys()]) if (key.startsWith(`${prefix}|`)) this.#counters.delete(key);
  }

  /** Milliseconds this client must still wait before trying this address again; 0 when it may try now. */
  waitMs(email: string, client: string, now: number): number {
    const c = this.#counters.get(this.key(email, client));
    return c && c.lockedUntil > now ? c.lockedUntil - now : 0;
  }

  /** Counts a wrong password; locks the pair at the limit. */
  fail(email: string, client: string, now: number): void {
    if (this.#counters.size >= MAX_ENTRIES) this.prune(now);
    const key = this.key(email, client);
    const c = this.#counters.get(key) ?? { failures: 0, lockedUntil: 0, staleAt: 0 };
    c.failures += 1;
    c.staleAt = now + this.lockMs;
    if (c.failures >= this.maxFailures) {
      c.failures = 0;
      c.lockedUntil = now + this.lockMs;
      c.staleAt = c.lockedUntil;
    }
    this.#counters.set(key, c);
  }

  /** A right password forgets the pair's failures. */
  succeed(email: string, client: string): void {
    this.#counters.delete(this.key(email, client));
  }

  private prune(now: number): void {
    for (const [key, c] of this.#counters) if (c.staleAt <= now) this.#counters.delete(key);
    // Still full (a flood of distinct pairs): forget the oldest, the map keeps insertion order.
    for (const key of this.#counters.keys()) {
      if (this.#counters.size < MAX_ENTRIES * 0.9) break;
      this.#counters.delete(key);
    }
  }
}
