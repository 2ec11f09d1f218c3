import pg from 'pg';
import { newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';

export interface PgListenerOptions {
  url: string;
  /** The LISTEN/NOTIFY channel (a fixed identifier, never user input). */
  channel: string;
  logger: Logger;
  /** How log lines name this listener, e.g. `inbox event listener`. */
  name: string;
  /** What the log line says about a notification that is not JSON (or whose handling threw). */
  malformed: string;
  /** A notification from another instance (its own are skipped), as parsed JSON. */
  onMessage(message: Record<string, unknown>): void;
  /** The listening connection is in place (at start and after each reconnect). */
  onConnected?(): void;
  /** The listening connection dropped; a reconnect with backoff follows. */
  onLost?(): void;
}

/**
 * One PostgreSQL LISTEN connection that reconnects with backoff (250 ms doubling up to 10 s) when it drops, and a
 * small pool to NOTIFY on the same channel. Each notification carries this instance's origin id so that an instance
 * does not hear itself.
 */
export class PgListener {
  readonly #origin = newId();
  readonly #pool: pg.Pool;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = 250;

  constructor(private readonly options: PgListenerOptions) {
    // A notification is not worth a disk flush: its commit does not wait for one (synchronous_commit off). A crash
    // of the database server loses it, as it loses every notification not yet delivered anyway.
    this.#pool = new pg.Pool({ connectionString: options.url, max: 2, options: '-c synchronous_commit=off' });
    this.#pool.on('error', () => undefined);
  }

  /** Whether the listening connection is up. */
  get live(): boolean {
    return this.#client !== undefined;
  }

  /** Opens the listening connection; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listen();
  }

  /** Sends `body`, with this instance's origin, to the other instances' listeners. */
  async notify(body: Record<string, unknown>): Promise<void> {
    await this.notifyMany([body]);
  }

  /** Sends several notifications in one statement (one round trip), in order. */
  async notifyMany(bodies: readonly Record<string, unknown>[]): Promise<void> {
    if (bodies.length === 0) return;
    const payloads = bodies.map((body) => JSON.stringify({ origin: this.#origin, ...body }));
    await this.#pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS n(p, i) ORDER BY i', [
      this.options.channel,
      payloads,
    ]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const message = JSON.parse(msg.payload) as Record<string, unknown>;
        if (message.origin !== this.#origin) this.options.onMessage(message);
      } catch {
        this.options.logger.warn(this.options.malformed);
      }
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    } catch (error) {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    this.#retryMs = 250;
    this.options.onConnected?.();
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    this.options.onLost?.();
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
        this.options.logger.warn({ reason: error.message }, `${this.options.name} reconnect failed`);
        this.#scheduleListen();
      });
    }, delay).unref();
  }
}
