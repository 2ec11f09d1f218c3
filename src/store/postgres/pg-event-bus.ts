import pg from 'pg';
import {
  LocalInboxEventBus,
  type InboxEvent,
  type InboxEventBus,
  type InboxEventListener,
} from '../../core/inbox/inbox-events.ts';
import { newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';

const CHANNEL = 'sparsam_inbox_events';

/**
 * Inbox events fanned out across instances with PostgreSQL LISTEN/NOTIFY, so that an agent connected to instance A
 * sees a message that arrived at instance B. Events are content-free (ids and states), which is what makes it
 * acceptable to pass them through the database server. Local subscribers get local events at once; events from other
 * instances arrive through the listening connection, which reconnects with backoff when it drops.
 */
export class PgInboxEventBus implements InboxEventBus {
  readonly #local = new LocalInboxEventBus();
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

  /** Opens the listening connection; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listen();
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const { origin, event } = JSON.parse(msg.payload) as { origin: string; event: InboxEvent };
        if (origin !== this.#origin) this.#local.publish(event);
      } catch {
        this.logger.warn('ignored a malformed inbox event notification');
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
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    client.removeAllListeners();
    client.end().catch(() => undefined);
    this.#scheduleListen();
  }

  #scheduleListen(): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    setTimeout(() => {
      if (this.#closed) return;
      this.#listen().catch((error: Error) => {
        this.logger.warn({ reason: error.message }, 'inbox event listener reconnect failed');
        this.#scheduleListen();
      });
    }, delay).unref();
  }

  publish(event: InboxEvent): void {
    this.#local.publish(event);
    const payload = JSON.stringify({ origin: this.#origin, event });
    this.#pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch((error: Error) => {
      this.logger.warn({ reason: error.message }, 'could not fan out an inbox event');
    });
  }

  subscribe(listener: InboxEventListener): () => void {
    return this.#local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }
}
