/**
 * Paces outbound sends per sender (a channel, i.e. one business phone number) to the provider's throughput, for
 * every worker that shares the pacer. Two implementations: {@link SendPacer} keeps the pace in the process (one
 * sparsam instance, SQLite); `SharedSendPacer` keeps it in a PostgreSQL row per channel, so that several instances on
 * one database together stay within the channel's limit.
 *
 * Guarantees of both: no one-second window sees more than `perSecond` releases of a sender, and after `holdOff` no
 * release of that sender happens before the hold-off has ended.
 */
export interface Pacer {
  /** Resolves when the caller may send one message as `sender`, at most `perSecond` (× headroom) per second. */
  acquire(sender: string, perSecond: number): Promise<void>;
  /**
   * The provider said "too many" (429/130429): no send of `sender` starts for `ms` from now. Settles when every
   * worker that shares the pacer will respect it (at once in process; after the database write when shared). Never
   * rejects.
   */
  holdOff(sender: string, ms: number): void | Promise<void>;
}
