import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers';
import type { Kysely } from 'kysely';
import { systemClock, type Clock, DAY_MS } from '../shared/clock.ts';
import { newId, newTimeOrderedId } from '../shared/ids.ts';
import type { Logger } from '../shared/logger.ts';
import type { Database, JobRow } from '../store/database.ts';
import type { JobPort, NewJobRow } from '../store/ports/job.port.ts';
import { Defer, PermanentFailure, RetryLater } from './job-errors.ts';

/** Job payloads hold ids and flags only, never personal data: they sit in plain columns and in logs. */
export type JobPayload = Record<string, string | number | boolean | null>;

/** What a handler receives. `attempts` counts this run (1 on the first run). */
export interface Job<P extends JobPayload = JobPayload> {
  id: string;
  queue: string;
  payload: P;
  attempts: number;
  maxAttempts: number;
}

export type JobHandler<P extends JobPayload = JobPayload> = (job: Job<P>) => Promise<void>;

export interface RegisterOptions<P extends JobPayload = JobPayload> {
  /** Jobs of this queue run at once in this process (default 1). */
  concurrency?: number;
  /**
   * Called once when a job of this queue is marked failed for good: a PermanentFailure, the retry budget spent, or
   * a worker that died on the last attempt. Lets the owner of the work show the failure where users look.
   */
  onFailed?: (job: Job<P>, reason: string) => Promise<void>;
}

export interface EnqueueOptions {
  /** Epoch ms when the job becomes due (default now). */
  runAt?: number;
  /** Unique across all jobs: enqueueing a second job with the same key is a no-op that returns the first job's id. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** A caller's transaction: the job commits or rolls back with the caller's writes. */
  db?: Kysely<Database>;
}

export interface JobQueueOptions {
  store: JobPort;
  clock?: Clock;
  logger?: Logger;
  /** Written to jobs.locked_by; unique per process (default hostname:pid:random). */
  instanceId?: string;
  /** How often an idle worker looks for due jobs (default 250 ms). Local enqueues wake it at once. */
  pollIntervalMs?: number;
  /** A claimed job is this worker's for this long; extended every third of it while the handler runs (30 s). */
  leaseMs?: number;
  /** Exponential backoff for failed attempts: base * 2^(attempt-1), capped, with ±25 % jitter (1 s, 5 min). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Attempts when enqueue does not say (default 8). */
  defaultMaxAttempts?: number;
  /** Done jobs are kept this long (their dedupe key blocks a re-enqueue meanwhile), then deleted (24 h). */
  doneRetentionMs?: number;
  /** Failed jobs are kept this long for diagnosis, then deleted (7 days). They hold ids and error codes only. */
  failedRetentionMs?: number;
  /** How often done/failed jobs are pruned and abandoned jobs are failed (60 s). */
  maintenanceIntervalMs?: number;
  /** After a job finishes, wait this long before claiming more, so that freed slots are filled in one claim (5 ms). */
  claimBatchDelayMs?: number;
  /** Finished jobs are marked done together within this window (20 ms): one commit for many jobs. */
  completionFlushMs?: number;
}

interface QueueState {
  name: string;
  handler: JobHandler;
  concurrency: number;
  running: number;
  onFailed: ((job: Job, reason: string) => Promise<void>) | undefined;
}

interface Periodic {
  queue: string;
  intervalMs: number;
  payload: JobPayload;
  maxAttempts: number;
  timer: NodeJS.Timeout | undefined;
}

/** The delay before attempt `attempts + 1`: exponential with ±25 % jitter, so that retries of many jobs spread out. */
export function backoffDelay(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(0, Math.round(exp * (0.75 + random() * 0.5)));
}

/** A content-free description of an error for jobs.last_error: its class, code and (content-free) message. */
export function describeJobError(error: unknown): string {
  if (error instanceof PermanentFailure || error instanceof RetryLater || error instanceof Defer) {
    return error.reason.slice(0, 300);
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const codePart = typeof code === 'string' || typeof code === 'number' ? ` (${code})` : '';
    return `${error.name}${codePart}: ${error.message}`.slice(0, 300);
  }
  return 'non-error thrown';
}

/** A job waiting in #insertTogether for the statement it shares with the others. */
interface WaitingInsert {
  row: NewJobRow;
  resolve: (answer: { id: string; inserted: boolean }) => void;
  reject: (error: unknown) => void;
}

/**
 * A durable job queue over the `jobs` table, shared by every sparsam instance that uses the same database.
 *
 * - enqueue() inserts a row (optionally in the caller's transaction, optionally deduplicated by key);
 * - a worker loop polls each registered queue (and is woken at once by local enqueues and finished jobs), claims due
 *   jobs with a lease (`locked_by` = this instance, `locked_until`), runs the handler with the queue's concurrency and
 *   extends the lease while it runs;
 * - a job whose lease runs out (its worker crashed) is claimed again by any instance;
 * - Defer(ms) reschedules without counting the run as an attempt (wake(dedupeKey) brings it forward); RetryLater(ms)
 *   reschedules, PermanentFailure fails at once, any other error retries with exponential backoff and
 *   jitter until `max_attempts`, then the job is 'failed' with a content-free `last_error`;
 * - done jobs are kept for a while (their dedupe key still counts) and then pruned.
 *
 * Delivery is at least once: a handler must be idempotent or guard its side effect itself (outbound-send does).
 * No library fits: pg-boss and graphile-worker are PostgreSQL-only, BullMQ needs Redis; sparsam must run the same
 * queue on embedded SQLite.
 */
export class JobQueue {
  readonly instanceId: string;
  readonly #store: JobPort;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #defaultMaxAttempts: number;
  readonly #doneRetentionMs: number;
  readonly #failedRetentionMs: number;
  readonly #maintenanceIntervalMs: number;
  readonly #claimBatchDelayMs: number;
  readonly #completionFlushMs: number;

  readonly #queues = new Map<string, QueueState>();
  /** Inserts of enqueue() calls that have not answered yet. */
  readonly #inserting = new Set<Promise<unknown>>();
  /** Jobs waiting to be inserted together, by the caller's transaction (undefined: none; see #insertTogether). */
  readonly #toInsert = new Map<Kysely<Database> | undefined, WaitingInsert[]>();
  readonly #active = new Map<string, Promise<void>>();
  readonly #periodics: Periodic[] = [];
  #started = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollDueAt = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #maintenance: NodeJS.Timeout | undefined;
  #filling: Promise<number> | undefined;
  readonly #completions: { id: string; resolve: (held: boolean) => void; reject: (error: unknown) => void }[] = [];
  #completionTimer: NodeJS.Timeout | undefined;
  #fillAgain = false;

  constructor(options: JobQueueOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#backoffBaseMs = options.backoff?.baseMs ?? 1_000;
    this.#backoffMaxMs = options.backoff?.maxMs ?? 5 * 60_000;
    this.#defaultMaxAttempts = options.defaultMaxAttempts ?? 8;
    this.#doneRetentionMs = options.doneRetentionMs ?? DAY_MS;
    this.#failedRetentionMs = options.failedRetentionMs ?? 7 * DAY_MS;
    this.#maintenanceIntervalMs = options.maintenanceIntervalMs ?? 60_000;
    this.#claimBatchDelayMs = options.claimBatchDelayMs ?? 5;
    this.#completionFlushMs = options.completionFlushMs ?? 20;
    for (const [name, value] of Object.entries({
      pollIntervalMs: this.#pollIntervalMs,
      leaseMs: this.#leaseMs,
      defaultMaxAttempts: this.#defaultMaxAttempts,
    })) {
      if (!Number.isFinite(value) || value <= 0)
        throw new Error(`JobQueue: ${name} must be a positive number, e.g. 250`);
    }
  }

  /**
   * Adds a job and returns its id (or, when `dedupeKey` is taken, the id of the job holding it; nothing is added).
   * Wakes this instance's worker; other instances find the job at their next poll.
   */
  async enqueue(queue: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<string> {
    const now = this.#now();
    const maxAttempts = options.maxAttempts ?? this.#defaultMaxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`JobQueue.enqueue: maxAttempts must be a whole number of at least 1, e.g. 8`);
    }
    const row = newJobRow(queue, payload, options.dedupeKey, options.runAt ?? now, maxAttempts, now);
    const insert = this.#insertTogether(row, options.db);
    // drain() waits for inserts still on their way (an event listener that enqueues without being awaited).
    if (!options.db) {
      this.#inserting.add(insert);
      void insert.then(
        () => this.#inserting.delete(insert),
        () => this.#inserting.delete(insert),
      );
    }
    const { id, inserted } = await insert;
    if (inserted && this.#started && this.#queues.has(queue)) {
      this.#wake();
      // Inside a caller's transaction the row is visible only after its commit: look again shortly.
      if (options.db) setTimeout(() => this.#wake(), 50).unref();
    }
    return id;
  }

  /**
   * Adds jobs in the caller's transaction `db` with one statement, without waiting for its answer (no ids come back;
   * a job whose dedupe key is taken adds nothing): on PostgreSQL the insert leaves with the transaction's next
   * statement or its COMMIT. For jobs the caller needs only to exist with its rows, such as the dispatch jobs of a
   * webhook group's events.
   */
  async enqueueMany(
    jobs: readonly { queue: string; payload: JobPayload; dedupeKey?: string }[],
    options: { db: Kysely<Database> },
  ): Promise<void> {
    if (jobs.length === 0) return;
    const now = this.#now();
    await this.#store.insertAhead(
      jobs.map((job) => newJobRow(job.queue, job.payload, job.dedupeKey, now, this.#defaultMaxAttempts, now)),
      options.db,
    );
    if (this.#started && jobs.some((job) => this.#queues.has(job.queue))) {
      // Visible only after the caller's commit: look shortly.
      setTimeout(() => this.#wake(), 50).unref();
    }
  }

  /**
   * Inserts a job together with the others enqueued alongside it, with one statement instead of one round trip each:
   * - outside a transaction, those enqueued in the same turn of the event loop (the jobs a group of webhooks causes,
   *   a notification per message, cost one statement, not one commit each);
   * - in a caller's transaction (`db`), those enqueued in it before the caller next waits (the dispatch jobs of a
   *   webhook group's events, enqueued at once). The transaction waits for the answer, so nothing commits without
   *   its jobs; the flush is a microtask, so the transaction does not yield to other work on SQLite.
   */
  #insertTogether(row: NewJobRow, db: Kysely<Database> | undefined): Promise<{ id: string; inserted: boolean }> {
    return new Promise((resolve, reject) => {
      const waiting = this.#toInsert.get(db);
      if (waiting) return void waiting.push({ row, resolve, reject });
      this.#toInsert.set(db, [{ row, resolve, reject }]);
      const flush = () => {
        const all = this.#toInsert.get(db)!;
        this.#toInsert.delete(db);
        void this.#insertWaiting(all, db);
      };
      if (db) queueMicrotask(flush);
      else nextTurn(flush);
    });
  }

  async #insertWaiting(waiting: readonly WaitingInsert[], db: Kysely<Database> | undefined): Promise<void> {
    try {
      const answers =
        waiting.length === 1
          ? [await this.#store.insert(waiting[0]!.row, db)]
          : await this.#store.insertMany(
              waiting.map((w) => w.row),
              db,
            );
      waiting.forEach((w, i) => w.resolve(answers[i]!));
    } catch (error) {
      for (const w of waiting) w.reject(error);
    }
  }

  /**
   * Makes the job with this dedupe key due now (a job waiting in Defer for something that just happened). A job that
   * is running at this moment and then defers is due at once, so a wake racing with a deferral is not lost. No-op
   * when no pending or running job holds the key.
   */
  async wake(dedupeKey: string): Promise<void> {
    const woken = await this.#store.wake(dedupeKey, this.#now());
    if (woken > 0) this.#wake();
  }

  /** Registers the handler of `queue`. Register before start(); one handler per queue. */
  register<P extends JobPayload = JobPayload>(
    queue: string,
    handler: JobHandler<P>,
    options: RegisterOptions<P> = {},
  ): void {
    if (this.#queues.has(queue)) throw new Error(`JobQueue.register: queue "${queue}" already has a handler`);
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`JobQueue.register: concurrency of "${queue}" must be a whole number of at least 1, e.g. 4`);
    }
    this.#queues.set(queue, {
      name: queue,
      handler: handler as JobHandler,
      concurrency,
      running: 0,
      onFailed: options.onFailed as QueueState['onFailed'],
    });
    if (this.#started) this.#wake();
  }

  /**
   * Enqueues `queue` once per time slot of `intervalMs` (slot = floor(now / intervalMs)), with the dedupe key
   * `<queue>@<intervalMs>:<slot>`: every instance schedules it, exactly one job per slot exists, so exactly one
   * instance runs it. The payload gets `slot` added. Starts with start(), stops with stop().
   */
  every(queue: string, intervalMs: number, payload: JobPayload = {}, options: { maxAttempts?: number } = {}): void {
    if (!Number.isFinite(intervalMs) || intervalMs < 10) {
      throw new Error(`JobQueue.every: intervalMs of "${queue}" must be at least 10, e.g. 60000`);
    }
    const periodic: Periodic = { queue, intervalMs, payload, maxAttempts: options.maxAttempts ?? 1, timer: undefined };
    this.#periodics.push(periodic);
    if (this.#started) this.#schedulePeriodic(periodic);
  }

  /** Starts the worker loop, lease heartbeats, maintenance and periodic schedules. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#wake();
    this.#maintenance = setInterval(() => void this.#maintain(), this.#maintenanceIntervalMs);
    this.#maintenance.unref();
    for (const periodic of this.#periodics) this.#schedulePeriodic(periodic);
  }

  /** Stops taking new jobs and waits for the running handlers to finish (their outcome is recorded). */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#pollTimer);
    clearInterval(this.#maintenance);
    for (const periodic of this.#periodics) clearTimeout(periodic.timer);
    await this.#filling?.catch(() => undefined);
    while (this.#active.size > 0) await Promise.allSettled([...this.#active.values()]);
  }

  /**
   * Runs due jobs of the registered queues until none is due and none is running (for tests and one-shot CLI
   * commands). Jobs rescheduled into the future are left for later.
   */
  async drain(): Promise<void> {
    for (;;) {
      while (this.#inserting.size > 0) await Promise.allSettled([...this.#inserting]);
      const claimed = await this.#fill();
      if (claimed === 0 && this.#active.size === 0 && this.#inserting.size === 0) return;
      if (this.#active.size > 0) await Promise.race([...this.#active.values()]);
    }
  }

  /** Prunes old done/failed jobs and fails jobs abandoned on their last attempt. Runs every maintenance interval. */
  async maintain(): Promise<void> {
    const now = this.#now();
    await this.#store.prune(now - this.#doneRetentionMs, now - this.#failedRetentionMs);
    for (const state of this.#queues.values()) {
      const abandoned = await this.#store.failAbandoned(state.name, now, 'worker stopped during the last attempt');
      for (const row of abandoned) await this.#notifyFailed(state, this.#toJob(row), row.last_error ?? 'abandoned');
    }
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  async #maintain(): Promise<void> {
    try {
      await this.maintain();
    } catch (error) {
      this.#logger?.warn({ err: describeJobError(error) }, 'job maintenance failed');
    }
  }

  /** Runs the worker loop in `delayMs`, unless it is due sooner anyway. */
  #wake(delayMs = 0): void {
    if (!this.#started) return;
    const at = Date.now() + delayMs;
    if (this.#pollTimer !== undefined && this.#pollDueAt <= at) return;
    this.#setPollTimer(delayMs);
  }

  #setPollTimer(delayMs: number): void {
    clearTimeout(this.#pollTimer);
    this.#pollDueAt = Date.now() + delayMs;
    this.#pollTimer = setTimeout(() => void this.#tick(), delayMs);
    this.#pollTimer.unref();
  }

  async #tick(): Promise<void> {
    this.#pollTimer = undefined;
    if (!this.#started) return;
    let claimed = 0;
    try {
      claimed = await this.#fill();
    } catch (error) {
      this.#logger?.warn({ err: describeJobError(error) }, 'claiming jobs failed; retrying at the next poll');
    }
    if (!this.#started) return;
    // Jobs were due: look again at once; otherwise wait for the poll interval or a wake-up.
    this.#wake(claimed > 0 ? 0 : this.#pollIntervalMs);
  }

  /** Claims as many due jobs as there are free slots and starts them; serialised, so slots are never over-filled. */
  #fill(): Promise<number> {
    if (this.#filling) {
      this.#fillAgain = true;
      return this.#filling;
    }
    this.#filling = (async () => {
      let total = 0;
      do {
        this.#fillAgain = false;
        for (const state of this.#queues.values()) {
          const free = state.concurrency - state.running;
          if (free <= 0) continue;
          const now = this.#now();
          const rows = await this.#store.claim(state.name, free, this.instanceId, now, now + this.#leaseMs);
          total += rows.length;
          for (const row of rows) this.#run(state, row);
        }
      } while (this.#fillAgain);
      return total;
    })().finally(() => {
      this.#filling = undefined;
    });
    return this.#filling;
  }

  #toJob(row: JobRow): Job {
    let payload: JobPayload = {};
    try {
      payload = JSON.parse(row.payload) as JobPayload;
    } catch {
      // A payload that is not JSON cannot come from enqueue(); the handler sees an empty payload and fails it.
    }
    return { id: row.id, queue: row.queue, payload, attempts: row.attempts, maxAttempts: row.max_attempts };
  }

  #run(state: QueueState, row: JobRow): void {
    state.running += 1;
    const job = this.#toJob(row);
    const run = (async () => {
      try {
        await state.handler(job);
        const held = await this.#completeSoon(job.id);
        if (!held) this.#logger?.warn({ jobId: job.id, queue: job.queue }, 'job finished after its lease was lost');
      } catch (error) {
        await this.#afterError(state, job, error, row.run_at);
      }
    })()
      .catch((error: unknown) => {
        // Recording the outcome failed (store down): the lease runs out and another attempt follows.
        this.#logger?.error(
          { jobId: job.id, queue: job.queue, err: describeJobError(error) },
          'job outcome not recorded',
        );
      })
      .finally(() => {
        state.running -= 1;
        this.#active.delete(job.id);
        if (this.#active.size === 0) {
          clearInterval(this.#heartbeat);
          this.#heartbeat = undefined;
        }
        // Claim again once a quarter of the slots is free (or the queue ran dry), after a few milliseconds of grace:
        // freed slots are then filled by one claim statement instead of one each. The poll covers the rest.
        if (
          state.running === 0 ||
          state.concurrency - state.running >= Math.max(1, Math.floor(state.concurrency / 4))
        ) {
          this.#wake(this.#claimBatchDelayMs);
        }
      });
    this.#active.set(job.id, run);
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => void this.#extendLeases(), Math.max(10, Math.floor(this.#leaseMs / 3)));
      this.#heartbeat.unref();
    }
  }

  /**
   * Marks a finished job done together with the others finishing within `completionFlushMs` (one statement, one
   * commit). Safe because handlers are idempotent: if the process dies before the flush, the job runs again after
   * its lease and finds its work done.
   */
  #completeSoon(id: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#completions.push({ id, resolve, reject });
      if (this.#completions.length >= 64) void this.#flushCompletions();
      else this.#completionTimer ??= setTimeout(() => void this.#flushCompletions(), this.#completionFlushMs);
    });
  }

  async #flushCompletions(): Promise<void> {
    clearTimeout(this.#completionTimer);
    this.#completionTimer = undefined;
    const batch = this.#completions.splice(0);
    if (batch.length === 0) return;
    try {
      const held = new Set(
        await this.#store.completeMany(
          batch.map((c) => c.id),
          this.instanceId,
          this.#now(),
        ),
      );
      for (const c of batch) c.resolve(held.has(c.id));
    } catch (error) {
      for (const c of batch) c.reject(error);
    }
  }

  async #afterError(state: QueueState, job: Job, error: unknown, claimedRunAt: number): Promise<void> {
    const reason = describeJobError(error);
    const now = this.#now();
    if (error instanceof Defer) {
      const runAt = await this.#store.defer(
        job.id,
        this.instanceId,
        now + Math.max(0, Math.round(error.delayMs)),
        claimedRunAt,
        now,
      );
      this.#logger?.debug({ jobId: job.id, queue: job.queue, runAt, reason }, 'job deferred');
      if (runAt !== undefined && runAt <= now) this.#wake(this.#claimBatchDelayMs);
      return;
    }
    const finalAttempt = job.attempts >= job.maxAttempts;
    if (error instanceof PermanentFailure || finalAttempt) {
      const failed = await this.#store.fail(job.id, this.instanceId, reason, now);
      this.#logger?.warn({ jobId: job.id, queue: job.queue, attempts: job.attempts, reason }, 'job failed');
      if (failed) await this.#notifyFailed(state, job, reason);
      return;
    }
    const delay =
      error instanceof RetryLater
        ? Math.max(0, error.delayMs)
        : backoffDelay(job.attempts, this.#backoffBaseMs, this.#backoffMaxMs);
    await this.#store.reschedule(job.id, this.instanceId, now + delay, reason, now);
    this.#logger?.info(
      { jobId: job.id, queue: job.queue, attempts: job.attempts, delay, reason },
      'job retry scheduled',
    );
  }

  async #notifyFailed(state: QueueState, job: Job, reason: string): Promise<void> {
    if (!state.onFailed) return;
    try {
      await state.onFailed(job, reason);
    } catch (error) {
      this.#logger?.error({ jobId: job.id, queue: job.queue, err: describeJobError(error) }, 'onFailed hook failed');
    }
  }

  async #extendLeases(): Promise<void> {
    const ids = [...this.#active.keys()];
    if (ids.length === 0) return;
    try {
      const now = this.#now();
      const held = await this.#store.extendLeases(ids, this.instanceId, now + this.#leaseMs, now);
      if (held < ids.length) this.#logger?.warn({ lost: ids.length - held }, 'job leases lost to another worker');
    } catch (error) {
      this.#logger?.warn({ err: describeJobError(error) }, 'extending job leases failed');
    }
  }

  #schedulePeriodic(periodic: Periodic): void {
    const tick = async (): Promise<void> => {
      const now = this.#now();
      const slot = Math.floor(now / periodic.intervalMs);
      try {
        await this.enqueue(
          periodic.queue,
          { ...periodic.payload, slot },
          {
            dedupeKey: `${periodic.queue}@${periodic.intervalMs}:${slot}`,
            runAt: slot * periodic.intervalMs,
            maxAttempts: periodic.maxAttempts,
          },
        );
      } catch (error) {
        this.#logger?.warn({ queue: periodic.queue, err: describeJobError(error) }, 'scheduling a periodic job failed');
      }
      if (!this.#started) return;
      const wait = (slot + 1) * periodic.intervalMs - this.#now();
      periodic.timer = setTimeout(() => void tick(), Math.max(1, wait));
      periodic.timer.unref();
    };
    void tick();
  }
}

/** A job's row as the store inserts it: a time-ordered id, the payload as JSON, due at `runAt`. */
function newJobRow(
  queue: string,
  payload: JobPayload,
  dedupeKey: string | undefined,
  runAt: number,
  maxAttempts: number,
  now: number,
): NewJobRow {
  return {
    id: newTimeOrderedId(),
    queue,
    payload: JSON.stringify(payload),
    dedupeKey: dedupeKey ?? null,
    runAt,
    maxAttempts,
    now,
  };
}
