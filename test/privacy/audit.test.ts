import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { DAY_MS, ManualClock } from '../../src/shared/clock.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { keyServiceFor } from './fixtures.ts';

describeEachStore('AuditLog', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  let audit: AuditLog;
  const master = randomBytes(32);
  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock();
    audit = new AuditLog(new AuditStore(t.store.db), keyServiceFor(t.store, clock, master), clock);
  });
  afterEach(async () => t.cleanup());

  async function fill(n: number) {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      await audit.append({
        actor: 'user:u1',
        action: 'conversation.viewed',
        targetType: 'conversation',
        targetId: `c${i}`,
        details: { label: `Anfrage ${i}` },
      });
    }
  }

  it('chains entries and verifies them; an empty log verifies too', async () => {
    expect(await audit.verify()).toEqual({ ok: true, checked: 0 });
    await fill(5);
    const rows = await audit.list();
    expect(rows.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(rows[0]!.prev_hash).toBe(rows[1]!.hash);
    expect(await audit.verify()).toEqual({ ok: true, checked: 5 });
    expect((await audit.list({ targetId: 'c2' })).map((r) => r.seq)).toEqual([3]);
  });

  it('stays one unbroken chain with many concurrent appenders from two instances', async () => {
    const other = new AuditLog(new AuditStore(t.store.db), keyServiceFor(t.store, clock, master), clock);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? audit : other).append({ actor: 'system', action: 'test.concurrent', details: { i } }),
      ),
    );
    expect(await audit.verify()).toEqual({ ok: true, checked: 40 });
  });

  it('detects an edited entry', async () => {
    await fill(5);
    await t.store.db.updateTable('audit_log').set({ actor: 'user:someone-else' }).where('seq', '=', 3).execute();
    expect(await audit.verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBroken: { seq: 3, reason: expect.stringMatching(/altered/) },
    });
  });

  it('detects an entry rewritten with a recomputed hash but without the MAC key', async () => {
    await fill(5);
    const { entryHash } = await import('../../src/core/privacy/audit/audit-log.ts');
    const row = (await audit.list({ targetId: 'c1' }))[0]!;
    const forged = { ...row, action: 'conversation.ignored' };
    await t.store.db
      .updateTable('audit_log')
      .set({ action: forged.action, hash: entryHash(forged) })
      .where('seq', '=', row.seq)
      .execute();
    expect((await audit.verify()).firstBroken).toMatchObject({ seq: 2, reason: expect.stringMatching(/MAC/) });
  });

  it('detects a deleted entry in the middle', async () => {
    await fill(5);
    await t.store.db.deleteFrom('audit_log').where('seq', '=', 2).execute();
    expect((await audit.verify()).firstBroken).toEqual({ seq: 2, reason: 'entry 2 is missing (deleted)' });
  });

  it('detects the newest entries deleted', async () => {
    await fill(5);
    await t.store.db.deleteFrom('audit_log').where('seq', '>=', 4).execute();
    expect(await audit.verify()).toEqual({
      ok: false,
      checked: 3,
      firstBroken: { seq: 4, reason: 'entries 4 to 5 are missing (deleted)' },
    });
  });

  it('detects two entries swapped', async () => {
    await fill(5);
    const [a, b] = [(await audit.list({ targetId: 'c1' }))[0]!, (await audit.list({ targetId: 'c2' }))[0]!];
    await t.store.db.deleteFrom('audit_log').where('seq', 'in', [a.seq, b.seq]).execute();
    await t.store.db
      .insertInto('audit_log')
      .values([
        { ...a, seq: b.seq },
        { ...b, seq: a.seq },
      ])
      .execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: { seq: 2 } });
  });

  it('refuses details that carry content and writes nothing', async () => {
    await expect(
      audit.append({ actor: 'system', action: 'x.y', details: { phone: '+49 170 1234567' } }),
    ).rejects.toThrow(/content-free/);
    await expect(
      audit.append({ actor: 'system', action: 'x.y', details: { who: 'erika@example.org' } }),
    ).rejects.toThrow(/content-free/);
    await expect(audit.append({ actor: 'Erika Mustermann', action: 'x.y' })).rejects.toThrow(/audit actor/);
    expect(await audit.list()).toHaveLength(0);
  });

  it('prunes old entries behind an anchor and still verifies, and still detects tampering after pruning', async () => {
    await fill(10);
    clock.advance(30 * DAY_MS);
    await fill(3);
    const cutoff = clock.now().getTime() - 10 * DAY_MS;
    expect(await audit.prune(cutoff, 4)).toBe(4);
    expect(await audit.prune(cutoff)).toBe(6);
    expect(await audit.prune(cutoff)).toBe(0);
    expect(await audit.verify()).toEqual({ ok: true, checked: 3 });
    await audit.append({ actor: 'system', action: 'audit.pruned', details: { pruned: 10 } });
    expect(await audit.verify()).toEqual({ ok: true, checked: 4 });
    await t.store.db.updateTable('audit_chain').set({ seq: 5 }).where('name', '=', 'anchor').execute();
    expect((await audit.verify()).firstBroken?.reason).toMatch(/anchor/);
  });

  it('finds a rollback: the newest entries deleted and an older head row restored', async () => {
    await fill(3);
    const olderHead = await t.store.db
      .selectFrom('audit_chain')
      .selectAll()
      .where('name', '=', 'head')
      .executeTakeFirst();
    await fill(2);
    await t.store.db.deleteFrom('audit_log').where('seq', '>', 3).execute();
    await t.store.db
      .updateTable('audit_chain')
      .set({ seq: olderHead!.seq, hash: olderHead!.hash, mac: olderHead!.mac, at: olderHead!.at })
      .where('name', '=', 'head')
      .execute();
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({
      seq: 4,
      reason: expect.stringMatching(/rolled back.*entry 5.*head is entry 3/),
    });
    // Appending on the rolled-back chain does not hide it: the rollback stays on record.
    await fill(4);
    expect((await audit.verify()).firstBroken?.reason).toMatch(/rolled back before an append/);
  });

  it('finds a rollback against an exported anchor even when the key store was rolled back too', async () => {
    await fill(2);
    const anchor = await audit.exportAnchor();
    expect(anchor).toMatchObject({ format: 'sparsam.audit-anchor.v1', seq: 2 });
    expect(await audit.verify({ anchors: [anchor] })).toEqual({ ok: true, checked: 2 });
    const olderHead = await t.store.db
      .selectFrom('audit_chain')
      .selectAll()
      .where('name', '=', 'head')
      .executeTakeFirst();
    await fill(1);
    await t.store.db.deleteFrom('audit_log').where('seq', '>', 1).execute();
    const first = (await audit.list())[0]!;
    await t.store.db
      .updateTable('audit_chain')
      .set({ seq: 1, hash: first.hash, mac: olderHead!.mac, at: first.at })
      .where('name', '=', 'head')
      .execute();
    // A head row from the time of entry 1 (its MAC recomputed needs the key, so take the real one from a copy).
    const { createHmac } = await import('node:crypto');
    const keys = keyServiceFor(t.store, clock, master);
    await keys.init();
    await t.store.db
      .updateTable('audit_chain')
      .set({ mac: createHmac('sha256', keys.auditMacKey).update(`head|1|${first.hash}`).digest('hex') })
      .where('name', '=', 'head')
      .execute();
    await t.store.keys.deleteFrom('keystore_meta').where('key', 'like', 'audit.%').execute();
    expect(await audit.verify()).toEqual({ ok: true, checked: 1 });
    expect((await audit.verify({ anchors: [anchor] })).firstBroken?.reason).toMatch(/rolled back: the anchor exported/);
    await expect(audit.verify({ anchors: [{ ...anchor, seq: 1 }] })).resolves.toMatchObject({
      ok: false,
      firstBroken: { reason: expect.stringMatching(/not valid/) },
    });
  });

  it('ignores and reports an entry inserted beyond the head; it neither blocks the next append nor is listed', async () => {
    await fill(2);
    const last = (await audit.list())[0]!;
    await t.store.db
      .insertInto('audit_log')
      .values({ ...last, seq: 3, action: 'conversation.forged', prev_hash: last.hash })
      .execute();
    expect((await audit.list()).map((r) => r.seq)).toEqual([2, 1]);
    expect(await audit.verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBroken: { seq: 3, reason: expect.stringMatching(/1 entries beyond the chain head/) },
    });
    await fill(2);
    const rows = await audit.list();
    expect(rows.map((r) => [r.seq, r.action])).toEqual([
      [4, 'conversation.viewed'],
      [3, 'conversation.viewed'],
      [2, 'conversation.viewed'],
      [1, 'conversation.viewed'],
    ]);
    expect((await audit.verify()).firstBroken?.reason).toMatch(/1 entries beyond the chain head/);
  });
});
