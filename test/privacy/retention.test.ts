import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { ErasureService } from '../../src/core/privacy/erasure/erasure.service.ts';
import { openFieldText } from '../../src/core/privacy/keys/field-cipher.ts';
import { parseRetentionPolicy } from '../../src/core/privacy/retention/retention-policy.ts';
import { RetentionSweeper, type EraseCause } from '../../src/core/privacy/retention/retention-sweeper.ts';
import { DAY_MS, HOUR_MS, ManualClock } from '../../src/shared/clock.ts';
import type { ConversationRecord } from '../../src/core/ports/model.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { ErasureStore } from '../../src/store/sql/erasure.store.ts';
import { inboxSettingsOf } from '../../src/store/sql/records.ts';
import { RetentionStore } from '../../src/store/sql/retention.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addConversation, addInbox, directoryFor, keyServiceFor } from './fixtures.ts';

describe('retention policy', () => {
  it('reads the inbox settings and falls back to defaults for missing or broken values', () => {
    expect(parseRetentionPolicy({ retention: { consentTimeoutHours: 2, eraseAfterCloseDays: 0 } })).toEqual({
      consentTimeoutHours: 2,
      autoCloseAfterDays: 14,
      eraseAfterCloseDays: 0,
      auditRetentionDays: 1095,
    });
    expect(parseRetentionPolicy({ retention: { consentTimeoutHours: -1 } }).consentTimeoutHours).toBe(24);
    expect(parseRetentionPolicy({ retention: 'broken' }).consentTimeoutHours).toBe(24);
    // A damaged settings column reads as an empty document, so the defaults apply.
    expect(parseRetentionPolicy(inboxSettingsOf('not json')).consentTimeoutHours).toBe(24);
  });
});

describeEachStore('RetentionSweeper', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  const master = randomBytes(32);
  const t0 = Date.UTC(2026, 2, 1);
  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock(t0);
  });
  afterEach(async () => t.cleanup());

  function services(
    opts: { crashOnce?: boolean; hook?: (c: ConversationRecord, cause: EraseCause) => Promise<void> } = {},
  ) {
    const keys = keyServiceFor(t.store, clock, master);
    const directory = directoryFor(t.store, keys, clock);
    const audit = new AuditLog(new AuditStore(t.store.db), keys, clock);
    const port = new ErasureStore(t.store.db, () => t.store.scrub());
    let crashes = opts.crashOnce ? 1 : 0;
    // Simulates a crash after the key destruction and before the row deletion, once.
    let batchCrashes = crashes;
    const erasurePort = Object.assign(Object.create(port) as ErasureStore, {
      deleteConversation: async (id: string) => {
        if (crashes > 0) {
          crashes--;
          throw Object.assign(new Error('simulated crash'), { code: 'STORE_UNAVAILABLE' });
        }
        return port.deleteConversation(id);
      },
      deleteConversations: async (ids: readonly string[]) => {
        if (batchCrashes > 0) {
          batchCrashes--;
          throw Object.assign(new Error('simulated crash'), { code: 'STORE_UNAVAILABLE' });
        }
        return port.deleteConversations(ids);
      },
    });
    const erasure = new ErasureService(erasurePort, keys, audit, clock);
    const sweeper = new RetentionSweeper(new RetentionStore(t.store.db), erasure, audit, clock, {
      batchSize: 2,
      ...(opts.hook ? { beforeErase: opts.hook } : {}),
    });
    return { keys, directory, audit, erasure, sweeper };
  }

  /** A scene with one conversation per case; returns the ids by name. */
  async function scene(s: ReturnType<typeof services>, inbox: { inboxId: string; channelId: string }) {
    const ids: Record<string, string> = {};
    const add = async (name: string, phone: string, o: Partial<Parameters<typeof addConversation>[4]>) => {
      const r = await addConversation(t.store, s.keys, s.directory, clock, {
        ...inbox,
        phone,
        texts: [`Text von ${name}`],
        ...o,
      });
      ids[name] = r.conversation.id;
      ids[`${name}.contact`] = r.contactId;
    };
    await add('pendingOld', '491710000001', { state: 'pending_consent' });
    await add('closedDue', '491710000003', { state: 'closed', closedAt: t0, eraseAt: t0 + DAY_MS });
    await add('closedLater', '491710000004', { state: 'closed', closedAt: t0, eraseAt: t0 + 30 * DAY_MS });
    await add('closedNoEraseAt', '491710000005', { state: 'closed', closedAt: t0, eraseAt: null });
    await add('openIdle', '491710000006', { state: 'open', lastActivityAt: t0 });
    clock.advance(20 * HOUR_MS);
    await add('pendingYoung', '491710000002', { state: 'pending_consent' });
    await add('openBusy', '491710000007', { state: 'open' });
    return ids;
  }

  async function remaining(): Promise<string[]> {
    return (await t.store.db.selectFrom('conversations').select('id').execute()).map((r) => r.id).sort();
  }

  it('erases exactly what the policy says, and a second sweep changes nothing', async () => {
    const inbox = await addInbox(t.store, {
      retention: { consentTimeoutHours: 24, autoCloseAfterDays: 14, eraseAfterCloseDays: 7 },
    });
    const calls: [string, EraseCause][] = [];
    const s = services({ hook: async (c, cause) => void calls.push([c.id, cause]) });
    const ids = await scene(s, inbox);

    clock.set(new Date(t0 + 25 * HOUR_MS));
    const first = await s.sweeper.sweep();
    expect(first).toMatchObject({
      consentTimeouts: 1,
      // The contacts of both erased conversations: nothing else needs them.
      contactsErased: 2,
      retentionErased: 1,
      autoClosed: 0,
      failures: [],
    });
    expect(calls).toEqual([
      [ids.pendingOld, 'consent-timeout'],
      [ids.closedDue, 'retention'],
    ]);
    const afterFirst = await remaining();
    expect(afterFirst).toEqual(
      [ids.pendingYoung, ids.closedLater, ids.closedNoEraseAt, ids.openIdle, ids.openBusy].map(String).sort(),
    );
    // The timed-out contact never agreed and had nothing else: its pseudonym went too. So did the contact of the
    // conversation erased by retention: its consent entries alone keep no number alive.
    expect(await s.directory.findById(ids['pendingOld.contact']!)).toBeUndefined();
    expect(await s.directory.findById(ids['closedDue.contact']!)).toBeUndefined();
    const proof = await t.store.db
      .selectFrom('consent_events')
      .selectAll()
      .where('contact_id', '=', ids['closedDue.contact']!)
      .execute();
    for (const entry of proof) expect(entry).toMatchObject({ evidence_message_id: null, evidence_enc: null });

    const second = await s.sweeper.sweep();
    expect(second).toMatchObject({ consentTimeouts: 0, retentionErased: 0, autoClosed: 0, contactsErased: 0 });
    expect(await remaining()).toEqual(afterFirst);

    // Day 14.5: the idle conversation is closed with erase_at = now + 7 days; the busy one (active on day 0.8) stays.
    clock.set(new Date(t0 + 14.5 * DAY_MS));
    const third = await s.sweeper.sweep();
    expect(third).toMatchObject({ autoClosed: 1, retentionErased: 1, consentTimeouts: 1 });
    const idle = await t.store.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', ids.openIdle!)
      .executeTakeFirstOrThrow();
    expect(idle).toMatchObject({ state: 'closed', closed_at: t0 + 14.5 * DAY_MS, erase_at: t0 + 21.5 * DAY_MS });
    expect(await remaining()).toEqual([ids.closedLater, ids.openIdle, ids.openBusy].map(String).sort());

    clock.set(new Date(t0 + 21.5 * DAY_MS));
    expect(await s.sweeper.sweep()).toMatchObject({ retentionErased: 1, autoClosed: 1 });
    expect(await remaining()).toEqual([ids.closedLater, ids.openBusy].map(String).sort());
    const busy = await t.store.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', ids.openBusy!)
      .executeTakeFirstOrThrow();
    expect(busy.state).toBe('closed');
    expect(await s.audit.verify()).toMatchObject({ ok: true });
  });

  it('a crash after key destruction is finished by the next sweep, erasing nothing more', async () => {
    const inbox = await addInbox(t.store, {
      retention: { consentTimeoutHours: 24, autoCloseAfterDays: 14, eraseAfterCloseDays: 7 },
    });
    const s = services({ crashOnce: true });
    const ids = await scene(s, inbox);
    clock.set(new Date(t0 + 25 * HOUR_MS));
    const crashed = await s.sweeper.sweep();
    expect(crashed.failures).toEqual([{ conversationId: ids.pendingOld, error: 'STORE_UNAVAILABLE' }]);
    expect(await s.keys.existingDataKey('conversation', ids.pendingOld!)).toBeUndefined();
    expect(await remaining()).toContain(ids.pendingOld);

    const rerun = await s.sweeper.sweep();
    expect(rerun).toMatchObject({ consentTimeouts: 1, failures: [] });
    expect(await remaining()).toEqual(
      [ids.pendingYoung, ids.closedLater, ids.closedNoEraseAt, ids.openIdle, ids.openBusy].map(String).sort(),
    );
    // What was kept still decrypts.
    for (const name of ['pendingYoung', 'closedLater', 'openIdle'] as const) {
      const key = await s.keys.existingDataKey('conversation', ids[name]!);
      const msg = await t.store.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', ids[name]!)
        .executeTakeFirstOrThrow();
      expect(openFieldText(key!, msg.body_enc!, { table: 'messages', rowId: msg.id, column: 'body_enc' })).toBe(
        JSON.stringify({ text: `Text von ${name}` }),
      );
    }
  });

  it('a failing beforeErase hook does not stop the erasure', async () => {
    const inbox = await addInbox(t.store, { retention: { consentTimeoutHours: 1 } });
    const s = services({
      hook: async () => {
        throw new Error('provider down');
      },
    });
    await addConversation(t.store, s.keys, s.directory, clock, {
      ...inbox,
      phone: '491720000001',
      texts: ['hi'],
      state: 'pending_consent',
    });
    clock.advance(2 * HOUR_MS);
    expect(await s.sweeper.sweep()).toMatchObject({ consentTimeouts: 1, hookFailures: 1 });
    expect(await remaining()).toEqual([]);
  });

  it('with eraseAfterCloseDays 0 an idle conversation is closed and erased in the same sweep; 0 timeouts mean never', async () => {
    const inbox = await addInbox(t.store, {
      retention: { consentTimeoutHours: 0, autoCloseAfterDays: 3, eraseAfterCloseDays: 0 },
    });
    const s = services();
    await addConversation(t.store, s.keys, s.directory, clock, {
      ...inbox,
      phone: '491730000001',
      texts: ['a'],
      state: 'open',
    });
    const pending = await addConversation(t.store, s.keys, s.directory, clock, {
      ...inbox,
      phone: '491730000002',
      texts: ['b'],
      state: 'pending_consent',
    });
    clock.advance(4 * DAY_MS);
    expect(await s.sweeper.sweep()).toMatchObject({ autoClosed: 1, retentionErased: 1, consentTimeouts: 0 });
    expect(await remaining()).toEqual([pending.conversation.id]);
  });

  it('prunes audit entries past retention behind an anchor; verify still passes', async () => {
    await addInbox(t.store, { retention: { auditRetentionDays: 30 } });
    const s = services();
    for (let i = 0; i < 5; i++)
      await s.audit.append({ actor: 'user:u1', action: 'conversation.viewed', details: { i } });
    clock.advance(40 * DAY_MS);
    await s.audit.append({ actor: 'user:u1', action: 'conversation.viewed' });
    const report = await s.sweeper.sweep();
    expect(report.auditPruned).toBe(5);
    expect(await s.audit.verify()).toEqual({ ok: true, checked: 2 });
    expect((await s.sweeper.sweep()).auditPruned).toBe(0);
    expect(await s.audit.verify()).toEqual({ ok: true, checked: 2 });
  });
});
