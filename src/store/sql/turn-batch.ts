import { setImmediate as nextTurn, setTimeout as later } from 'node:timers';

interface Waiting<K, R> {
  key: K;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Calls of one kind made in the same turn of the event loop, answered by one statement for all of them (the
 * DataLoader pattern): the sends that a claim starts together read their messages with one query, and the provider
 * answers that arrive together are written with one UPDATE. Every statement costs this process about as much CPU as
 * the database needs to run it, so at a thousand sends a second the statements per send decide the throughput. A
 * call alone waits for nothing but the end of its turn.
 *
 * `many` answers the keys in their order. If a batch fails, each of its calls is run alone, so that only the failing
 * one reports the error: `many` must be a single statement (all or nothing), or safe to repeat.
 */
export class TurnBatch<K, R> {
  readonly #waiting: Waiting<K, R>[] = [];

  /**
   * `windowMs` (default 0): the first call of a batch waits this long for company instead of only to the end of its
   * turn; for calls that come one by one, paced, where a statement saved is worth a few milliseconds of latency.
   */
  constructor(
    private readonly many: (keys: readonly K[]) => Promise<readonly R[]>,
    private readonly maxBatch = 100,
    private readonly windowMs = 0,
  ) {}

  run(key: K): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ key, resolve, reject });
      if (this.#waiting.length !== 1) return;
      // From node:timers, not the globals: fake timers in tests must not hold the batch back.
      if (this.windowMs > 0) later(() => void this.#flush(), this.windowMs);
      else nextTurn(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const waiting = this.#waiting.splice(0);
    const chunks: Waiting<K, R>[][] = [];
    for (let i = 0; i < waiting.length; i += this.maxBatch) chunks.push(waiting.slice(i, i + this.maxBatch));
    await Promise.all(chunks.map((chunk) => this.#answer(chunk)));
  }

  async #answer(chunk: Waiting<K, R>[]): Promise<void> {
    try {
      const answers = await this.many(chunk.map((w) => w.key));
      chunk.forEach((w, i) => w.resolve(answers[i]!));
    } catch (error) {
      if (chunk.length === 1) {
        chunk[0]!.reject(error);
        return;
      }
      await Promise.all(chunk.map((w) => this.#answer([w])));
    }
  }
}
