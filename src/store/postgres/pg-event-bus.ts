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
 * How long the first event of a batch waits for others before the batch goes out: other instances see an event this
 * much later (their agents' screens, not the webhook's answer, wait), and a busy instance sends a few batches a
 * second instead of one per webhook group.
 */
const FAN_OUT_DELAY_MS = 10;

/**
 * Inbox events fanned out across instances with PostgreSQL LISTEN/NOTIFY, so that an agent connected to instance A
 * sees a message that arrived at instance B. Events are content-free (ids and states), which is what makes it
 * acceptable to pass them through the database server. Local subscribers get local events at once; events from other
 * instances arrive through the listening connection, which reconnects with backoff when it drops. The events published
 * within {@link FAN_OUT_DELAY_MS} go out together, a few dozen per notification, in one statement.
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

  /** The notifications on their way: events published meanwhile wait and go out together after them. */
  #sending: Promise<void> | undefined;
  /** The wait of the first event of the next batch. */
  #waiting: NodeJS.Timeout | undefined;

  publish(event: InboxEvent): void {
    this.#local.publish(event);
    this.#outgoing.push(event);
    // A batch on its way takes it along; otherwise it waits for others.
    if (!this.#sending && !this.#waiting) {
      this.#waiting = setTimeout(() => void this.#fanOut(), FAN_OUT_DELAY_MS).unref();
    }
  }

  /**
   * Sends what was published, a few dozen events per notification and all notifications of a batch in one statement,
   * one batch at a time: under load (webhook groups committing every few milliseconds) the events of several groups
   * share a round trip instead of one each. Resolves once nothing is left to send.
   */
  #fanOut(): Promise<void> {
    clearTimeout(this.#waiting);
    this.#waiting = undefined;
    if (!this.#sending && this.#outgoing.length > 0) this.#sending = this.#send();
    return this.#sending ?? Promise.resolve();
  }

  async #send(): Promise<void> {
    try {
      do {
        const events = this.#outgoing.splice(0);
        const bodies: { events: InboxEvent[] }[] = [];
        for (let i = 0; i < events.length; i += EVENTS_PER_NOTIFY)
          bodies.push({ events: events.slice(i, i + EVENTS_PER_NOTIFY) });
        await this.#listener.notifyMany(bodies).catch((error: Error) => {
          this.logger.warn({ reason: error.message }, 'could not fan out an inbox event');
        });
      } while (this.#outgoing.length > 0);
    } finally {
      // In the same step as the last look at the queue: an event published after it starts a batch of its own.
      this.#sending = undefined;
    }
  }

  subscribe(listener: InboxEventListener): () => void {
    return this.#local.subscribe(listener);
  }

  /** Sends what is still waiting (the last events before a shutdown reach the other instances), then closes. */
  async close(): Promise<void> {
    await this.#fanOut();
    await this.#listener.close();
  }
}
