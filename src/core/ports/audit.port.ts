import type { AuditRecord } from './model.ts';

/** A point of the audit chain: the seq and hash of an entry, with an HMAC that ties them together. */
export interface ChainPoint {
  seq: number;
  hash: string;
  mac: string;
  at: number;
}

export interface AuditFilter {
  /** An action (consent.grant), or a category without a dot (consent) for all its actions. */
  action?: string | undefined;
  actor?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/**
 * Called inside the append's transaction, while the chain is locked, with the head before and after the append:
 * records the new head outside the main database (the key store's witness). Runs in chain order on every instance.
 */
export type AuditWitnessHook = (before: ChainPoint, after: ChainPoint) => Promise<void>;

/** The append-only audit log with its chain head and anchor. */
export interface AuditPort {
  /**
   * Appends one entry: locks the chain head (serialising appenders on both dialects and across instances), lets
   * `build` make the row from the head, inserts it and moves the head, in one transaction.
   */
  append(
    build: (head: ChainPoint) => { row: AuditRecord; head: ChainPoint },
    witness?: AuditWitnessHook,
  ): Promise<AuditRecord>;
  /** {@link append} for several entries in one transaction (consecutive seqs). */
  appendMany(
    build: (head: ChainPoint) => { rows: AuditRecord[]; head: ChainPoint },
    witness?: AuditWitnessHook,
  ): Promise<AuditRecord[]>;
  /**
   * Entries beyond the chain head: rows with a seq above the head still in the log plus those an append has set
   * aside (an append first moves rows in its way out of the log, so they neither block it nor are listed).
   */
  countBeyondHead(): Promise<number>;
  readHead(): Promise<ChainPoint>;
  readAnchor(): Promise<ChainPoint>;
  /** Entries with afterSeq < seq <= uptoSeq, in seq order, at most `limit`. */
  range(afterSeq: number, uptoSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Entries up to the chain head (never beyond it), newest first, filtered. */
  list(filter: AuditFilter): Promise<AuditRecord[]>;
  /**
   * Deletes the oldest entries (a prefix of the chain) older than `before`, at most `limit`, and moves the anchor to
   * the last deleted entry, in one transaction. Returns how many were deleted.
   */
  prune(before: number, limit: number, anchorOf: (row: AuditRecord) => ChainPoint): Promise<number>;
}
