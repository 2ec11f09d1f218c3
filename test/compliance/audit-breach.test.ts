import { afterEach, beforeEach, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { startWorld, type World } from '../inbox/inbox-world.ts';
import { call } from './compliance-world.ts';

describeEachStore('audit viewer and breach register', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  it('filters, pages, verifies and exports the audit log as CSV', async () => {
    const audit = w.sparsam.audit;
    await audit.append({ actor: 'user:u1', action: 'conversation.viewed', targetType: 'conversation', targetId: 'c1' });
    w.clock.advance(HOUR_MS);
    await audit.append({ actor: 'user:u2', action: 'conversation.viewed', targetType: 'conversation', targetId: 'c2' });
    w.clock.advance(HOUR_MS);
    await audit.append({
      actor: 'user:u1',
      action: 'settings.changed',
      details: { note: '=HYPERLINK("x"), "quoted"' },
    });

    const get = (q: string, token = w.dpoToken) => w.api('GET', `/api/v1/compliance/audit${q}`, undefined, token);
    const viewed = (await get('?action=conversation.viewed')).json().items as { actor: string; targetId: string }[];
    expect(viewed.map((v) => v.targetId)).toEqual(['c2', 'c1']);
    // A category (no dot) finds every action of its kind; it does not match a longer category's name.
    await audit.append({ actor: 'system', action: 'conversationx.other' });
    const category = (await get('?action=conversation')).json().items as { action: string }[];
    expect(category.map((i) => i.action)).toEqual(['conversation.viewed', 'conversation.viewed']);
    expect((await get('?action=settings')).json().items.map((i: { action: string }) => i.action)).toEqual([
      'settings.changed',
    ]);
    expect((await get('?actor=user:u1')).json().items.map((i: { action: string }) => i.action)).toEqual([
      'settings.changed',
      'conversation.viewed',
    ]);
    const t0 = w.clock.now().getTime() - HOUR_MS;
    const from = (await get(`?from=${new Date(t0).toISOString()}&actor=user:u2`)).json().items;
    expect(from).toHaveLength(1);
    expect((await get(`?to=${new Date(t0 - 1).toISOString()}&actor=user:u2`)).json().items).toHaveLength(0);
    const page = (await get('?limit=1&offset=1&actor=user:u1')).json().items;
    expect(page.map((i: { action: string }) => i.action)).toEqual(['conversation.viewed']);
    expect((await get('?limit=5000')).statusCode).toBe(400);
    expect((await get('', w.agentToken)).statusCode).toBe(403);

    const verify = await w.api('POST', '/api/v1/compliance/audit/verify', undefined, w.dpoToken);
    expect(verify.json()).toMatchObject({ ok: true });
    expect(verify.json().checked).toBeGreaterThanOrEqual(3);

    const csv = await get('.csv?actor=user:u1');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('seq,at,actor,action,target_type,target_id,result,details');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\d+,\d{4}-\d\d-\d\dT[^,]+Z,user:u1,settings\.changed,,,ok,"\{""note"":""=HYPERLINK/);
    expect(lines[2]).toMatch(/,user:u1,conversation\.viewed,conversation,c1,ok,\{\}$/);
    // The export itself is audited.
    expect((await get('?action=audit.exported')).json().items[0].details).toEqual({ format: 'csv', rows: 2 });

    // Tampering shows in verify.
    await w.sparsam.store.db.updateTable('audit_log').set({ target_id: 'c9' }).where('target_id', '=', 'c1').execute();
    const broken = (await w.api('POST', '/api/v1/compliance/audit/verify', undefined, w.dpoToken)).json();
    expect(broken.ok).toBe(false);
    expect(broken.firstBroken.reason).toContain('altered');
  });

  it('records a breach with the 72-hour deadline, counts down, and keeps the description sealed', async () => {
    const discovered = new Date(w.clock.now().getTime() - 10 * HOUR_MS).toISOString();
    const created = await w.api(
      'POST',
      '/api/v1/compliance/breaches',
      {
        description: 'Laptop mit Exporten im Zug verloren',
        risk: 'risk',
        labels: ['Anfrage 4', 'Anfrage 9'],
        conversationIds: ['c4', 'c9'],
        discoveredAt: discovered,
      },
      w.dpoToken,
    );
    expect(created.statusCode).toBe(201);
    const breach = created.json().breach;
    expect(breach.deadline).toBe(new Date(Date.parse(discovered) + 72 * HOUR_MS).toISOString());
    expect(breach.remainingMs).toBe(62 * HOUR_MS);
    expect(breach.overdue).toBe(false);
    expect(breach.labels).toEqual(['Anfrage 4', 'Anfrage 9']);

    // Sealed at rest.
    const row = await w.sparsam.store.db.selectFrom('breaches').selectAll().executeTakeFirstOrThrow();
    expect(Buffer.from(row.description_enc).toString('latin1')).not.toContain('Laptop');

    w.clock.advance(63 * HOUR_MS);
    const late = (await w.api('GET', `/api/v1/compliance/breaches/${breach.id}`, undefined, w.adminToken)).json()
      .breach;
    expect(late.overdue).toBe(true);
    expect(late.remainingMs).toBe(-HOUR_MS);
    expect(late.description).toBe('Laptop mit Exporten im Zug verloren');

    const notifiedAt = w.clock.now().toISOString();
    const patched = await call(w, 'PATCH', `/api/v1/compliance/breaches/${breach.id}`, { notifiedAt }, w.dpoToken);
    expect(patched.statusCode).toBe(200);
    expect(patched.json().breach).toMatchObject({ notifiedAt, remainingMs: null, overdue: true });

    const list = (await w.api('GET', '/api/v1/compliance/breaches', undefined, w.dpoToken)).json().items;
    expect(list).toHaveLength(1);
    expect((await w.api('GET', '/api/v1/compliance/breaches', undefined, w.agentToken)).statusCode).toBe(403);

    // Bad input changes nothing.
    const bad = await w.api(
      'POST',
      '/api/v1/compliance/breaches',
      { description: 'x', risk: 'unknown', discoveredAt: 'yesterday' },
      w.dpoToken,
    );
    expect(bad.statusCode).toBe(400);
    const future = await w.api(
      'POST',
      '/api/v1/compliance/breaches',
      {
        description: 'in the future',
        risk: 'none',
        discoveredAt: new Date(w.clock.now().getTime() + 5 * HOUR_MS).toISOString(),
      },
      w.dpoToken,
    );
    expect(future.statusCode).toBe(400);
    expect((await w.api('GET', '/api/v1/compliance/breaches', undefined, w.dpoToken)).json().items).toHaveLength(1);

    const actions = (await w.api('GET', `/api/v1/compliance/audit?targetId=${breach.id}`, undefined, w.dpoToken))
      .json()
      .items.map((i: { action: string }) => i.action);
    expect(actions).toEqual(['breach.updated', 'breach.recorded']);
    expect(
      (await call(w, 'DELETE', `/api/v1/compliance/breaches/${breach.id}`, undefined, w.dpoToken)).statusCode,
    ).toBe(204);
    expect((await w.api('GET', `/api/v1/compliance/breaches/${breach.id}`, undefined, w.dpoToken)).statusCode).toBe(
      404,
    );
  });
});
