import type { CsatSurveyWrites } from './csat.port.ts';
import type { ReportFactWrites } from './report.port.ts';
import type { ConversationRecord, ConversationState } from './model.ts';
import type { MarketingWrites } from './marketing.port.ts';
import type { MediaPort } from './media.port.ts';
import type { MessagePort } from './message.port.ts';

/** Which conversations a list shows; the store never returns pending_consent ones for a list. */
export interface ConversationFilter {
  inboxIds?: readonly string[];
  states: readonly Exclude<ConversationState, 'pending_consent'>[];
  /** Only conversations assigned to this user; null = only unassigned ones; undefined = any. */
  assigneeId?: string | null;
  label?: string;
  channelId?: string;
  labelSeq?: number;
  /** 'priority': high-priority conversations first, then by last activity (the default order). */
  sort?: 'activity' | 'priority';
  /** true: only snoozed ones, soonest wake-up first; false: only those not snoozed; undefined: both. */
  snoozed?: boolean;
  limit: number;
}

/** Conversations: one row per customer case, labelled by a per-inbox sequence number. */
export interface ConversationPort {
  insert(row: ConversationRecord): Promise<void>;
  findById(id: string): Promise<ConversationRecord | undefined>;
  /** Several conversations by id, in one query (those that exist, in no particular order). */
  findByIds(ids: readonly string[]): Promise<ConversationRecord[]>;
  /** The contact's open or pending_consent conversation (at most one exists). */
  findCurrentForContact(contactId: string): Promise<ConversationRecord | undefined>;
  listForContact(contactId: string): Promise<ConversationRecord[]>;
  /** The current (open or pending_consent) conversations of several contacts, in one query. */
  findCurrentForContacts(contactIds: readonly string[]): Promise<ConversationRecord[]>;
  update(id: string, patch: Partial<Omit<ConversationRecord, 'id'>>): Promise<void>;
  /**
   * Adds to `unread`, moves last_activity_at (and last_inbound_at when given) forward, never back, and ends a snooze:
   * a customer who writes wakes the conversation.
   */
  touchInbound(id: string, at: number, unreadDelta: number): Promise<void>;
  /**
   * {@link touchInbound} for several conversations in one statement (applied in order of their ids), each only while
   * its state and notice time are still `state` and `consentRequestedAt` (what the caller staged its messages for).
   * Resolves once the statement is sent; `touched` settles with how many conversations it touched, so a caller that
   * sees fewer than it gave knows that a conversation was closed, erased or answered meanwhile. In a transaction on
   * PostgreSQL the statement leaves with the next one.
   */
  touchInboundMany(touches: readonly InboundTouch[]): Promise<{ touched: Promise<number> }>;
  list(filter: ConversationFilter): Promise<ConversationRecord[]>;
}

/** Payload of a job: ids only, never personal data. */
export type JobPayload = Record<string, string | number | boolean | null>;

/** What {@link InboxTransactions.run} gives its callback: the inbox ports bound to one transaction. */
export interface InboxTx {
  conversations: ConversationPort;
  messages: MessagePort;
  media: MediaPort;
  /** Cooldown claims of automated messages and campaign rows, written with the outbox's messages. */
  marketing: MarketingWrites;
  /** Content-free facts for the reports, written with the messages they count. */
  reportFacts: ReportFactWrites;
  /** Satisfaction questions waiting for their answer (queued with the question; taken with the score's fact). */
  csat: CsatSurveyWrites;
  /** Enqueues a job in the same transaction: the job exists exactly when the rows it refers to do. */
  enqueue(
    queue: string,
    payload: JobPayload,
    opts?: { runAt?: number; dedupeKey?: string; maxAttempts?: number },
  ): Promise<string>;
  /** Enqueues jobs in the same transaction with one statement that need not be waited for (see EventJobWriter). */
  enqueueMany(jobs: readonly { queue: string; payload: JobPayload; dedupeKey?: string }[]): Promise<void>;
}

/** One conversation's share of a group of inbound messages (see {@link ConversationPort.touchInboundMany}). */
export interface InboundTouch {
  id: string;
  at: number;
  unreadDelta: number;
  state: ConversationRecord['state'];
  consentRequestedAt: number | null;
}

/**
 * Thrown in a transaction whose reads, made before it began, turned out stale (a row it relied on changed meanwhile).
 * Not retried by {@link InboxTransactions.run}: the caller reads again and starts a new transaction.
 */
export class ConcurrentChange extends Error {
  readonly code = 'CONCURRENT_CHANGE';
}

/**
 * Runs inbox writes atomically. `run` retries the callback once when a uniqueness race was lost (two webhooks of one
 * customer at the same moment) so that the second sees the first's rows.
 */
export interface InboxTransactions {
  run<T>(fn: (tx: InboxTx) => Promise<T>): Promise<T>;
  /**
   * Like {@link run}, but returns once the transaction has committed, with the promise `durable` that settles once
   * the commit would survive a power loss (SQLite waits for the disk beside the event loop for such a transaction;
   * on PostgreSQL a COMMIT returns only when durable, and `durable` is settled at once). Whoever acknowledges the
   * writes to the outside (a webhook's 200) waits for `durable`; a rejected one means: committed, perhaps not on disk.
   */
  runUntilCommitted<T>(fn: (tx: InboxTx) => Promise<T>): Promise<{ value: T; durable: Promise<void> }>;
}
