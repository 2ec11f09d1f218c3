import type { Pacer } from './pacer.ts';

interface Sender {
  /** When the last send was released (ms, monotonic clock). */
  last: number;
  /** No release before this (a provider hold-off after 429). */
  notBefore: number;
  interval: number;
  waiters: (() => void)[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * Paces outbound sends per sender (a channel, i.e. one business phone number) to the provider's throughput, shared
 * by every worker of this process. Waiters are released one at a time, `1000 / rate` ms apart by the clock of the
 * release itself; a timer that fires late may catch up by the headroom's share of a second at most. So an event
 * loop that stalls for a moment (a slow disk write, garbage collection) never turns into a burst that the provider
 * counts in one second and answers with 130429, and an idle sender banks no credit for a burst either.
 *
 * Two processes each keep their own pacing, so this pacer is for a single instance (SQLite); instances sharing a
 * PostgreSQL database use `SharedSendPacer` (bench/README.md, outbound pacing, has the figures of both). No library: bottleneck/limiter space calls too, but not with a hold-off after a 429 that
 * every waiting worker of the channel respects; this is small.
 */
export class SendPacer implements Pacer {
  readonly #senders = new Map<string, Sender>();
  readonly #now: () => number;
  readonly #headroom: number;
  readonly #catchUpMs: number;

  /**
   * `headroom` (default 0.98): the share of the provider's limit actually used, leaving room for the jitter between
   * our release and the request's arrival at the provider.
   */
  constructor(options: { now?: () => number; headroom?: number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#headroom = options.headroom ?? 0.98;
    this.#catchUpMs = (1 - this.#headroom) * 1000;
    if (!(this.#headroom > 0 && this.#headroom <= 1))
      throw new Error('SendPacer: headroom must be in (0, 1], e.g. 0.98');
  }

  /** Resolves when the caller may send one message as `sender`, at most `perSecond` × headroom per second. */
  acquire(sender: string, perSecond: number): Promise<void> {
    const rate = (Number.isFinite(perSecond) && perSecond > 0 ? perSecond : 1) * this.#headroom;
    const state = this.#sender(sender);
    state.interval = 1000 / rate;
    // An idle sender starts afresh: no catch-up for the time nobody was waiting.
    if (state.waiters.length === 0 && state.timer === undefined) {
      state.last = Math.max(state.last, this.#now() - state.interval);
    }
    return new Promise<void>((resolve) => {
      state.waiters.push(resolve);
      this.#dispatch(state);
    });
  }

  /** The provider said "too many" (429/130429): no send of `sender` starts for `ms` from now. */
  holdOff(sender: string, ms: number): void {
    const state = this.#sender(sender);
    state.notBefore = Math.max(state.notBefore, this.#now() + Math.max(0, ms));
    clearTimeout(state.timer);
    state.timer = undefined;
    this.#dispatch(state);
  }

  #sender(sender: string): Sender {
    let state = this.#senders.get(sender);
    if (!state) {
      state = { last: -Infinity, notBefore: -Infinity, interval: 1, waiters: [], timer: undefined };
      this.#senders.set(sender, state);
    }
    return state;
  }

  #dispatch(state: Sender): void {
    if (state.timer !== undefined) return;
    for (;;) {
      if (state.waiters.length === 0) return;
      const now = this.#now();
      const due = Math.max(state.last + state.interval, state.notBefore);
      if (now < due) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          this.#dispatch(state);
        }, due - now);
        return;
      }
      // Released late? Catch up by at most the headroom's share of a second (20 ms at 0.98) or one interval: the
      // headroom pays for it, so no one-second window at the provider sees more than the limit.
      state.last = Math.max(due, now - Math.max(state.interval, this.#catchUpMs));
      state.waiters.shift()!();
    }
  }
}
