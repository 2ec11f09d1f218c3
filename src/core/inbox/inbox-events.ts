/**
 * Live events for the inbox. Content-free by design: ids and states only, so they can cross process boundaries
 * (PostgreSQL NOTIFY) and reach browsers over SSE without carrying personal data; clients fetch what changed
 * through the authenticated API.
 */
export type InboxEvent =
  | { type: 'conversation.created'; inboxId: string; conversationId: string }
  | { type: 'conversation.updated'; inboxId: string; conversationId: string }
  | { type: 'conversation.erased'; inboxId: string; conversationId: string }
  /** A staff member was given the conversation (`eventId` tells repeats of one assignment from a new one). */
  | { type: 'conversation.assigned'; inboxId: string; conversationId: string; assigneeId: string; eventId: string }
  | {
      type: 'message.created';
      inboxId: string;
      conversationId: string;
      messageId: string;
      /**
       * Whether the conversation had an assignee when the message was stored, where the writer knew it (a customer's
       * message): without one nobody is notified of it, and no notification job is written.
       */
      assigned?: boolean;
    }
  | { type: 'message.updated'; inboxId: string; conversationId: string; messageId: string; status: string }
  /** For one staff member only (the live stream sends it to nobody else): a mention or a conversation given to them. */
  | {
      type: 'user.notified';
      inboxId: string;
      conversationId: string;
      userId: string;
      kind: 'mention' | 'assigned';
      messageId?: string;
    };

export type InboxEventListener = (event: InboxEvent) => void;

/** Where jobs that follow from events are written: the transaction that causes the events. */
export interface EventJobWriter {
  /**
   * Writes the jobs with the transaction, one statement for all, without waiting for its answer (no ids; a taken
   * dedupe key adds nothing).
   */
  enqueueMany(jobs: readonly { queue: string; payload: Record<string, string>; dedupeKey?: string }[]): Promise<void>;
}

/**
 * A subscriber whose work after an event must not be lost and should cost no commit of its own (the notifications'
 * dispatch job): where events are caused inside a transaction (a group of webhooks), it writes its jobs in that
 * transaction. An event it took this way is not taken again when it arrives on the bus after the commit.
 */
export interface EventJobSink {
  enqueueIn(tx: EventJobWriter, events: readonly InboxEvent[]): Promise<void>;
}

/** The event job sinks, added once the services behind them exist (they are built after the inbox). */
export class EventJobSinks implements EventJobSink {
  readonly #sinks: EventJobSink[] = [];

  add(sink: EventJobSink): void {
    this.#sinks.push(sink);
  }

  async enqueueIn(tx: EventJobWriter, events: readonly InboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const sink of this.#sinks) await sink.enqueueIn(tx, events);
  }
}

/** Publishes inbox events to every subscriber of this process (and, on PostgreSQL, of other instances). */
export interface InboxEventBus {
  publish(event: InboxEvent): void;
  subscribe(listener: InboxEventListener): () => void;
}

/** In-process event bus; the PostgreSQL implementation wraps it and relays through LISTEN/NOTIFY. */
export class LocalInboxEventBus implements InboxEventBus {
  readonly #listeners = new Set<InboxEventListener>();

  publish(event: InboxEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A failing subscriber (a closed SSE stream) must not stop delivery to the others.
      }
    }
  }

  subscribe(listener: InboxEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
