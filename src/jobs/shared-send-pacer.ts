import type { Logger } from '../shared/logger.ts';
import type { SendPacingPort } from '../store/ports/send-pacing.port.ts';
import { describeJobError } from './job-queue.ts';
import type { Pacer } from './pacer.ts';

interface Sender {
  /** Claimed slots not yet used, by this process's monotonic clock, ascending. */
  slots: number[];
  waiters: (() => void)[];
  /** No release before this (a provider hold-off, from this instance or read from the database). */
  heldUntil: number;
  /** Slot spacing of the latest acquire (ms, database clock and ours alike). */
  interval: number;
  /** A claim or a hold-off write in flight: no second claim meanwhile. */
  busy: Promise<void> | undefined;
  /** Hold-offs not yet written to the database: no claim meanwhile (it would get slots inside the hold-off). */
  holding: number;
  timer: NodeJS.Timeout | undefined;
}

export interface SharedSendPacerOptions {
  logger?: Logger;
  /** Monotonic clock of this process (ms). */
  now?: () => number;
  /**
   * Share of the provider's limit used (default 0.9). The spare share of a second (`1000 / headroom - 1000` ms,
   * 111 ms at 0.9) absorbs the jitter between a slot and the request's arrival at the provider: a late release (up
   * to `lateMs`) plus uneven transport. SendPacer's 0.98 left 20 ms, which two instances sending over HTTP at once
   * overran in the tests (two arrivals 183 ms apart at a 204 ms spacing); 0.95 left 52 ms, which a loaded machine
   * overran too (six arrivals within one second at 5 msg/s, CI with the whole suite running; single requests
   * arrive 25 ms early or late even on a quieter machine).
   */
  headroom?: number;
  /**
   * A slot released later than this (default 20 ms, SendPacer's catch-up; an event-loop stall) is given up instead
   * of used; the rest of the spare share (91 ms at 0.9) is left for uneven transport to the provider.
   */
  lateMs?: number;
  /**
   * How far ahead an instance claims slots (default 100 ms): the batch of one claim covers at most this much time
   * (1 slot at 5 msg/s, 7 at 80, 98 at 1,000), so one round trip serves several sends at high rates, and a hold-off
   * from another instance reaches this one within about this long.
   */
  lookaheadMs?: number;
}

/** Clock drift allowed between this process and the database (1 ms per second), far above any real drift. */
const DRIFT = 1e-3;
const MAX_LEAD_MS = 250;
const WARM_UP_READINGS = 5;

/**
 * A {@link Pacer} shared by every sparsam instance on one PostgreSQL database: the channel's pace lives in a row
 * (virtual scheduling, GCRA), and each instance claims its send slots there, spaced `1000 / (rate × headroom)` ms
 * apart by the database's clock, then waits for each slot by its own clock. A hold-off after 429/130429 moves the
 * channel's next slot past its end for all instances, and each instance drops the claimed slots that fall inside it
 * (its own at once, another's with its next claim, i.e. within the lookahead).
 *
 * The database's clock is mapped to this process's monotonic clock by the smallest difference seen between a
 * claim's arrival here and the database's `now` in it (the round trip with the least delay), so neither the skew
 * between hosts nor a slow answer shifts the slots. A slot whose release comes more than `lateMs` (20 ms) late, e.g.
 * after an event-loop stall, is given up instead of used: sent late it could land in one second with the slots that
 * follow it at another instance. With R × headroom slots a second, a one-second window at the provider holds more than
 * R only if arrivals are compressed by more than `1000 / headroom - 1000` ms (111 ms at 0.9) in total.
 *
 * If the database does not answer, waiting sends keep waiting and the claim is retried (backing off to 1 s): a
 * send that went out without a slot could exceed the limit, and a send that failed here would be reported to the
 * agent as unconfirmed although it never left.
 */
export class SharedSendPacer implements Pacer {
  readonly #senders = new Map<string, Sender>();
  readonly #port: SendPacingPort;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #headroom: number;
  readonly #lateMs: number;
  readonly #lookaheadMs: number;
  /** Round trips and slots so far (for the benchmark and diagnostics). */
  readonly stats = {
    claims: 0,
    slots: 0,
    /** Claimed slots given up: released too late, or inside a hold-off. */
    dropped: 0,
    /** Of the claimed slots, those already past when their claim's answer arrived (the answer was slow). */
    pastOnArrival: 0,
  };
  /** This clock minus the database's clock, as estimated (an upper bound of the true difference). */
  #offset: number | undefined;
  #offsetAt = 0;
  /** How far ahead of the database's `now` a claim starts, so that its first slot is not already past here. */
  #leadMs = 5;

  constructor(port: SendPacingPort, options: SharedSendPacerOptions = {}) {
    this.#port = port;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#headroom = options.headroom ?? 0.9;
    this.#lookaheadMs = options.lookaheadMs ?? 100;
    if (!(this.#headroom > 0 && this.#headroom <= 1)) {
      throw new Error('SharedSendPacer: headroom must be in (0, 1], e.g. 0.95');
    }
    if (!(this.#lookaheadMs > 0)) throw new Error('SharedSendPacer: lookaheadMs must be above 0, e.g. 100');
    this.#lateMs = options.lateMs ?? 20;
    if (!(this.#lateMs >= 0)) throw new Error('SharedSendPacer: lateMs must be 0 or more, e.g. 20');
  }

  acquire(sender: string, perSecond: number): Promise<void> {
    const state = this.#sender(sender);
    state.interval = 1000 / ((Number.isFinite(perSecond) && perSecond > 0 ? perSecond : 1) * this.#headroom);
    return new Promise<void>((resolve) => {
      state.waiters.push(resolve);
      this.#dispatch(sender, state);
    });
  }

  async holdOff(sender: string, ms: number): Promise<void> {
    const state = this.#sender(sender);
    const wait = Math.max(0, ms);
    state.heldUntil = Math.max(state.heldUntil, this.#now() + wait);
    state.holding += 1;
    this.#restart(sender, state);
    try {
      const held = await this.#port.holdOff(sender, wait);
      state.heldUntil = Math.max(state.heldUntil, held.heldUntil + this.#sample(held.now));
    } catch (error) {
      // This instance holds off anyway; the others learn of it from their own 429s.
      this.#logger?.warn({ err: describeJobError(error), channelId: sender }, 'shared send hold-off not stored');
    } finally {
      state.holding -= 1;
    }
    // A claim that was in flight during the write may hold slots inside the hold-off: dispatch drops them.
    this.#restart(sender, state);
  }

  #sender(sender: string): Sender {
    let state = this.#senders.get(sender);
    if (!state) {
      state = {
        slots: [],
        waiters: [],
        heldUntil: -Infinity,
        interval: 1000,
        busy: undefined,
        holding: 0,
        timer: undefined,
      };
      this.#senders.set(sender, state);
    }
    return state;
  }

  #restart(sender: string, state: Sender): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    this.#dispatch(sender, state);
  }

  /** Releases waiters whose slot has come, drops slots that are stale or inside a hold-off, claims more if needed. */
  #dispatch(sender: string, state: Sender): void {
    if (state.timer !== undefined) return;
    for (;;) {
      const now = this.#now();
      while (state.slots.length > 0 && (state.slots[0]! + this.#lateMs < now || state.slots[0]! < state.heldUntil)) {
        state.slots.shift();
        this.stats.dropped += 1;
      }
      if (state.waiters.length === 0 || state.slots.length === 0) break;
      const due = state.slots[0]!;
      if (due > now) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          this.#dispatch(sender, state);
        }, due - now);
        break;
      }
      state.slots.shift();
      state.waiters.shift()!();
    }
    this.#claimIfNeeded(sender, state);
  }

  #claimIfNeeded(sender: string, state: Sender): void {
    const missing = state.waiters.length - state.slots.length;
    if (state.busy || state.holding > 0 || missing <= 0) return;
    // Enough claimed for the lookahead: claim again as the slots run out (each release comes back here).
    if (state.slots.length > 0 && state.slots.at(-1)! - this.#now() > this.#lookaheadMs) return;
    const interval = state.interval;
    const count = Math.min(missing, Math.max(1, Math.floor(this.#lookaheadMs / interval)));
    state.busy = this.#claim(sender, state, count, interval).finally(() => {
      state.busy = undefined;
      this.#restart(sender, state);
    });
  }

  async #claim(sender: string, state: Sender, count: number, interval: number): Promise<void> {
    for (let failures = 0; ; failures += 1) {
      try {
        // First use: a few clock readings first, so that the first slots are not mapped by one slow answer (two
        // instances mapping the database's clock differently would send closer together than the spacing).
        if (this.#offset === undefined) {
          for (let i = 0; i < WARM_UP_READINGS; i += 1) this.#sample(await this.#port.clock());
        }
        const claim = await this.#port.claim(sender, count, interval, this.#leadMs);
        const arrived = this.#now();
        const offset = this.#sample(claim.now);
        state.heldUntil = Math.max(state.heldUntil, claim.heldUntil + offset);
        for (let i = 0; i < count; i += 1) state.slots.push(claim.start + offset + i * interval);
        this.stats.claims += 1;
        this.stats.slots += count;
        for (let i = 0; i < count; i += 1)
          if (claim.start + offset + i * interval + this.#lateMs < arrived) this.stats.pastOnArrival += 1;
        // A first slot already past on arrival means the answer took longer than the lead: lead more next time.
        const late = arrived - (claim.start + offset);
        this.#leadMs = Math.min(MAX_LEAD_MS, Math.max(2, this.#leadMs * 0.95, late > 0 ? this.#leadMs + late : 0));
        return;
      } catch (error) {
        this.#logger?.warn(
          { err: describeJobError(error), channelId: sender },
          'claiming shared send slots failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** failures)));
      }
    }
  }

  /**
   * Updates the clock mapping with an answer that carries the database's `now` and has just arrived; returns the
   * estimate of this clock minus the database's. The smallest difference seen is the truest (least delay on the way
   * back); it may rise by {@link DRIFT} per elapsed ms, so that a drifting clock is followed.
   */
  #sample(dbNow: number): number {
    const arrived = this.#now();
    const prior = this.#offset === undefined ? Infinity : this.#offset + (arrived - this.#offsetAt) * DRIFT;
    this.#offset = Math.min(arrived - dbNow, prior);
    this.#offsetAt = arrived;
    return this.#offset;
  }
}
