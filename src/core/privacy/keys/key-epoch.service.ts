import type { Clock } from '../../../shared/clock.ts';
import type { KeyService } from './key.service.ts';

/** Default length of a key epoch: erasure reaches every old copy at most this long after it happened. */
export const DEFAULT_KEY_EPOCH_MS = 24 * 60 * 60_000;
/**
 * How long a new epoch waits before data keys are re-wrapped and lookup hashes re-peppered: long enough for a request
 * that read the previous epoch just before it changed (another instance, or the server while `sparsam keys rotate`
 * runs beside it) to finish its write, which the sweep that follows then moves as well.
 */
export const DEFAULT_EPOCH_GRACE_MS = 2_000;

export interface KeyEpochOptions {
  epochMs?: number;
  graceMs?: number;
  /** Re-peppers the lookup hashes (ContactDirectory.repepper); returns the number replaced. */
  repepper: () => Promise<number>;
  sleep?: (ms: number) => Promise<void>;
}

export interface EpochTransition {
  epoch: number;
  rewrapped: number;
  repeppered: number;
}

/**
 * Key epochs: each epoch has its own random secret (kept only in the epoch file, never in a database), whose key wraps
 * every live data key and whose pepper keys every contact lookup hash. Starting an epoch re-wraps the live data keys
 * and re-peppers the live contacts online, then destroys the previous epoch's secret. From then on no copy of the
 * main database or of the key store taken earlier opens anything erased before, nor re-identifies an erased person,
 * with any secret that still exists.
 */
export class KeyEpochService {
  readonly #epochMs: number;
  readonly #graceMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  #running: Promise<EpochTransition | undefined> | undefined;

  constructor(
    private readonly keys: KeyService,
    private readonly clock: Clock,
    private readonly options: KeyEpochOptions,
  ) {
    this.#epochMs = options.epochMs ?? DEFAULT_KEY_EPOCH_MS;
    this.#graceMs = options.graceMs ?? DEFAULT_EPOCH_GRACE_MS;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Begins the next epoch now and completes it (`sparsam keys rotate`). One run at a time per process. */
  rotate(): Promise<EpochTransition> {
    return this.#exclusive(async () => {
      await this.keys.beginEpoch();
      await this.#sleep(this.#graceMs);
      return this.#complete();
    }) as Promise<EpochTransition>;
  }

  /**
   * Finishes an epoch transition left unfinished (a crash, or a store created before key epochs), else does nothing.
   * Safe on every instance at once: every step is idempotent.
   */
  resume(): Promise<EpochTransition | undefined> {
    return this.#exclusive(async () => {
      await this.keys.syncEpoch();
      if (!this.keys.inTransition) return undefined;
      return this.#complete();
    });
  }

  /** The periodic check (every instance, every minute): follow the key store, finish, or begin the next epoch. */
  async tick(): Promise<EpochTransition | undefined> {
    if (this.#running) return undefined;
    const resumed = await this.resume();
    if (resumed) return resumed;
    const started = await this.keys.epochStartedAt();
    if (started !== undefined && this.clock.now().getTime() - started < this.#epochMs) return undefined;
    return this.rotate();
  }

  async #complete(): Promise<EpochTransition> {
    let rewrapped = await this.keys.rewrapStale();
    let repeppered = await this.options.repepper();
    // A second sweep catches a key or a contact written under the previous epoch by a request that was under way
    // while the first one ran.
    await this.#sleep(Math.min(this.#graceMs, 500));
    rewrapped += await this.keys.rewrapStale();
    repeppered += await this.options.repepper();
    await this.keys.retirePrevious(true);
    return { epoch: this.keys.epoch!, rewrapped, repeppered };
  }

  #exclusive(fn: () => Promise<EpochTransition | undefined>): Promise<EpochTransition | undefined> {
    const run = (this.#running ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then(fn)
      .finally(() => {
        if (this.#running === run) this.#running = undefined;
      });
    this.#running = run;
    return run;
  }
}
