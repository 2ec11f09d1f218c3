/**
 * A satisfaction question sent after a conversation was closed, waiting for the customer's tap. It names the
 * conversation and contact only so that erasing them removes it; the score it leads to is stored without them.
 */
export interface CsatSurvey {
  /** Random id, part of each answer button's id (`csat:<id>:<score>`). */
  id: string;
  conversationId: string;
  contactId: string;
  channelId: string;
  channelKind: string;
  inboxId: string;
  /** Whose conversation it was (the assignee, else the staff member who closed it). */
  agentId: string | null;
  sentAt: number;
}

/** Pending satisfaction questions, written in the inbox transaction that queues the question. */
export interface CsatSurveyWrites {
  insert(survey: CsatSurvey): Promise<void>;
  /**
   * Removes the question and returns it, once: a second call (a redelivered or second answer) returns undefined.
   * Only a question sent over `channelId` to `contactId` is taken.
   */
  take(id: string, to: { channelId: string; contactId: string }): Promise<CsatSurvey | undefined>;
  /** Deletes the questions sent before `cutoff` (no answer counts after 7 days); returns how many. */
  deleteSentBefore(cutoff: number): Promise<number>;
}
