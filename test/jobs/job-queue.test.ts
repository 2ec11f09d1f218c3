import { afterEach, beforeEach, expect, it } from 'vitest';
import { JobQueue, type Job } from '../../src/jobs/job-queue.ts';
import { PermanentFailure, RetryLater } from '../../src/jobs/job-errors.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { groupCommitFor, JobStore } from '../../src/store/sql/job.store.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describeEachStore('JobQueue', (dialect) => {
  let t: TestStore;
  let jobs: JobStore;
  const queues: JobQueue[] = [];
  const extraStores: Store[] = [];

  function queueOn(store: Store, options: Partial<ConstructorParameters<typeof JobQueue>[0]> = {}): JobQueue {
    const q = new JobQueue({
      store: new JobStore(store.db, { skipLocked: store.capabilities.skipLocked }),
      pollIntervalMs: 20,
      ...options,
    });
    queues.push(q);
    return q;
  }

  /** A second connection (pool) to the same database: what a second sparsam instance would open. */
  async function secondStore(): Promise<Store> {
    const s = await openStore({
      dataDir: t.dataDir,
      databaseUrl: t.env.SPARSAM_DATABASE_URL,
      keystoreUrl: t.env.SPARSAM_KEYSTORE_URL,
    });
    extraStores.push(s);
    return s;
  }

  beforeEach(async () => {
    t = await openTestStore(dialect);
    jobs = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop();
    for (const s of extraStores.splice(0)) await s.close();
    await t.cleanup();
  });

  it('runs enqueued jobs once with their payload and marks them done', async () => {
    const q = queueOn(t.store);
    const seen: Job[] = [];
    q.register('work', async (job) => {
      seen.push(job);
    });
    const ids = [
      await q.enqueue('work', { messageId: 'm1' }),
      await q.enqueue('work', { messageId: 'm2', flag: true, n: 3, none: null }),
    ];
    await q.drain();
    expect(seen.map((j) => j.payload)).toEqual([
      { messageId: 'm1' },
      { messageId: 'm2', flag: true, n: 3, none: null },
    ]);
    expect(seen.every((j) => j.attempts === 1)).toBe(true);
    for (const id of ids) expect((await jobs.get(id))?.status).toBe('done');
    await q.drain();
    expect(seen).toHaveLength(2);
  });

  it('drain waits for a job whose insert is still on its way (an event listener enqueues without waiting)', async () => {
    const store = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
    // A slow database answer: the insert lands after drain() has looked for due jobs once.
    const insert = store.insert.bind(store);
    store.insert = async (...args) => {
      await sleep(150);
      return insert(...args);
    };
    const q = new JobQueue({ store, pollIntervalMs: 20 });
    queues.push(q);
    const seen: string[] = [];
    q.register('notify', async (job) => {
      seen.push(String(job.payload.kind));
    });
    void q.enqueue('notify', { kind: 'message.new' });
    await q.drain();
    expect(seen).toEqual(['message.new']);
  });

  it('jobs enqueued in one turn are inserted together and keep their dedupe keys', async () => {
    const store = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
    let statements = 0;
    const insertMany = store.insertMany.bind(store);
    store.insertMany = (rows) => {
      statements++;
      return insertMany(rows);
    };
    const q = new JobQueue({ store, pollIntervalMs: 20 });
    queues.push(q);
    const seen: unknown[] = [];
    q.register('notify', async (job) => {
      seen.push(job.payload.n);
    });
    const first = await q.enqueue('notify', { n: 0 }, { dedupeKey: 'notify:a' });
    const ids = await Promise.all([
      q.enqueue('notify', { n: 1 }, { dedupeKey: 'notify:a' }),
      q.enqueue('notify', { n: 2 }, { dedupeKey: 'notify:b' }),
      q.enqueue('notify', { n: 3 }, { dedupeKey: 'notify:b' }),
      q.enqueue('notify', { n: 4 }),
    ]);
    expect(statements).toBe(1);
    expect(ids[0]).toBe(first);
    expect(ids[2]).toBe(ids[1]);
    expect(new Set(ids).size).toBe(3);
    await q.drain();
    expect(seen.sort()).toEqual([0, 2, 4]);
  });

  it('leaves jobs of other queues and jobs not yet due alone', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock });
    let runs = 0;
    q.register('work', async () => {
      runs += 1;
    });
    await q.enqueue('other', { x: 1 });
    const later = await q.enqueue('work', { x: 2 }, { runAt: clock.now().getTime() + 60_000 });
    await q.drain();
    expect(runs).toBe(0);
    clock.advance(60_000);
    await q.drain();
    expect(runs).toBe(1);
    expect((await jobs.get(later))?.status).toBe('done');
    expect((await jobs.list({ queue: 'other' }))[0]?.status).toBe('pending');
  });

  it('a dedupe key makes the second enqueue a no-op that returns the first id', async () => {
    const q = queueOn(t.store);
    let runs = 0;
    q.register('work', async () => {
      runs += 1;
    });
    const first = await q.enqueue('work', { messageId: 'm1' }, { dedupeKey: 'send:m1' });
    const second = await q.enqueue('work', { messageId: 'm1' }, { dedupeKey: 'send:m1' });
    expect(second).toBe(first);
    await q.drain();
    // Still a no-op after the job is done: the done row keeps its key until it is pruned.
    expect(await q.enqueue('work', { messageId: 'm1' }, { dedupeKey: 'send:m1' })).toBe(first);
    await q.drain();
    expect(runs).toBe(1);
    expect(await jobs.list({ queue: 'work' })).toHaveLength(1);
  });

  it("enqueues inside the caller's transaction: rolled back means no job", async () => {
    const q = queueOn(t.store);
    await expect(
      t.store.db.transaction().execute(async (tx) => {
        await q.enqueue('work', { messageId: 'gone' }, { db: tx });
        throw new Error('caller fails after enqueue');
      }),
    ).rejects.toThrow('caller fails');
    expect(await jobs.list()).toHaveLength(0);
    await t.store.db.transaction().execute(async (tx) => {
      await q.enqueue('work', { messageId: 'kept' }, { db: tx });
    });
    expect((await jobs.list()).map((j) => JSON.parse(j.payload))).toEqual([{ messageId: 'kept' }]);
  });

  it("jobs enqueued at once in the caller's transaction share one statement and commit or roll back with it", async () => {
    const store = new JobStore(t.store.db, { skipLocked: t.store.capabilities.skipLocked });
    const statements: number[] = [];
    const insertMany = store.insertMany.bind(store);
    store.insertMany = (rows, db) => {
      statements.push(rows.length);
      return insertMany(rows, db);
    };
    const q = new JobQueue({ store, pollIntervalMs: 20 });
    queues.push(q);
    const burst = (tx: Kysely<Database>, tag: string) =>
      Promise.all([
        q.enqueue('work', { n: `${tag}1` }, { db: tx, dedupeKey: `work:${tag}` }),
        q.enqueue('work', { n: `${tag}2` }, { db: tx, dedupeKey: `work:${tag}` }),
        q.enqueue('work', { n: `${tag}3` }, { db: tx }),
      ]);
    await expect(
      t.store.db.transaction().execute(async (tx) => {
        await burst(tx, 'gone');
        throw new Error('caller fails after enqueue');
      }),
    ).rejects.toThrow('caller fails');
    expect(await jobs.list()).toHaveLength(0);
    const ids = await t.store.db.transaction().execute((tx) => burst(tx, 'kept'));
    expect(statements).toEqual([3, 3]);
    expect(ids[1]).toBe(ids[0]);
    const kept = await jobs.list();
    expect(kept.map((j) => JSON.parse(j.payload).n).sort()).toEqual(['kept1', 'kept3']);
    expect(kept.map((j) => j.id).sort()).toEqual([ids[0], ids[2]].sort());
  });
  it('two instances on one database never run the same job', async () => {
    const other = await secondStore();
    const a = queueOn(t.store, { instanceId: 'a' });
    const b = queueOn(other, { instanceId: 'b' });
    const runs = new Map<string, string[]>();
    const handler = (instance: string) => async (job: Job) => {
      runs.set(job.id, [...(runs.get(job.id) ?? []), instance]);
      await sleep(2);
    };
    a.register('work', handler('a'), { concurrency: 4 });
    b.register('work', handler('b'), { concurrency: 4 });
    const total = 120;
    for (let i = 0; i < total; i += 1) await a.enqueue('work', { n: i });
    a.start();
    b.start();
    await waitFor(async () => (await jobs.list({ status: 'done' })).length === total, 20_000);
    expect(runs.size).toBe(total);
    const doubles = [...runs.values()].filter((by) => by.length > 1);
    expect(doubles).toEqual([]);
    const byB = [...runs.values()].filter((by) => by[0] === 'b').length;
    // Both instances took part (the test is about concurrent claiming, not one instance doing everything).
    expect(byB).toBeGreaterThan(0);
    expect(byB).toBeLessThan(total);
  });

  it("reclaims the job of a crashed worker once its lease has run out, and ignores the dead worker's late outcome", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock, leaseMs: 30_000, instanceId: 'survivor' });
    const runs: Job[] = [];
    q.register('work', async (job) => {
      runs.push(job);
    });
    const id = await q.enqueue('work', { messageId: 'm1' }, { maxAttempts: 3 });
    // The "crashed" worker claimed it and never finished.
    const now = clock.now().getTime();
    const [claimed] = await jobs.claim('work', 1, 'crashed', now, now + 30_000);
    expect(claimed?.id).toBe(id);

    clock.advance(29_000);
    await q.drain();
    expect(runs).toHaveLength(0);

    clock.advance(2_000);
    await q.drain();
    expect(runs.map((j) => j.attempts)).toEqual([2]);
    expect(await jobs.complete(id, 'crashed', clock.now().getTime())).toBe(false);
    expect((await jobs.get(id))?.status).toBe('done');
  });

  it('fails a job whose worker died on its last attempt and tells the handler owner', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock });
    const failed: string[] = [];
    q.register('work', async () => undefined, {
      onFailed: async (job, reason) => {
        failed.push(`${String(job.payload.messageId)}: ${reason}`);
      },
    });
    const id = await q.enqueue('work', { messageId: 'm1' }, { maxAttempts: 1 });
    const now = clock.now().getTime();
    await jobs.claim('work', 1, 'crashed', now, now + 1_000);
    clock.advance(5_000);
    await q.drain();
    expect((await jobs.get(id))?.status).toBe('running');
    await q.maintain();
    expect((await jobs.get(id))?.status).toBe('failed');
    expect(failed).toEqual(['m1: worker stopped during the last attempt']);
  });

  it('retries with growing, jittered backoff, then marks the job failed with the last error', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock, backoff: { baseMs: 1_000, maxMs: 60_000 } });
    const attempts: number[] = [];
    const failed: string[] = [];
    q.register(
      'work',
      async (job) => {
        attempts.push(job.attempts);
        throw new Error(`provider down (attempt ${job.attempts})`);
      },
      { onFailed: async (_job, reason) => void failed.push(reason) },
    );
    const id = await q.enqueue('work', { messageId: 'm1' }, { maxAttempts: 3 });
    const delays: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      const before = clock.now().getTime();
      await q.drain();
      const row = await jobs.get(id);
      expect(row?.status).toBe('pending');
      delays.push(row!.run_at - before);
      clock.advance(row!.run_at - before - 1);
      await q.drain();
      expect(attempts).toHaveLength(i + 1);
      clock.advance(1);
    }
    expect(delays[0]).toBeGreaterThanOrEqual(750);
    expect(delays[0]).toBeLessThanOrEqual(1_250);
    expect(delays[1]).toBeGreaterThanOrEqual(1_500);
    expect(delays[1]).toBeLessThanOrEqual(2_500);
    await q.drain();
    expect(attempts).toEqual([1, 2, 3]);
    const row = await jobs.get(id);
    expect(row?.status).toBe('failed');
    expect(row?.last_error).toBe('Error: provider down (attempt 3)');
    expect(failed).toEqual(['Error: provider down (attempt 3)']);
    clock.advance(3_600_000);
    await q.drain();
    expect(attempts).toHaveLength(3);
  });

  it('RetryLater waits exactly as asked; PermanentFailure fails at once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock });
    let calls = 0;
    q.register('later', async () => {
      calls += 1;
      if (calls === 1) throw new RetryLater(7_000, 'provider asked to wait');
    });
    q.register('never', async () => {
      throw new PermanentFailure('recipient unknown');
    });
    const later = await q.enqueue('later', {});
    const never = await q.enqueue('never', {}, { maxAttempts: 5 });
    const start = clock.now().getTime();
    await q.drain();
    expect((await jobs.get(later))?.run_at).toBe(start + 7_000);
    expect((await jobs.get(later))?.last_error).toBe('provider asked to wait');
    expect(await jobs.get(never)).toMatchObject({ status: 'failed', attempts: 1, last_error: 'recipient unknown' });
    clock.advance(7_000);
    await q.drain();
    expect(calls).toBe(2);
    expect((await jobs.get(later))?.status).toBe('done');
  });

  it('a running worker picks up a local enqueue at once, not at the next poll', async () => {
    const q = queueOn(t.store, { pollIntervalMs: 5_000 });
    let doneAt = 0;
    q.register('work', async () => {
      doneAt = Date.now();
    });
    q.start();
    await sleep(50);
    const enqueuedAt = Date.now();
    await q.enqueue('work', {});
    await waitFor(() => doneAt > 0, 4_000);
    expect(doneAt - enqueuedAt).toBeLessThan(1_000);
  });

  it('stop() waits for running handlers and records their outcome', async () => {
    const q = queueOn(t.store);
    let finished = false;
    q.register('work', async () => {
      await sleep(300);
      finished = true;
    });
    const id = await q.enqueue('work', {});
    q.start();
    await waitFor(async () => (await jobs.get(id))?.status === 'running');
    await q.stop();
    expect(finished).toBe(true);
    expect((await jobs.get(id))?.status).toBe('done');
  });

  it('keeps extending the lease of a long handler so that no other instance takes it over', async () => {
    const other = await secondStore();
    // The handler runs four leases long; the lease (renewed every third of it) leaves 400 ms for a stalled event loop
    // or a slow database on a loaded machine before it would lapse.
    const a = queueOn(t.store, { instanceId: 'a', leaseMs: 600 });
    const b = queueOn(other, { instanceId: 'b', leaseMs: 600 });
    const runs: string[] = [];
    const handler = (name: string) => async () => {
      runs.push(name);
      await sleep(2_400);
    };
    a.register('work', handler('a'));
    const id = await a.enqueue('work', {});
    a.start();
    await waitFor(() => runs.length === 1);
    b.register('work', handler('b'));
    b.start();
    await waitFor(async () => (await jobs.get(id))?.status === 'done', 10_000);
    expect(runs).toEqual(['a']);
  });

  it('schedules a periodic job once per slot even with two instances', async () => {
    const other = await secondStore();
    const a = queueOn(t.store, { instanceId: 'a' });
    const b = queueOn(other, { instanceId: 'b' });
    const slots: number[] = [];
    const handler = async (job: Job) => void slots.push(Number(job.payload.slot));
    for (const q of [a, b]) {
      q.register('sweep', handler);
      q.every('sweep', 100);
      q.start();
    }
    await sleep(1_050);
    await a.stop();
    await b.stop();
    expect(slots.length).toBeGreaterThanOrEqual(6);
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('prunes done jobs after the retention and failed jobs after theirs', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const q = queueOn(t.store, { clock, doneRetentionMs: 60_000, failedRetentionMs: 600_000 });
    q.register('ok', async () => undefined);
    q.register('bad', async () => {
      throw new PermanentFailure('no');
    });
    const ok = await q.enqueue('ok', {}, { dedupeKey: 'k' });
    const bad = await q.enqueue('bad', {});
    await q.drain();
    clock.advance(61_000);
    await q.maintain();
    expect(await jobs.get(ok)).toBeUndefined();
    expect((await jobs.get(bad))?.status).toBe('failed');
    // The key is free again once its job is pruned.
    expect(await q.enqueue('ok', {}, { dedupeKey: 'k' })).not.toBe(ok);
    clock.advance(600_000);
    await q.maintain();
    expect(await jobs.get(bad)).toBeUndefined();
  });
  it('group commit: concurrent outcome writes commit together, and a failing write fails alone', async () => {
    const q = queueOn(t.store);
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await q.enqueue('work', { n: i }));
    const group = groupCommitFor(t.store.db);
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        group.run<unknown>((db) =>
          i === 7
            ? db
                .insertInto('jobs')
                .values({ ...rowLike(id), id: ids[0]! })
                .execute()
            : db.updateTable('jobs').set({ status: 'done' }).where('id', '=', id).execute(),
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(ids.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    const rows = await jobs.list();
    expect(
      rows
        .filter((r) => r.status === 'done')
        .map((r) => r.id)
        .sort(),
    ).toEqual(ids.filter((_, i) => i !== 7).sort());
    expect((await jobs.get(ids[7]!))?.status).toBe('pending');
  });
});

function rowLike(id: string) {
  return {
    id,
    queue: 'work',
    payload: '{}',
    dedupe_key: null,
    status: 'pending' as const,
    run_at: 0,
    attempts: 0,
    max_attempts: 1,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: 0,
    updated_at: 0,
  };
}
