import type { ConversationRecord, InboxSettingsDocument } from './model.ts';

export interface InboxRetentionRow {
  id: string;
  /** The inbox's settings (hold `retention`). */
  settings: InboxSettingsDocument;
}

/** Queries of the retention sweeper; every "due" query returns at most `limit` rows, oldest first. */
export interface RetentionPort {
  listInboxes(): Promise<InboxRetentionRow[]>;
  /** Conversations waiting for consent since before `cutoff` (consent_requested_at, else created_at). */
  dueConsentTimeouts(
    inboxId: string,
    cutoff: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]>;
  /** Open conversations whose last activity is before `cutoff`. */
  dueInactive(
    inboxId: string,
    cutoff: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]>;
  /**
   * Closes one conversation if it is still open and still inactive since before `cutoff` (a message arriving
   * meanwhile keeps it open). True when closed.
   */
  closeInactive(id: string, cutoff: number, closedAt: number, eraseAt: number): Promise<boolean>;
  /**
   * Closed conversations due for erasure: erase_at <= now, or (no erase_at) closed_at <= now - eraseAfterMs.
   */
  dueErasures(
    inboxId: string,
    now: number,
    eraseAfterMs: number,
    limit: number,
    exclude: readonly string[],
  ): Promise<ConversationRecord[]>;
  /**
   * Deletes delivery statuses parked for provider ids that no message came to carry before `now` (see
   * MessagePort.advanceOrParkStatus); returns how many.
   */
  expireParkedStatuses(now: number): Promise<number>;
  /** Deletes remembered inbound events (number changes) whose redelivery window has passed; returns how many. */
  expireInboundReceipts(now: number): Promise<number>;
  /** Deletes the consent proof of erased contacts whose keeping period ended before `now`; returns how many. */
  expireConsentProofs(now: number): Promise<number>;
}
