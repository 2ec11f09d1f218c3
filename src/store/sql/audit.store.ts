import type { AuditRecord } from '../../core/ports/model.ts';
import type { Kysely, Transaction } from 'kysely';
import { AppError } from '../../shared/app-error.ts';
import type { Database } from '../database.ts';
import type { AuditFilter, AuditPort, ChainPoint } from '../../core/ports/audit.port.ts';

async function lockChain(tx: Transaction<Database>): Promise<void> {
  // A no-op UPDATE of the head row: on PostgreSQL it takes the row lock (other appenders wait for our commit), on
  // SQLite it takes the write lock at once (no read-then-upgrade deadlock between processes).
  await tx
    .updateTable('audit_chain')
    .set((eb) => ({ seq: eb.ref('seq') }))
    .where('name', '=', 'head')
    .execute();
}

async function readPoint(db: Kysely<Database> | Transaction<Database>, name: 'head' | 'anchor'): Promise<ChainPoint> {
  const row = await db
    .selectFrom('audit_chain')
    .select(['seq', 'hash', 'mac', 'at'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new AppError('INTERNAL', `the audit chain has no ${name} row (migration 002-privacy missing?)`);
  return { seq: Number(row.seq), hash: row.hash, mac: row.mac, at: Number(row.at) };
}

/** AuditPort over the main database. */
export class AuditStore implements AuditPort {
  constructor(private readonly db: Kysely<Database>) {}

  append(build: (head: ChainPoint) => { row: AuditRecord; head: ChainPoint }): Promise<AuditRecord> {
    return this.db.transaction().execute(async (tx) => {
      await lockChain(tx);
      const { row, head } = build(await readPoint(tx, 'head'));
      await tx.insertInto('audit_log').values(row).execute();
      await tx
        .updateTable('audit_chain')
        .set({ seq: head.seq, hash: head.hash, mac: head.mac, at: head.at })
        .where('name', '=', 'head')
        .execute();
      return row;
    });
  }

  appendMany(build: (head: ChainPoint) => { rows: AuditRecord[]; head: ChainPoint }): Promise<AuditRecord[]> {
    return this.db.transaction().execute(async (tx) => {
      await lockChain(tx);
      const { rows, head } = build(await readPoint(tx, 'head'));
      if (rows.length === 0) return rows;
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('audit_log')
          .values(rows.slice(i, i + 200))
          .execute();
      await tx
        .updateTable('audit_chain')
        .set({ seq: head.seq, hash: head.hash, mac: head.mac, at: head.at })
        .where('name', '=', 'head')
        .execute();
      return rows;
    });
  }

  readHead(): Promise<ChainPoint> {
    return readPoint(this.db, 'head');
  }

  readAnchor(): Promise<ChainPoint> {
    return readPoint(this.db, 'anchor');
  }

  async range(afterSeq: number, uptoSeq: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .where('seq', '<=', uptoSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
  }

  async list(filter: AuditFilter): Promise<AuditRecord[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    // A category ("consent") matches all its actions ("consent.grant", "consent.withdraw").
    if (filter.action && /^[a-z_]+$/.test(filter.action)) q = q.where('action', 'like', `${filter.action}.%`);
    else if (filter.action) q = q.where('action', '=', filter.action);
    if (filter.actor) q = q.where('actor', '=', filter.actor);
    if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(filter.limit ?? 100)
      .offset(filter.offset ?? 0)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
  }

  prune(before: number, limit: number, anchorOf: (row: AuditRecord) => ChainPoint): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await lockChain(tx);
      const anchor = await readPoint(tx, 'anchor');
      // The prefix of entries older than `before`: stop at the first entry that is not (times can repeat).
      const firstKept = await tx
        .selectFrom('audit_log')
        .select('seq')
        .where('seq', '>', anchor.seq)
        .where('at', '>=', before)
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      let q = tx.selectFrom('audit_log').selectAll().where('seq', '>', anchor.seq);
      if (firstKept) q = q.where('seq', '<', Number(firstKept.seq));
      const last = await q
        .orderBy('seq')
        .limit(1)
        .offset(limit - 1)
        .executeTakeFirst();
      const lastInPrefix =
        last ??
        (await (
          firstKept
            ? tx
                .selectFrom('audit_log')
                .selectAll()
                .where('seq', '>', anchor.seq)
                .where('seq', '<', Number(firstKept.seq))
            : tx.selectFrom('audit_log').selectAll().where('seq', '>', anchor.seq)
        )
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst());
      if (!lastInPrefix) return 0;
      const row = { ...lastInPrefix, seq: Number(lastInPrefix.seq), at: Number(lastInPrefix.at) };
      const deleted = await tx
        .deleteFrom('audit_log')
        .where('seq', '>', anchor.seq)
        .where('seq', '<=', row.seq)
        .executeTakeFirst();
      const next = anchorOf(row);
      await tx
        .updateTable('audit_chain')
        .set({ seq: next.seq, hash: next.hash, mac: next.mac, at: next.at })
        .where('name', '=', 'anchor')
        .execute();
      return Number(deleted.numDeletedRows);
    });
  }
}
