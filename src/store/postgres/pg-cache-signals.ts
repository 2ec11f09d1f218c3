import {
  LocalCacheSignals,
  type CacheSignal,
  type CacheSignalListener,
  type CacheSignals,
} from '../../shared/cache-signals.ts';
import type { Logger } from '../../shared/logger.ts';
import { PgListener } from './pg-listener.ts';

const CHANNEL = 'sparsam_cache_signals';
/** NOTIFY payloads must stay under 8000 bytes: a long list of destroyed keys goes out in several notifications. */
const IDS_PER_NOTIFY = 100;

/**
 * {@link CacheSignals} across instances with PostgreSQL LISTEN/NOTIFY ({@link PgListener}, as PgInboxEventBus, on a
 * channel of its own). Local subscribers get a signal at once; other instances get it through their listening
 * connection. While that connection is down the bus is not {@link live} (caches read through), and every drop or
 * reconnect runs the resync listeners, so that nothing cached before a missed signal survives.
 */
export class PgCacheSignals implements CacheSignals {
  readonly #local = new LocalCacheSignals();
  readonly #listener: PgListener;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    this.#listener = new PgListener({
      url,
      channel: CHANNEL,
      logger,
      name: 'cache signal listener',
      malformed: 'ignored a malformed cache signal notification',
      onMessage: (message) => this.#local.deliver(message.signal as CacheSignal),
      // Whatever was cached while no signal could arrive may be stale.
      onConnected: () => this.#local.resync(),
      onLost: () => {
        this.#local.resync();
        logger.warn('cache signal listener lost its connection; caches read through until it is back');
      },
    });
  }

  get live(): boolean {
    return this.#listener.live;
  }

  /** Opens the listening connection; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listener.start();
  }

  async publish(signal: CacheSignal): Promise<void> {
    this.#local.deliver(signal);
    const parts: CacheSignal[] = [];
    if (signal.type === 'keys.destroyed') {
      for (let i = 0; i < signal.ownerIds.length; i += IDS_PER_NOTIFY) {
        parts.push({ ...signal, ownerIds: signal.ownerIds.slice(i, i + IDS_PER_NOTIFY) });
      }
    } else {
      parts.push(signal);
    }
    for (const part of parts) {
      try {
        await this.#listener.notify({ signal: part });
      } catch (error) {
        this.logger.warn(
          { reason: (error as Error).message, signal: signal.type },
          'could not send a cache signal to the other instances',
        );
      }
    }
  }

  subscribe(listener: CacheSignalListener): () => void {
    return this.#local.subscribe(listener);
  }

  onResync(listener: () => void): () => void {
    return this.#local.onResync(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
  }
}
