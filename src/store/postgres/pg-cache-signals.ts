import pg from 'pg';
import {
  LocalCacheSignals,
  type CacheSignal,
  type CacheSignalListener,
  type CacheSignals,
} from '../../shared/cache-signals.ts';
import { newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';

const CHANNEL = 'sparsam_cache_signals';
/** NOTIFY payloads must stay under 8000 bytes: a long list of destroyed keys goes out in several notifications. */
const IDS_PER_NOTIFY = 100;

/**
 * {@link CacheSignals} across instances with PostgreSQL LISTEN/NOTIFY (the pattern of PgInboxEventBus, on a channel
 * of its own). Local subscribers get a signal at once; other instances get it through their listening connection.
 * While that connection is down the bus is not {@link live} (caches read through), and every drop or reconnect runs
 * the resync listeners, so that nothing cached before a missed signal survives.
 */
export class PgCacheSignals implements CacheSignals {
  readonly #local = new LocalCacheSignals();
  readonly #origin = newId();
  readonly #pool: pg.Pool;
  #listener: pg.Client | undefined;
  #closed = false;
  #retryMs = 250;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    this.#pool = new pg.Pool({ connectionString: url, max: 2 });
    this.#pool.on('error', () => undefined);
  }

  get live(): boolean {
    return this.#listener !== undefined;
  }

  /** Opens the listening connection; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listen();
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const { origin, signal } = JSON.parse(msg.payload) as { origin: string; signal: CacheSignal };
        if (origin !== this.#origin) this.#local.deliver(signal);
      } catch {
        this.logger.warn('ignored a malformed cache signal notification');
      }
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#listener = client;
    this.#retryMs = 250;
    // Whatever was cached while no signal could arrive may be stale.
    this.#local.resync();
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    this.#local.resync();
    client.removeAllListeners();
    client.end().catch(() => undefined);
    this.logger.warn('cache signal listener lost its connection; caches read through until it is back');
    this.#scheduleListen();
  }

  #scheduleListen(): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    setTimeout(() => {
      if (this.#closed) return;
      this.#listen().catch((error: Error) => {
        this.logger.warn({ reason: error.message }, 'cache signal listener reconnect failed');
        this.#scheduleListen();
      });
    }, delay).unref();
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
      const payload = JSON.stringify({ origin: this.#origin, signal: part });
      try {
        await this.#pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
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
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }
}
