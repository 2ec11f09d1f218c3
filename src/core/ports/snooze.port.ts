import type { ConversationRecord, Millis } from './model.ts';

/** What snoozing needs from the conversation table. */
export interface SnoozePort {
  findConversation(id: string): Promise<ConversationRecord | undefined>;
  /** Sets the wake-up time of an open conversation; false when it is not open (closed meanwhile). */
  snooze(id: string, until: Millis): Promise<boolean>;
  /**
   * Ends the snooze of an open conversation, in one conditional statement: when `expected` is given only if the
   * wake-up time is still that one (a later re-snooze or an earlier wake leaves it alone). True for exactly one
   * caller, however many instances try at once. `attention`: the list shows it unread (at least 1).
   */
  wake(id: string, opts: { expected?: Millis; attention: boolean }): Promise<boolean>;
  /** Open conversations whose wake-up time has come, soonest first, at most `limit`. */
  due(now: Millis, limit: number): Promise<{ id: string; inbox_id: string; snoozed_until: Millis }[]>;
}
