import type { Kysely } from 'kysely';
import type { ConsentEventRecord, MessageRecord } from '../../core/ports/model.ts';
import type { Database, DailyCountRow } from '../database.ts';
import { PreparedInsert } from './prepared-query.ts';
import { allColumns } from './records.ts';
import { sendAhead } from './send-ahead.ts';

const insertCounts = new PreparedInsert<DailyCountRow>(
  allColumns<DailyCountRow>()(['day', 'metric', 'count']),
  (db, rows) => db.insertInto('daily_counts').values(rows),
);

/**
 * The statistics' content-free daily counters (table daily_counts): each stored conversation, message and consent
 * event appends one to its day's metric, in the same transaction as the row, so the figures survive the row's erasure.
 */
export type DailyMetric =
  | 'conversations.started'
  | 'messages.inbound'
  | 'messages.staffReplies'
  | 'messages.automatic'
  | 'messages.notes'
  | 'consent.service.grant'
  | 'consent.service.withdraw'
  | 'consent.marketing.grant'
  | 'consent.marketing.withdraw';

/** The UTC day of an epoch-millisecond time, as the counters key it. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function messageMetric(m: Pick<MessageRecord, 'direction' | 'author_id'>): DailyMetric {
  if (m.direction === 'in') return 'messages.inbound';
  if (m.direction === 'note') return 'messages.notes';
  return m.direction === 'out' && m.author_id ? 'messages.staffReplies' : 'messages.automatic';
}

export const consentMetric = (e: Pick<ConsentEventRecord, 'purpose' | 'action'>): DailyMetric =>
  `consent.${e.purpose}.${e.action}`;

/** Adds to the counters: one per (day, metric) in `events`. */
export async function countDaily(
  db: Kysely<Database>,
  events: readonly { at: number; metric: DailyMetric }[],
): Promise<void> {
  const totals = new Map<string, { day: string; metric: DailyMetric; count: number }>();
  for (const e of events) {
    const day = utcDay(e.at);
    const key = `${day} ${e.metric}`;
    const entry = totals.get(key) ?? { day, metric: e.metric, count: 0 };
    entry.count += 1;
    totals.set(key, entry);
  }
  if (totals.size === 0) return;
  // Appended, never updated in place: no row lock for concurrent transactions to wait for or deadlock on. Nothing
  // branches on the answer: in a transaction it leaves with the next statement.
  await sendAhead(db, insertCounts.compiled(db, [...totals.values()]));
}

/** The counters of the UTC days from `fromDay` to `toDay` (inclusive), added up per day and metric. */
export async function dailyCounts(
  db: Kysely<Database>,
  fromDay: string,
  toDay: string,
): Promise<{ day: string; metric: string; count: number }[]> {
  const rows = await db
    .selectFrom('daily_counts')
    .select(['day', 'metric', (eb) => eb.fn.sum<string | number>('count').as('n')])
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .groupBy(['day', 'metric'])
    .execute();
  return rows.map((r) => ({ day: r.day, metric: r.metric, count: Number(r.n) }));
}
