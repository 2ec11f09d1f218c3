import { AppError } from '../../shared/app-error.ts';
import { DAY_MS } from '../../shared/clock.ts';
import type { ActivityRows } from '../ports/compliance.port.ts';

/** Longest period one statistics request covers. */
export const MAX_STATS_DAYS = 366;

export interface InboxStatistics {
  from: string;
  to: string;
  conversations: {
    /** Conversations that began in the period, erased ones included (daily counters). */
    started: number;
    /** Of those still stored: waiting for consent, open, closed. */
    waitingForConsent: number;
    open: number;
    closed: number;
  };
  messages: { inbound: number; staffReplies: number; automatic: number; notes: number };
  /** Minutes from a conversation's first customer message to the first staff reply. */
  firstResponseMinutes: { conversations: number; median: number | null; p90: number | null };
  consent: { serviceGranted: number; serviceWithdrawn: number; marketingGranted: number; marketingWithdrawn: number };
  erasures: { conversations: number; contacts: number };
  /** Per UTC day: conversations started and messages received. */
  days: { day: string; conversations: number; inbound: number }[];
}

export const STATS_AUDIT_ACTIONS = ['conversation.erased', 'contact.erased'] as const;

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Checks a statistics period: from before to, at most {@link MAX_STATS_DAYS} days. */
export function checkPeriod(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new AppError('VALIDATION', 'the period needs from before to', { field: 'from' });
  }
  if (to - from > MAX_STATS_DAYS * DAY_MS) {
    throw new AppError('VALIDATION', `the period may cover at most ${MAX_STATS_DAYS} days`, { field: 'from' });
  }
}

/**
 * Content-free statistics of the inbox (no texts, no addresses, no pseudonyms): volumes, states, first response
 * times, consent and erasure counts, per day. Volumes and consent come from the daily counters (whole UTC days, kept
 * after erasure); the states and first response times from the rows still stored; erasures from the audit log.
 */
export function computeStatistics(rows: ActivityRows, from: number, to: number): InboxStatistics {
  const conv = rows.conversations;
  const messages = rows.messages;
  const firstIn = new Map<string, number>();
  const firstReply = new Map<string, number>();
  for (const m of messages) {
    if (m.direction === 'in')
      firstIn.set(m.conversation_id, Math.min(firstIn.get(m.conversation_id) ?? Infinity, m.created_at));
    if (m.direction === 'out' && m.author_id) {
      firstReply.set(m.conversation_id, Math.min(firstReply.get(m.conversation_id) ?? Infinity, m.created_at));
    }
  }
  const waits: number[] = [];
  for (const [id, inAt] of firstIn) {
    const replyAt = firstReply.get(id);
    if (replyAt !== undefined && replyAt >= inAt) waits.push((replyAt - inAt) / 60_000);
  }
  waits.sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

  const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const days = new Map<string, { conversations: number; inbound: number }>();
  for (
    let t = Date.UTC(new Date(from).getUTCFullYear(), new Date(from).getUTCMonth(), new Date(from).getUTCDate());
    t < to;
    t += DAY_MS
  ) {
    days.set(dayOf(t), { conversations: 0, inbound: 0 });
  }
  // Volumes come from the daily counters, which outlive erasure (a reply counts after its conversation is erased,
  // a STOP after its contact is); they are kept per UTC day, so the period is widened to whole days.
  const total = (metric: string) => rows.counters.reduce((n, c) => n + (c.metric === metric ? c.count : 0), 0);
  for (const c of rows.counters) {
    const d = days.get(c.day);
    if (d && c.metric === 'conversations.started') d.conversations += c.count;
    if (d && c.metric === 'messages.inbound') d.inbound += c.count;
  }

  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    conversations: {
      started: total('conversations.started'),
      waitingForConsent: conv.filter((c) => c.state === 'pending_consent').length,
      open: conv.filter((c) => c.state === 'open').length,
      closed: conv.filter((c) => c.state === 'closed').length,
    },
    messages: {
      inbound: total('messages.inbound'),
      staffReplies: total('messages.staffReplies'),
      automatic: total('messages.automatic'),
      notes: total('messages.notes'),
    },
    firstResponseMinutes: {
      conversations: waits.length,
      median: round(percentile(waits, 50)),
      p90: round(percentile(waits, 90)),
    },
    consent: {
      serviceGranted: total('consent.service.grant'),
      serviceWithdrawn: total('consent.service.withdraw'),
      marketingGranted: total('consent.marketing.grant'),
      marketingWithdrawn: total('consent.marketing.withdraw'),
    },
    erasures: {
      conversations: rows.auditCounts['conversation.erased'] ?? 0,
      contacts: rows.auditCounts['contact.erased'] ?? 0,
    },
    days: [...days.entries()].map(([day, v]) => ({ day, ...v })),
  };
}
