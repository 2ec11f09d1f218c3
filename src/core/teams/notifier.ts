import type { Logger } from '../../shared/logger.ts';
import type { InboxEventBus } from '../inbox/inbox-events.ts';
import type { NotifyUserPort, UserNotification } from '../ports/notify.port.ts';

/**
 * The in-app sink of user notifications: a `user.notified` live event that only the named user's streams receive
 * (the web inbox shows the mention badge and list from it).
 */
export class InAppNotifier implements NotifyUserPort {
  constructor(private readonly events: InboxEventBus) {}

  notify(n: UserNotification): Promise<void> {
    this.events.publish({
      type: 'user.notified',
      inboxId: n.inboxId,
      conversationId: n.conversationId,
      userId: n.userId,
      kind: n.kind,
      ...(n.messageId ? { messageId: n.messageId } : {}),
    });
    return Promise.resolve();
  }
}

/**
 * Hands each notification to every sink (in-app now; web push and e-mail are further sinks added in the composition
 * root). A failing sink is logged by kind and never stops the others or the use case that notified.
 */
export class FanOutNotifier implements NotifyUserPort {
  readonly #sinks: NotifyUserPort[];

  constructor(
    sinks: readonly NotifyUserPort[],
    private readonly logger: Logger,
  ) {
    this.#sinks = [...sinks];
  }

  /** Adds a sink (web push, e-mail) after construction. */
  add(sink: NotifyUserPort): void {
    this.#sinks.push(sink);
  }

  async notify(n: UserNotification): Promise<void> {
    await Promise.all(
      this.#sinks.map((sink) =>
        sink.notify(n).catch((error: unknown) => {
          this.logger.warn({ kind: n.kind, err: (error as Error).name }, 'a notification sink failed');
        }),
      ),
    );
  }
}
