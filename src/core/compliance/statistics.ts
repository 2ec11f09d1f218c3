import { AppError } from '../../shared/app-error.ts';
import { DAY_MS } from '../../shared/clock.ts';
import type { ActivityRows } from '../ports/compliance.port.ts';

/** Longest period one statistics request covers. */
export const MAX_STATS_DAYS = 366;

export interface InboxStatistics {
  from: string;
  to: string;
  conversations: {
    /** Conversations that began in the period and are still stored (erased ones are counted below). */
    started: number;
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
 * times, consent and erasure counts, per day. Computed from stored rows; erased conversations appear only in the
 * erasure counts, which come from the audit log.
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
  for (const c of conv) {
    const d = days.get(dayOf(c.created_at));
    if (d) d.conversations++;
  }
  for (const m of messages) {
    const d = m.direction === 'in' ? days.get(dayOf(m.created_at)) : undefined;
    if (d) d.inbound++;
  }

  const consentCount = (purpose: string, action: string) =>
    rows.consent.filter((e) => e.purpose === purpose && e.action === action).length;
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    conversations: {
      started: conv.length,
      waitingForConsent: conv.filter((c) => c.state === 'pending_consent').length,
      open: conv.filter((c) => c.state === 'open').length,
      closed: conv.filter((c) => c.state === 'closed').length,
    },
    messages: {
      inbound: messages.filter((m) => m.direction === 'in').length,
      staffReplies: messages.filter((m) => m.direction === 'out' && m.author_id).length,
      automatic: messages.filter((m) => (m.direction === 'out' && !m.author_id) || m.direction === 'system').length,
      notes: messages.filter((m) => m.direction === 'note').length,
    },
    firstResponseMinutes: {
      conversations: waits.length,
      median: round(percentile(waits, 50)),
      p90: round(percentile(waits, 90)),
    },
    consent: {
      serviceGranted: consentCount('service', 'grant'),
      serviceWithdrawn: consentCount('service', 'withdraw'),
      marketingGranted: consentCount('marketing', 'grant'),
      marketingWithdrawn: consentCount('marketing', 'withdraw'),
    },
    erasures: {
      conversations: rows.auditCounts['conversation.erased'] ?? 0,
      contacts: rows.auditCounts['contact.erased'] ?? 0,
    },
    days: [...days.entries()].map(([day, v]) => ({ day, ...v })),
  };
}
