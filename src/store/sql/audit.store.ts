import type { AuditRecord } from '../../core/ports/model.ts';
import type { Kysely, Transaction } from 'kysely';
import { AppError } from '../../shared/app-error.ts';
import type { Database } from '../database.ts';
import type { AuditFilter, AuditPort, AuditWitnessHook, ChainPoint } from '../../core/ports/audit.port.ts';
import { newId } from '../../shared/ids.ts';

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

/**
 * Moves entries beyond the head out of the log (into `audit_set_aside`): they were not appended by sparsam (the head
 * moves with every append), so they must neither block the next append at their seq nor be listed as the newest.
 */
async function setAsideBeyond(tx: Transaction<Database>, head: ChainPoint): Promise<void> {
  const stray = await tx.selectFrom('audit_log').selectAll().where('seq', '>', head.seq).execute();
  if (stray.length === 0) return;
  const now = Date.now();
  for (const row of stray) {
    await tx
      .insertInto('audit_set_aside')
      .values({ ...row, seq: Number(row.seq), at: Number(row.at), id: newId(), set_aside_at: now })
      .execute();
  }
  await tx.deleteFrom('audit_log').where('seq', '>', head.seq).execute();
}

/** AuditPort over the main database. */
export class AuditStore implements AuditPort {
  constructor(private readonly db: Kysely<Database>) {}

  append(
    build: (head: ChainPoint) => { row: AuditRecord; head: ChainPoint },
    witness?: AuditWitnessHook,
  ): Promise<AuditRecord> {
    return this.db.transaction().execute(async (tx) => {
      await lockChain(tx);
      const before = await readPoint(tx, 'head');
      await setAsideBeyond(tx, before);
      const { row, head } = build(before);
      await tx.insertInto('audit_log').values(row).execute();
      await witness?.(before, head);
      await tx
        .updateTable('audit_chain')
        .set({ seq: head.seq, hash: head.hash, mac: head.mac, at: head.at })
        .where('name', '=', 'head')
        .execute();
      return row;
    });
  }

  appendMany(
    build: (head: ChainPoint) => { rows: AuditRecord[]; head: ChainPoint },
    witness?: AuditWitnessHook,
  ): Promise<AuditRecord[]> {
    return this.db.transaction().execute(async (tx) => {
      await lockChain(tx);
      const before = await readPoint(tx, 'head');
      const { rows, head } = build(before);
      if (rows.length === 0) return rows;
      await setAsideBeyond(tx, before);
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('audit_log')
          .values(rows.slice(i, i + 200))
          .execute();
      await witness?.(before, head);
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

  async countBeyondHead(): Promise<number> {
    const head = await readPoint(this.db, 'head');
    const inLog = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('seq', '>', head.seq)
      .executeTakeFirstOrThrow();
    const setAside = await this.db
      .selectFrom('audit_set_aside')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(inLog.n) + Number(setAside.n);
  }

  async list(filter: AuditFilter): Promise<AuditRecord[]> {
    // Never beyond the head: a row inserted there by something other than sparsam is not part of the chain.
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '<=', (eb) =>
        eb.selectFrom('audit_chain').select('audit_chain.seq').where('audit_chain.name', '=', 'head'),
      );
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
