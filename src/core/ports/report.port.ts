/** What a report counts: a message stored or queued, a first reply, a closed conversation, a satisfaction score. */
export type ReportFactKind = 'message_in' | 'message_out' | 'first_response' | 'resolution' | 'csat';

/**
 * One content-free fact for the reports: no conversation, contact or text, so that erasure leaves the figures.
 * `at` is stored to the minute.
 */
export interface ReportFact {
  kind: ReportFactKind;
  at: number;
  inboxId: string;
  channelKind: string;
  agentId: string | null;
  durationMs: number | null;
  score: number | null;
}

/** Writes facts (also inside an inbox transaction). */
export interface ReportFactWrites {
  record(facts: readonly ReportFact[]): Promise<void>;
}

export interface ReportFactPort extends ReportFactWrites {
  /** The facts with from <= at < to, optionally of one inbox. */
  list(from: number, to: number, inboxId?: string): Promise<ReportFact[]>;
}
