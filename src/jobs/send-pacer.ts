/**
 * Paces outbound sends per sender (a channel, i.e. one business phone number) to the provider's throughput, shared
 * by every worker of this process. A token bucket without burst credit (the generic cell rate algorithm): each
 * send reserves the next free slot `1000 / perSecond` ms after the previous one and waits for it. Slots are computed
 * on ideal times, so late timers do not lower the achieved rate, and an idle sender does not bank credit for a
 * burst that the provider would answer with 130429.
 *
 * Two processes each keep their own slots: see bench/README.md (outbound pacing) for what that means and what a
 * shared limit needs. No library: bottleneck/limiter would do the spacing but not the provider's hold-off after a 429
 * for every waiting worker, and this is 30 lines.
 */
export class SendPacer {
  readonly #next = new Map<string, number>();
  readonly #now: () => number;
  readonly #headroom: number;

  /**
   * `headroom` (default 0.98): the share of the provider's limit actually used. Requests reach the provider with a
   * few milliseconds of jitter; pacing exactly at the limit lets two of them fall into the same one-second window
   * now and then, which the provider answers with 130429.
   */
  constructor(options: { now?: () => number; headroom?: number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#headroom = options.headroom ?? 0.98;
    if (!(this.#headroom > 0 && this.#headroom <= 1))
      throw new Error('SendPacer: headroom must be in (0, 1], e.g. 0.98');
  }

  /** Resolves when the caller may send one message as `sender`, at most `perSecond` × headroom per second. */
  acquire(sender: string, perSecond: number): Promise<void> {
    const rate = (Number.isFinite(perSecond) && perSecond > 0 ? perSecond : 1) * this.#headroom;
    const now = this.#now();
    const slot = Math.max(now, this.#next.get(sender) ?? now);
    this.#next.set(sender, slot + 1000 / rate);
    const wait = slot - now;
    if (wait < 0.5) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** The provider said "too many" (429/130429): no send of `sender` starts for `ms` from now. */
  holdOff(sender: string, ms: number): void {
    const until = this.#now() + Math.max(0, ms);
    if ((this.#next.get(sender) ?? 0) < until) this.#next.set(sender, until);
  }
}
