import type { Kysely } from 'kysely';
import type { Database, JobRow } from '../database.ts';

/** A job to insert; `payload` is JSON of ids only. */
export interface NewJobRow {
  id: string;
  queue: string;
  payload: string;
  dedupeKey: string | null;
  runAt: number;
  maxAttempts: number;
  now: number;
}

/**
 * The durable job table behind src/jobs/job-queue.ts. Every state change after a claim names the owner
 * (`locked_by`): a worker whose lease was taken over by another instance cannot overwrite the new owner's outcome.
 */
export interface JobPort {
  /**
   * Inserts a job, or does nothing when a job with the same dedupe key exists (whatever its status). Returns the id
   * of the job that holds the key. With `db` (a caller's transaction) the job commits or rolls back with it.
   */
  insert(job: NewJobRow, db?: Kysely<Database>): Promise<{ id: string; inserted: boolean }>;
  /**
   * {@link insert} for several jobs in one statement (its own transaction, or the caller's `db`): the answer for each
   * job in the given order.
   * Two jobs with one dedupe key: the first is inserted, the second answers with its id.
   */
  insertMany(jobs: readonly NewJobRow[], db?: Kysely<Database>): Promise<{ id: string; inserted: boolean }[]>;
  /**
   * Inserts jobs in the caller's transaction `db` without an answer: a job whose dedupe key is taken adds nothing.
   * Resolves once the statement is sent; on PostgreSQL it leaves with the transaction's next statement or its COMMIT,
   * and a failure fails the transaction.
   */
  insertAhead(jobs: readonly NewJobRow[], db: Kysely<Database>): Promise<void>;
  /**
   * Atomically takes up to `limit` jobs of `queue` that are due (pending with run_at <= now) or whose lease expired
   * (running with locked_until < now, a crashed worker), sets them running under `owner` until `leaseUntil` and
   * counts the attempt. Never hands one job to two owners: FOR UPDATE SKIP LOCKED on PostgreSQL, a single
   * UPDATE … RETURNING on SQLite (one writer at a time).
   */
  claim(queue: string, limit: number, owner: string, now: number, leaseUntil: number): Promise<JobRow[]>;
  /** Extends the leases of the owner's running jobs; returns how many are still held. */
  extendLeases(ids: readonly string[], owner: string, leaseUntil: number, now: number): Promise<number>;
  /** Marks the job done; false when the owner no longer holds it. */
  complete(id: string, owner: string, now: number): Promise<boolean>;
  /** Marks several jobs done in one statement; returns the ids the owner still held. */
  completeMany(ids: readonly string[], owner: string, now: number): Promise<string[]>;
  /** Puts the job back to pending, due at `runAt`, remembering the (content-free) error. */
  reschedule(id: string, owner: string, runAt: number, lastError: string, now: number): Promise<boolean>;
  /**
   * Puts the job back to pending without counting the run that is ending as an attempt (JobQueue's Defer). Due at
   * `runAt`, or at `now` when `wake()` reached it while it ran (its run_at moved past `claimedRunAt`, the run_at the
   * claim returned). Returns the new run_at, or undefined when the owner no longer holds the job.
   */
  defer(id: string, owner: string, runAt: number, claimedRunAt: number, now: number): Promise<number | undefined>;
  /**
   * Brings the job with this dedupe key forward: a pending job becomes due now; a running one is marked (run_at moved
   * past its claimed value) so that a deferral of this run is due at once. Returns how many jobs changed (0 or 1).
   */
  wake(dedupeKey: string, now: number): Promise<number>;
  /** Marks the job failed for good. */
  fail(id: string, owner: string | null, lastError: string, now: number): Promise<boolean>;
  /**
   * Jobs whose lease expired with no attempt left (their worker died on the last try): marks them failed and returns
   * them, so that the queue can tell their handler's `onFailed`.
   */
  failAbandoned(queue: string, now: number, lastError: string): Promise<JobRow[]>;
  /** Earliest run_at of a pending job in these queues (for the worker's next wake-up), or undefined. */
  nextRunAt(queues: readonly string[]): Promise<number | undefined>;
  /** Deletes done jobs last changed before `doneBefore` and failed jobs before `failedBefore`; returns the count. */
  prune(doneBefore: number, failedBefore: number): Promise<number>;
  get(id: string): Promise<JobRow | undefined>;
  findByDedupeKey(key: string): Promise<JobRow | undefined>;
  list(filter?: { queue?: string; status?: JobRow['status'] }): Promise<JobRow[]>;
}
