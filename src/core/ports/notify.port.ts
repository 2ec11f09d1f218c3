/**
 * "Tell this staff member about this": the one door through which core announces something to a person (a mention,
 * a conversation given to them). Content-free by design: ids and a kind, never text, names or numbers; every
 * channel of delivery (the in-app live event today, web push and e-mail as further sinks) renders its own
 * content-free wording from these ids.
 */
export interface UserNotification {
  kind: 'mention' | 'assigned';
  userId: string;
  inboxId: string;
  conversationId: string;
  /** The note that named them (mentions). */
  messageId?: string;
}

export interface NotifyUserPort {
  /** Delivers best effort; a failing sink is logged by the implementation, never thrown into the use case. */
  notify(notification: UserNotification): Promise<void>;
}
