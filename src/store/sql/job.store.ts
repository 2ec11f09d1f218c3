import { setImmediate as nextTurn } from 'node:timers';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, JobRow } from '../database.ts';
import type { JobPort, NewJobRow } from '../ports/job.port.ts';
import { onPostgres } from './dialect.ts';
import { sendAhead } from './send-ahead.ts';
import { TurnBatch } from './turn-batch.ts';

interface PendingWrite {
  op: (db: Kysely<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for small independent writes (job outcomes, message status changes): writes that arrive while a
 * commit is running are committed together in the next transaction, so that N concurrent sends cost a few fsyncs
 * instead of N (SQLite with synchronous=FULL manages about a thousand commits a second). A write alone runs at
 * once, without waiting for company. Each caller's promise settles after its write is durable; if a batch fails,
 * its writes are retried one by one so that only the failing write reports the error.
 *
 * One instance per database handle ({@link groupCommitFor}), shared by the job and outbound stores. Never await it
 * from inside a transaction on the same SQLite database: the transaction holds the only connection.
 *
 * With `batch: false` (PostgreSQL) every write runs at once on its own pooled connection: the server already flushes
 * the WAL of commits that arrive together in one go, and a batch transaction would put the writes one after the
 * other on a single connection (a round trip each), which made it the bottleneck of outbound sending.
 */
export class GroupCommit {
  readonly #pending: PendingWrite[] = [];
  #flushing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 256,
    private readonly batch = true,
  ) {}

  run<T>(op: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (!this.batch) return op(this.db);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (this.#flushing) return;
      this.#flushing = true;
      // The first write waits for the end of this turn of the event loop, so that the writes of the other I/O
      // callbacks already waiting (provider answers that arrived together) join its commit. Without this, SQLite's
      // synchronous driver commits every write alone: a commit blocks the thread, so no company can arrive during
      // one. From node:timers, not the global: fake timers in tests must not hold durable writes back.
      nextTurn(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.maxBatch);
        if (batch.length === 1) {
          await settle(batch[0]!, this.db);
          continue;
        }
        try {
          const results = await this.db.transaction().execute(async (tx) => {
            const out: unknown[] = [];
            for (const write of batch) out.push(await write.op(tx));
            return out;
          });
          batch.forEach((write, i) => write.resolve(results[i]));
        } catch {
          for (const write of batch) await settle(write, this.db);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}

async function settle(write: PendingWrite, db: Kysely<Database>): Promise<void> {
  try {
    write.resolve(await write.op(db));
  } catch (error) {
    write.reject(error);
  }
}

const groupCommits = new WeakMap<Kysely<Database>, GroupCommit>();

/**
 * The group-commit writer of a database handle (one per handle, so that all stores on it batch together). Batching on
 * SQLite only, where every commit is an fsync of the one writer; see {@link GroupCommit} for PostgreSQL.
 */
export function groupCommitFor(db: Kysely<Database>): GroupCommit {
  let group = groupCommits.get(db);
  if (!group) {
    group = new GroupCommit(db, 256, !onPostgres(db));
    groupCommits.set(db, group);
  }
  return group;
}

/** Jobs per INSERT statement of insertMany (13 parameters each, well below SQLite's limit of 32,766). */
const INSERT_CHUNK = 500;

function jobRow(job: NewJobRow) {
  return {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    dedupe_key: job.dedupeKey,
    status: 'pending' as const,
    run_at: job.runAt,
    attempts: 0,
    max_attempts: job.maxAttempts,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: job.now,
    updated_at: job.now,
  };
}

/**
 * The job table on both dialects. Claiming differs by capability, not by scattered ifs: with `skipLocked`
 * (PostgreSQL) the due rows are picked in a CTE with `FOR UPDATE SKIP LOCKED`, so that instances sharing the
 * database take disjoint jobs without waiting on each other; without it (SQLite) the same UPDATE … WHERE id IN
 * (SELECT …) RETURNING is a single statement under SQLite's one-writer lock, which is just as exclusive.
 */
export class JobStore implements JobPort {
  readonly #writes: GroupCommit;
  readonly #wakes = new TurnBatch((wakes: readonly { dedupeKey: string; now: number }[]) => this.#wakeMany(wakes));

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { skipLocked: boolean },
  ) {
    this.#writes = groupCommitFor(db);
  }

  async insert(job: NewJobRow, db: Kysely<Database> = this.db): Promise<{ id: string; inserted: boolean }> {
    const row = await db
      .insertInto('jobs')
      .values(jobRow(job))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) return { id: row.id, inserted: true };
    const existing = await db
      .selectFrom('jobs')
      .select('id')
      .where('dedupe_key', '=', job.dedupeKey)
      .executeTakeFirstOrThrow();
    return { id: existing.id, inserted: false };
  }

  async insertMany(
    jobs: readonly NewJobRow[],
    db: Kysely<Database> = this.db,
  ): Promise<{ id: string; inserted: boolean }[]> {
    const answers: { id: string; inserted: boolean }[] = [];
    for (let i = 0; i < jobs.length; i += INSERT_CHUNK) {
      const chunk = jobs.slice(i, i + INSERT_CHUNK);
      const inserted = new Set(
        (
          await db
            .insertInto('jobs')
            .values(chunk.map(jobRow))
            .onConflict((oc) => oc.column('dedupe_key').doNothing())
            .returning('id')
            .execute()
        ).map((r) => r.id),
      );
      const missing = chunk.filter((j) => !inserted.has(j.id)).map((j) => j.dedupeKey!);
      const holders = new Map<string, string>();
      if (missing.length > 0) {
        const rows = await db
          .selectFrom('jobs')
          .select(['id', 'dedupe_key'])
          .where('dedupe_key', 'in', [...new Set(missing)])
          .execute();
        for (const r of rows) holders.set(r.dedupe_key!, r.id);
      }
      for (const j of chunk) {
        if (inserted.has(j.id)) answers.push({ id: j.id, inserted: true });
        else {
          const id = holders.get(j.dedupeKey!);
          if (id === undefined) throw new Error(`JobStore.insertMany: no job holds the dedupe key of job ${j.id}`);
          answers.push({ id, inserted: false });
        }
      }
    }
    return answers;
  }

  async insertAhead(jobs: readonly NewJobRow[], db: Kysely<Database>): Promise<void> {
    for (let i = 0; i < jobs.length; i += INSERT_CHUNK) {
      await sendAhead(
        db,
        db
          .insertInto('jobs')
          .values(jobs.slice(i, i + INSERT_CHUNK).map(jobRow))
          .onConflict((oc) => oc.column('dedupe_key').doNothing()),
      );
    }
  }

  async claim(queue: string, limit: number, owner: string, now: number, leaseUntil: number): Promise<JobRow[]> {
    if (limit <= 0) return [];
    const due = (eb: ExpressionBuilder<Database, 'jobs'>) =>
      eb.and([
        eb('queue', '=', queue),
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
          // A lease that ran out: the worker that held it crashed or hung. Retry it if attempts remain.
          eb.and([
            eb('status', '=', 'running'),
            eb('locked_until', '<', now),
            eb('attempts', '<', eb.ref('max_attempts')),
          ]),
        ]),
      ]);
    const set = {
      status: 'running' as const,
      locked_by: owner,
      locked_until: leaseUntil,
      updated_at: now,
    };
    // Through the group commit: a claim is a write, and alone it costs a commit (an fsync on SQLite) of its own; with
    // the sends' status writes of the same moment it shares theirs. A claim lost to a crash before its commit only
    // leaves the jobs pending.
    if (this.options.skipLocked) {
      return await this.#writes.run((db) =>
        db
          .with(
            (cte) => cte('next').materialized(),
            (qb) =>
              qb.selectFrom('jobs').select('id').where(due).orderBy('run_at').limit(limit).forUpdate().skipLocked(),
          )
          .updateTable('jobs')
          .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', (eb) => eb.selectFrom('next').select('next.id'))
          .returningAll()
          .execute(),
      );
    }
    // SQLite: the due pending jobs and the expired leases are picked by two reads that each follow the index in
    // run_at order and stop at `limit`, then merged; one read with an OR of both would collect every due job and sort
    // them all (thousands when a burst is queued) at every claim.
    const pending = (db: Kysely<Database>) =>
      db
        .selectFrom('jobs')
        .select(['id', 'run_at'])
        .where('queue', '=', queue)
        .where('status', '=', 'pending')
        .where('run_at', '<=', now)
        .orderBy('run_at')
        .limit(limit);
    const expired = (db: Kysely<Database>) =>
      db
        .selectFrom('jobs')
        .select(['id', 'run_at'])
        .where('queue', '=', queue)
        .where('status', '=', 'running')
        .where('locked_until', '<', now)
        .where((eb) => eb('attempts', '<', eb.ref('max_attempts')))
        .orderBy('run_at')
        .limit(limit);
    return await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', (eb) =>
          eb
            .selectFrom(
              eb
                .selectFrom(pending(db).as('p'))
                .select(['p.id', 'p.run_at'])
                .unionAll(eb.selectFrom(expired(db).as('e')).select(['e.id', 'e.run_at']))
                .as('d'),
            )
            .select('d.id')
            .orderBy('d.run_at')
            .limit(limit),
        )
        .returningAll()
        .execute(),
    );
  }

  async extendLeases(ids: readonly string[], owner: string, leaseUntil: number, now: number): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .updateTable('jobs')
      .set({ locked_until: leaseUntil, updated_at: now })
      .where('id', 'in', ids)
      .where('locked_by', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async complete(id: string, owner: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set({ status: 'done', locked_by: null, locked_until: null, last_error: null, updated_at: now })
        .where('id', '=', id)
        .where('locked_by', '=', owner)
        .where('status', '=', 'running')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async completeMany(ids: readonly string[], owner: string, now: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set({ status: 'done', locked_by: null, locked_until: null, last_error: null, updated_at: now })
        .where('id', 'in', ids)
        .where('locked_by', '=', owner)
        .where('status', '=', 'running')
        .returning('id')
        .execute(),
    );
    return rows.map((r) => r.id);
  }

  async reschedule(id: string, owner: string, runAt: number, lastError: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set({
          status: 'pending',
          run_at: runAt,
          locked_by: null,
          locked_until: null,
          last_error: lastError,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('locked_by', '=', owner)
        .where('status', '=', 'running')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async defer(
    id: string,
    owner: string,
    runAt: number,
    claimedRunAt: number,
    now: number,
  ): Promise<number | undefined> {
    const row = await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'pending' as const,
          attempts: eb('attempts', '-', 1),
          // run_at moved while the job ran: a wake() arrived during this run, so the job is due at once.
          // Cast: a CASE of parameters only would be text on PostgreSQL.
          run_at: eb
            .case()
            .when('run_at', '>', claimedRunAt)
            .then(eb.cast<number>(eb.val(now), 'bigint'))
            .else(eb.cast<number>(eb.val(runAt), 'bigint'))
            .end(),
          locked_by: null,
          locked_until: null,
          updated_at: now,
        }))
        .where('id', '=', id)
        .where('locked_by', '=', owner)
        .where('status', '=', 'running')
        .returning('run_at')
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : Number(row.run_at);
  }

  wake(dedupeKey: string, now: number): Promise<number> {
    return this.#wakes.run({ dedupeKey, now });
  }

  /** The wakes of one turn in one UPDATE (every finished send wakes the next message of its conversation). */
  async #wakeMany(wakes: readonly { dedupeKey: string; now: number }[]): Promise<number[]> {
    const now = Math.max(...wakes.map((w) => w.now));
    const rows = await this.#writes.run((db) =>
      db
        .updateTable('jobs')
        .set((eb) => ({
          // A running job's run_at is not read until it ends; moving it past the claimed value marks the wake.
          run_at: eb
            .case()
            .when('status', '=', 'pending')
            .then(now)
            .when(eb('run_at', '+', 1), '>', now)
            .then(eb('run_at', '+', 1))
            .else(now)
            .end(),
          updated_at: now,
        }))
        .where(
          'dedupe_key',
          'in',
          wakes.map((w) => w.dedupeKey),
        )
        .where((eb) =>
          eb.or([eb.and([eb('status', '=', 'pending'), eb('run_at', '>', now)]), eb('status', '=', 'running')]),
        )
        .returning('dedupe_key')
        .execute(),
    );
    const woken = new Set(rows.map((r) => r.dedupe_key));
    return wakes.map((w) => (woken.delete(w.dedupeKey) ? 1 : 0));
  }

  async fail(id: string, owner: string | null, lastError: string, now: number): Promise<boolean> {
    const result = await this.#writes.run((db) => {
      let query = db
        .updateTable('jobs')
        .set({ status: 'failed', locked_by: null, locked_until: null, last_error: lastError, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', ['pending', 'running']);
      if (owner !== null) query = query.where('locked_by', '=', owner);
      return query.executeTakeFirst();
    });
    return Number(result.numUpdatedRows) > 0;
  }

  async failAbandoned(queue: string, now: number, lastError: string): Promise<JobRow[]> {
    return await this.db
      .updateTable('jobs')
      .set({ status: 'failed', locked_by: null, locked_until: null, last_error: lastError, updated_at: now })
      .where('queue', '=', queue)
      .where('status', '=', 'running')
      .where('locked_until', '<', now)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .returningAll()
      .execute();
  }

  async nextRunAt(queues: readonly string[]): Promise<number | undefined> {
    if (queues.length === 0) return undefined;
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('next'))
      .where('queue', 'in', queues)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.next == null ? undefined : Number(row.next);
  }

  async prune(doneBefore: number, failedBefore: number): Promise<number> {
    const result = await this.db
      .deleteFrom('jobs')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'done'), eb('updated_at', '<', doneBefore)]),
          eb.and([eb('status', '=', 'failed'), eb('updated_at', '<', failedBefore)]),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async get(id: string): Promise<JobRow | undefined> {
    return await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByDedupeKey(key: string): Promise<JobRow | undefined> {
    return await this.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', key).executeTakeFirst();
  }

  async list(filter: { queue?: string; status?: JobRow['status'] } = {}): Promise<JobRow[]> {
    let query = this.db.selectFrom('jobs').selectAll().orderBy('created_at').orderBy('id');
    if (filter.queue) query = query.where('queue', '=', filter.queue);
    if (filter.status) query = query.where('status', '=', filter.status);
    return await query.execute();
  }
}
