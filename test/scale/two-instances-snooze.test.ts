import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamActor } from '../../src/core/inbox/team.service.ts';
import { ALL_INBOXES } from '../../src/core/teams/inbox-scope.ts';
import { closeInstances, configYaml, startInstance, until, type Instance } from '../support/instances.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';
import { seedConversation } from '../teams/teams-support.ts';

/**
 * Snooze with two sparsam instances on one PostgreSQL database: both run the job queue and the sweep, and a
 * snoozed conversation wakes exactly once (one audit entry), whoever gets there first.
 */
describe.runIf(postgresAvailable)('snooze with two instances on one database [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: Instance;
  let b: Instance;
  const actor: TeamActor = { name: 'user:test', userId: 'test', role: 'admin', scope: ALL_INBOXES };

  beforeAll(async () => {
    db = await createPgDatabase();
    const options = {
      yaml: configYaml('http://127.0.0.1:9'),
      masterKey: randomBytes(32).toString('base64'),
      databaseUrl: db.url,
      dataDirPrefix: 'sparsam-snooze-',
      logLevel: 'silent',
    };
    a = await startInstance(options);
    b = await startInstance(options);
  }, 60_000);
  afterAll(async () => {
    await closeInstances(a, b);
    await db?.drop();
  });

  it('wakes each snoozed conversation once although both instances try', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await seedConversation(a.sparsam, 'service', 'wa-main')).id);
    const at = Date.now() + 1500;
    // Snoozed at either instance: the wake-up job is in the shared queue.
    for (const [i, id] of ids.entries()) {
      await (i % 2 === 0 ? a : b).sparsam.snooze.snooze(actor, id, { until: at });
    }
    // Due: the job (run by one of the two) and both sweeps race for the same rows.
    await until('the time has come', () => Date.now() > at + 50, 5000);
    await Promise.all([a.sparsam.snooze.wakeDue(), b.sparsam.snooze.wakeDue(), a.sparsam.snooze.wakeDue()]);
    await until('all awake', async () => {
      const rows = await a.sparsam.store.db
        .selectFrom('conversations')
        .select('snoozed_until')
        .where('id', 'in', ids)
        .execute();
      return rows.every((r) => r.snoozed_until === null);
    });
    // Let the jobs that lost the race finish too.
    await until('no wake-up job left', async () => {
      const open = await a.sparsam.store.db
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', 'conversation-wake')
        .where('status', 'not in', ['done', 'failed'])
        .execute();
      return open.length === 0;
    });
    const woken = await a.sparsam.audit.list({ action: 'conversation.woken' });
    for (const id of ids)
      expect(
        woken.filter((e) => e.target_id === id),
        id,
      ).toHaveLength(1);
    const rows = await a.sparsam.store.db
      .selectFrom('conversations')
      .select(['unread', 'state'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.every((r) => r.state === 'open' && r.unread >= 1)).toBe(true);
  }, 30_000);
});
