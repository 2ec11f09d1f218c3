import type { Kysely } from 'kysely';
import type { ReportFact, ReportFactKind, ReportFactPort } from '../../core/ports/report.port.ts';
import { newTimeOrderedId } from '../../shared/ids.ts';
import type { Database, ReportFactRow } from '../database.ts';
import { PreparedInsert } from './prepared-query.ts';
import { allColumns } from './records.ts';
import { sendAhead } from './send-ahead.ts';

const MINUTE_MS = 60_000;

const insertFacts = new PreparedInsert<ReportFactRow>(
  allColumns<ReportFactRow>()(['id', 'kind', 'at', 'inbox_id', 'channel_kind', 'agent_id', 'duration_ms', 'score']),
  (db, rows) => db.insertInto('report_facts').values(rows),
);

/** Kysely implementation of {@link ReportFactPort} over `report_facts`, shared by SQLite and PostgreSQL. */
export class ReportFactStore implements ReportFactPort {
  constructor(private readonly db: Kysely<Database>) {}

  async record(facts: readonly ReportFact[]): Promise<void> {
    if (facts.length === 0) return;
    // Nothing branches on the answer: in a transaction it leaves with the next statement.
    await sendAhead(
      this.db,
      insertFacts.compiled(
        this.db,
        facts.map((f) => ({
          id: newTimeOrderedId(),
          kind: f.kind,
          at: Math.floor(f.at / MINUTE_MS) * MINUTE_MS,
          inbox_id: f.inboxId,
          channel_kind: f.channelKind,
          agent_id: f.agentId,
          duration_ms: f.durationMs === null ? null : Math.max(0, Math.round(f.durationMs)),
          score: f.score,
        })),
      ),
    );
  }

  async list(from: number, to: number, inboxId?: string): Promise<ReportFact[]> {
    let q = this.db.selectFrom('report_facts').selectAll().where('at', '>=', from).where('at', '<', to);
    if (inboxId) q = q.where('inbox_id', '=', inboxId);
    const rows = await q.orderBy('at').execute();
    return rows.map((r) => ({
      kind: r.kind as ReportFactKind,
      at: Number(r.at),
      inboxId: r.inbox_id,
      channelKind: r.channel_kind,
      agentId: r.agent_id,
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      score: r.score,
    }));
  }
}
