import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { DAY_MS, HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { Browser, createUser } from '../web/web-support.ts';
import { buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

interface Item {
  id: string;
  unread: number;
  snoozedUntil: string | null;
}

describeEachStore('snooze: set aside until a time, back by itself or when the customer writes', (dialect) => {
  let w: World;
  let phone = 491700000300;
  const events: InboxEvent[] = [];
  beforeAll(async () => {
    // Closed conversations are kept a while (not erased at once), so a closed one can be asked to snooze.
    w = await startWorld(dialect, { eraseAfterCloseDays: 7 });
    w.sparsam.events.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    await w.close();
  });

  const list = async (view = 'all') =>
    (await w.api('GET', `/api/v1/conversations?view=${view}`)).json().items as Item[];
  const snooze = (id: string, body: unknown, token?: string) =>
    w.api('POST', `/api/v1/conversations/${id}/snooze`, body, token);
  const audit = async (action: string, id: string) =>
    (await w.sparsam.audit.list({ action })).filter((a) => a.target_id === id);

  /** A consent-given open conversation of a new customer, read by staff (unread 0). */
  async function openConversation(): Promise<string> {
    const from = String(++phone);
    w.clock.advance(1000);
    await w.webhook(textMessage(w.clock, `wamid.S${from}a`, 'Hallo', from));
    await w.webhook(buttonReply(w.clock, `wamid.S${from}b`, CONSENT_AGREE_ID, 'Zustimmen', from));
    await w.drain();
    const id = (await list())[0]!.id;
    expect((await w.api('POST', `/api/v1/conversations/${id}/read`)).statusCode).toBe(200);
    return id;
  }

  it('refuses a time in the past, more than a year ahead, a closed or unknown conversation; nothing changes', async () => {
    const id = await openConversation();
    const now = w.clock.now().getTime();
    const past = await snooze(id, { until: new Date(now - 60_000).toISOString() });
    expect(past.statusCode).toBe(400);
    expect(past.json().error).toMatchObject({ code: 'VALIDATION', details: { reason: 'until_in_past' } });
    const far = await snooze(id, { until: new Date(now + 367 * DAY_MS).toISOString() });
    expect(far.statusCode).toBe(400);
    expect(far.json().error).toMatchObject({ code: 'VALIDATION', details: { reason: 'until_too_far' } });
    expect((await snooze(id, {})).statusCode).toBe(400);
    expect((await snooze(id, { until: 'morgen', preset: 'tomorrow-9' })).statusCode).toBe(400);
    expect((await snooze(id, { until: String(now + HOUR_MS) })).statusCode).toBe(400);
    expect((await snooze('no-such-id', { preset: 'in-1-hour' })).statusCode).toBe(404);
    expect((await snooze(id, { preset: 'in-1-hour' }, w.dpoToken)).statusCode).toBe(403);
    expect((await list()).find((c) => c.id === id)?.snoozedUntil).toBeNull();
    expect(await audit('conversation.snoozed', id)).toHaveLength(0);

    expect((await w.api('POST', `/api/v1/conversations/${id}/close`)).statusCode).toBe(200);
    const closed = await snooze(id, { preset: 'in-1-hour' });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error.code).toBe('CONFLICT');
    expect((await w.api('POST', `/api/v1/conversations/${id}/unsnooze`)).statusCode).toBe(409);
  });

  it('leaves the open lists, shows in Snoozed with its time, and comes back at that time with an unread mark', async () => {
    const id = await openConversation();
    const until = new Date(w.clock.now().getTime() + 3 * HOUR_MS);
    const res = await snooze(id, { until: until.toISOString() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ snoozedUntil: until.toISOString() });
    for (const view of ['all', 'unassigned']) expect((await list(view)).some((c) => c.id === id)).toBe(false);
    expect((await list('snoozed')).find((c) => c.id === id)).toMatchObject({
      snoozedUntil: until.toISOString(),
      unread: 0,
    });
    // A search still finds it, marked with its wake-up time.
    const found = (await w.api('GET', '/api/v1/conversations/search?q=Hallo')).json().items as Item[];
    expect(found.find((c) => c.id === id)?.snoozedUntil).toBe(until.toISOString());
    const snoozed = await audit('conversation.snoozed', id);
    expect(snoozed).toHaveLength(1);
    expect(JSON.parse(snoozed[0]!.details)).toEqual({ until: until.getTime() });

    // A minute early: still snoozed, even with the queue run.
    w.clock.advance(3 * HOUR_MS - 60_000);
    await w.drain();
    expect((await list()).some((c) => c.id === id)).toBe(false);

    events.length = 0;
    w.clock.advance(60_000);
    await w.drain();
    const back = (await list()).find((c) => c.id === id);
    expect(back).toMatchObject({ snoozedUntil: null, unread: 1 });
    expect((await list('snoozed')).some((c) => c.id === id)).toBe(false);
    expect(events).toContainEqual({ type: 'conversation.updated', inboxId: 'service', conversationId: id });
    const woken = await audit('conversation.woken', id);
    expect(woken.map((a) => JSON.parse(a.details))).toEqual([{ reason: 'time' }]);
    expect(woken[0]!.actor).toBe('system');
  });

  it('wakes early when the customer writes; the job at the old time then does nothing', async () => {
    const id = await openConversation();
    const res = await snooze(id, { preset: 'tomorrow-9' });
    expect(res.statusCode).toBe(200);
    const until = Date.parse(res.json().snoozedUntil);
    expect((await list()).some((c) => c.id === id)).toBe(false);

    w.clock.advance(HOUR_MS);
    await w.webhook(textMessage(w.clock, `wamid.S${phone}c`, 'Noch eine Frage', String(phone)));
    await w.drain();
    expect((await list()).find((c) => c.id === id)).toMatchObject({ snoozedUntil: null, unread: 1 });
    const woken = await audit('conversation.woken', id);
    expect(woken.map((a) => [a.actor, JSON.parse(a.details)])).toEqual([['webhook:wa-main', { reason: 'customer' }]]);
    // Content-free: the entry names no text of the message.
    expect(JSON.stringify(woken)).not.toContain('Frage');

    w.clock.set(new Date(until + 60_000));
    await w.drain();
    await w.sparsam.snooze.wakeDue();
    expect(await audit('conversation.woken', id)).toHaveLength(1);
  });

  it('computes the presets in the organisation time zone (Europe/Berlin)', async () => {
    // Monday 23 November 2026, 10:00 in Berlin (UTC+1) plus the minutes the earlier cases moved the clock.
    const s = w.sparsam.snooze;
    const monday = Date.UTC(2026, 10, 23, 9, 0, 0);
    expect(new Date(s.presetTime('in-1-hour', monday)).toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(new Date(s.presetTime('tomorrow-9', monday)).toISOString()).toBe('2026-11-24T08:00:00.000Z');
    expect(new Date(s.presetTime('next-monday-9', monday)).toISOString()).toBe('2026-11-30T08:00:00.000Z');
    // Late on Saturday in Berlin is already Sunday there: "tomorrow" is Monday, "next Monday" the same day.
    const saturdayNight = Date.UTC(2026, 10, 28, 23, 30, 0);
    expect(new Date(s.presetTime('tomorrow-9', saturdayNight)).toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(new Date(s.presetTime('next-monday-9', saturdayNight)).toISOString()).toBe('2026-11-30T08:00:00.000Z');
    // Summer time: 09:00 in Berlin is 07:00 UTC.
    expect(new Date(s.presetTime('tomorrow-9', Date.UTC(2027, 6, 1, 12))).toISOString()).toBe(
      '2027-07-02T07:00:00.000Z',
    );
  });

  it('wakes exactly once when several workers try at once; a new time replaces the old one', async () => {
    const id = await openConversation();
    const first = Date.parse((await snooze(id, { preset: 'in-1-hour' })).json().snoozedUntil);
    // Snoozed again, longer: the first time's job must not wake it.
    const second = first + 2 * HOUR_MS;
    expect((await snooze(id, { until: new Date(second).toISOString() })).statusCode).toBe(200);
    w.clock.set(new Date(first + 1000));
    await w.drain();
    expect((await list('snoozed')).find((c) => c.id === id)?.snoozedUntil).toBe(new Date(second).toISOString());

    w.clock.set(new Date(second + 1000));
    const s = w.sparsam.snooze;
    // The job and the sweeps of several instances at the same moment: one conditional update wins.
    const results = await Promise.all([s.wakeAt(id, second), s.wakeAt(id, second), s.wakeDue(), s.wakeDue()]);
    expect(results.filter((r) => r === true || r === 1)).toHaveLength(1);
    await w.drain();
    expect(await audit('conversation.woken', id)).toHaveLength(1);
    expect((await list()).find((c) => c.id === id)?.snoozedUntil).toBeNull();
  });

  it('ends a snooze on request (no unread mark) and a closed snoozed conversation does not come back', async () => {
    const id = await openConversation();
    await snooze(id, { preset: 'in-1-hour' });
    const un = await w.api('POST', `/api/v1/conversations/${id}/unsnooze`);
    expect(un.statusCode).toBe(200);
    expect((await list()).find((c) => c.id === id)).toMatchObject({ snoozedUntil: null, unread: 0 });
    expect((await audit('conversation.woken', id)).map((a) => JSON.parse(a.details))).toEqual([{ reason: 'agent' }]);
    // Again: nothing to end, nothing written.
    expect((await w.api('POST', `/api/v1/conversations/${id}/unsnooze`)).statusCode).toBe(200);
    expect(await audit('conversation.woken', id)).toHaveLength(1);

    const other = await openConversation();
    const until = Date.parse((await snooze(other, { preset: 'in-1-hour' })).json().snoozedUntil);
    expect((await w.api('POST', `/api/v1/conversations/${other}/close`)).statusCode).toBe(200);
    w.clock.set(new Date(until + 1000));
    await w.drain();
    expect(await w.sparsam.snooze.wakeDue()).toBe(0);
    expect(await audit('conversation.woken', other)).toHaveLength(0);
    expect((await list('closed')).find((c) => c.id === other)?.snoozedUntil).toBeNull();
  });
});

describeEachStore('saved views: personal list filters, never a search text', (dialect) => {
  let w: World;
  let a: Browser;
  let b: Browser;
  beforeAll(async () => {
    w = await startWorld(dialect);
    await createUser(w.sparsam, 'agent-a@example.org', 'agent');
    await createUser(w.sparsam, 'agent-b@example.org', 'agent');
    a = new Browser(w.sparsam);
    b = new Browser(w.sparsam);
    expect((await a.login('agent-a@example.org')).statusCode).toBe(200);
    expect((await b.login('agent-b@example.org')).statusCode).toBe(200);
    expect((await w.api('POST', '/api/v1/labels', { name: 'Rückruf' }, w.adminToken)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await w.close();
  });

  it('saves, lists and deletes views of the caller only; bad input changes nothing', async () => {
    const saved = await a.post('/api/v1/views', {
      name: 'Meine Rückrufe',
      view: 'mine',
      label: 'Rückruf',
      sort: 'priority',
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const item = saved.json().item;
    expect(item).toMatchObject({
      name: 'Meine Rückrufe',
      view: 'mine',
      label: 'Rückruf',
      channel: null,
      sort: 'priority',
    });
    w.clock.advance(1000);
    expect(
      (await a.post('/api/v1/views', { name: 'Zurückgestellt', view: 'snoozed', channel: 'wa-main' })).statusCode,
    ).toBe(201);

    // A search text is not part of a view (it could hold a name or a number).
    expect((await a.post('/api/v1/views', { name: 'Suche', view: 'all', q: 'Erika' })).statusCode).toBe(400);
    const freeLabel = await a.post('/api/v1/views', { name: 'Frei', view: 'all', label: 'Herr Maier' });
    expect(freeLabel.statusCode).toBe(400);
    expect(freeLabel.json().error.details).toMatchObject({ reason: 'label_not_in_list' });
    expect((await a.post('/api/v1/views', { name: '   ', view: 'all' })).statusCode).toBe(400);
    const twice = await a.post('/api/v1/views', { name: 'Meine Rückrufe', view: 'all' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.details).toMatchObject({ reason: 'view_name_taken' });

    const mine = (await a.get('/api/v1/views')).json().items as { id: string; name: string }[];
    expect(mine.map((v) => v.name)).toEqual(['Meine Rückrufe', 'Zurückgestellt']);
    // Personal: B sees none of them and cannot delete them.
    expect((await b.get('/api/v1/views')).json().items).toEqual([]);
    expect((await b.request('DELETE', `/api/v1/views/${item.id}`)).statusCode).toBe(404);
    // An API token has no user and so no views.
    expect((await w.api('GET', '/api/v1/views')).statusCode).toBe(403);

    expect((await a.request('DELETE', `/api/v1/views/${item.id}`)).statusCode).toBe(204);
    expect(((await a.get('/api/v1/views')).json().items as { name: string }[]).map((v) => v.name)).toEqual([
      'Zurückgestellt',
    ]);
    expect((await a.request('DELETE', `/api/v1/views/${item.id}`)).statusCode).toBe(404);
  });
});
