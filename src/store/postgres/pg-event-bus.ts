import {
  LocalInboxEventBus,
  type InboxEvent,
  type InboxEventBus,
  type InboxEventListener,
} from '../../core/inbox/inbox-events.ts';
import type { Logger } from '../../shared/logger.ts';
import { PgListener } from './pg-listener.ts';

const CHANNEL = 'sparsam_inbox_events';
/** NOTIFY payloads must stay under 8000 bytes; an event is about 200. */
const EVENTS_PER_NOTIFY = 25;

/**
 * Inbox events fanned out across instances with PostgreSQL LISTEN/NOTIFY, so that an agent connected to instance A
 * sees a message that arrived at instance B. Events are content-free (ids and states), which is what makes it
 * acceptable to pass them through the database server. Local subscribers get local events at once; events from other
 * instances arrive through the listening connection, which reconnects with backoff when it drops. The events of one
 * turn of the event loop (a group of webhooks commits hundreds) go out together, a few dozen per notification.
 */
export class PgInboxEventBus implements InboxEventBus {
  readonly #local = new LocalInboxEventBus();
  readonly #listener: PgListener;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    this.#listener = new PgListener({
      url,
      channel: CHANNEL,
      logger,
      name: 'inbox event listener',
      malformed: 'ignored a malformed inbox event notification',
      onMessage: (message) => {
        if (Array.isArray(message.events)) for (const e of message.events) this.#local.publish(e as InboxEvent);
        else if (message.event) this.#local.publish(message.event as InboxEvent);
      },
    });
  }

  readonly #outgoing: InboxEvent[] = [];

  /** Opens the listening connection; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    await this.#listener.start();
  }

  /** Whether notifications are on their way: events published meanwhile wait and go out together after them. */
  #sending = false;

  publish(event: InboxEvent): void {
    this.#local.publish(event);
    this.#outgoing.push(event);
    if (this.#outgoing.length === 1 && !this.#sending) setImmediate(() => void this.#fanOut());
  }

  /**
   * Sends what was published, a few dozen events per notification, one batch at a time: under load (webhook groups
   * committing every few milliseconds) the events of several groups share a notification instead of one each.
   */
  async #fanOut(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    while (this.#outgoing.length > 0) {
      const events = this.#outgoing.splice(0);
      const sent: Promise<void>[] = [];
      for (let i = 0; i < events.length; i += EVENTS_PER_NOTIFY) {
        sent.push(
          this.#listener.notify({ events: events.slice(i, i + EVENTS_PER_NOTIFY) }).catch((error: Error) => {
            this.logger.warn({ reason: error.message }, 'could not fan out an inbox event');
          }),
        );
      }
      await Promise.all(sent);
    }
    this.#sending = false;
  }

  subscribe(listener: InboxEventListener): () => void {
    return this.#local.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
  }
}
