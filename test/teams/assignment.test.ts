import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { mentionedNames } from '../../src/core/teams/mentions.service.ts';
import { describeEachStore } from '../support/stores.ts';
import { Browser, createUser, loginEnrolledAdmin } from '../web/web-support.ts';
import { seedConversation, startTwoInboxApp } from './teams-support.ts';

const MINUTE = 60_000;

describeEachStore('assignment, availability and mentions', (dialect) => {
  let app: Awaited<ReturnType<typeof startTwoInboxApp>>;
  let admin: Browser;
  let anna: Browser;
  let ben: Browser;
  let annaId: string;
  let benId: string;
  let carlaId: string;
  const events: InboxEvent[] = [];

  const assignee = async (id: string) =>
    (
      await app.sparsam.store.db
        .selectFrom('conversations')
        .select('assignee_id')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).assignee_id;

  beforeAll(async () => {
    app = await startTwoInboxApp(dialect, 'assign');
    app.sparsam.events.subscribe((e) => events.push(e));
    await createUser(app.sparsam, 'admin@example.org', 'admin');
    annaId = (
      await app.sparsam.accounts.createUser({
        email: 'anna@example.org',
        password: 'correct horse battery staple',
        role: 'agent',
        displayName: 'Anna Maria',
        inboxIds: ['werkstatt'],
      })
    ).id;
    benId = (
      await app.sparsam.accounts.createUser({
        email: 'ben@example.org',
        password: 'correct horse battery staple',
        role: 'agent',
        displayName: 'Ben',
        inboxIds: ['werkstatt'],
      })
    ).id;
    // Carla works in sales only.
    carlaId = (
      await app.sparsam.accounts.createUser({
        email: 'carla@example.org',
        password: 'correct horse battery staple',
        role: 'agent',
        displayName: 'Carla',
        inboxIds: ['verkauf'],
      })
    ).id;
    admin = (await loginEnrolledAdmin(app.sparsam, app.clock, 'admin@example.org')).browser;
    anna = new Browser(app.sparsam);
    await anna.login('anna@example.org');
    ben = new Browser(app.sparsam);
    await ben.login('ben@example.org');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a new agent without chosen inboxes joins every inbox; one with a choice only those', async () => {
    const dave = await createUser(app.sparsam, `dave-${dialect}@example.org`, 'agent');
    expect(await app.sparsam.teams.inboxIdsOfUser(dave.id)).toEqual(['verkauf', 'werkstatt']);
    expect(await app.sparsam.teams.inboxIdsOfUser(carlaId)).toEqual(['verkauf']);
    const invited = await admin.post('/api/v1/users', {
      email: 'eva@example.org',
      role: 'agent',
      inboxIds: ['verkauf'],
    });
    expect(invited.statusCode).toBe(201);
    expect(invited.json().user.inboxIds).toEqual(['verkauf']);
    const wrong = await admin.post('/api/v1/users', { email: 'fritz@example.org', role: 'agent', inboxIds: ['nope'] });
    expect(wrong.statusCode).toBe(400);
    expect(await app.sparsam.users.findUserByEmail('fritz@example.org')).toBeUndefined();
  });

  it('hands waiting conversations to online members in turn, up to the maximum per member', async () => {
    const set = await admin.request('PUT', '/api/v1/admin/inboxes/werkstatt/assignment', {
      auto: true,
      maxOpenPerAgent: 2,
      offline: 'unassign',
      offlineAfterMinutes: 5,
    });
    expect(set.statusCode, set.body).toBe(200);
    expect((await admin.get('/api/v1/admin/inboxes/werkstatt/assignment')).json()).toMatchObject({ auto: true });
    expect((await anna.get('/api/v1/admin/inboxes/werkstatt/assignment')).statusCode).toBe(403);
    // Nobody online yet: nothing is assigned.
    const t0 = app.clock.now().getTime();
    const first = (await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt', { lastActivityAt: t0 })).id;
    await app.sparsam.assignment.run('werkstatt');
    expect(await assignee(first)).toBeNull();
    // Both come online (the inbox tab's heartbeat with a chosen status): the waiting one goes to the first of them.
    for (const b of [anna, ben]) {
      const res = await b.post('/api/v1/me/presence', { status: 'online', active: true });
      expect(res.json()).toEqual({ status: 'online', availability: 'online' });
    }
    await app.sparsam.assignment.run('werkstatt');
    expect(await assignee(first)).not.toBeNull();
    const waiting = [first];
    for (let i = 1; i < 5; i++) {
      waiting.push((await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt', { lastActivityAt: t0 + i })).id);
    }
    await app.sparsam.assignment.run('werkstatt');
    const owners = await Promise.all(waiting.map(assignee));
    // Round robin, oldest first: alternating, two each, the fifth waits (both at the maximum of 2).
    expect(owners[0]).not.toBe(owners[1]);
    expect(owners[2]).toBe(owners[0]);
    expect(owners[3]).toBe(owners[1]);
    expect(new Set(owners.slice(0, 4))).toEqual(new Set([annaId, benId]));
    expect(owners[4]).toBeNull();
    const notified = events.filter((e) => e.type === 'user.notified' && e.kind === 'assigned');
    expect(notified.length).toBe(4);
    // A member of another inbox never gets one.
    expect(owners).not.toContain(carlaId);
  });

  it('shows availability to colleagues and turns an idle agent away, a silent one offline', async () => {
    const members = async () =>
      new Map(
        (
          (await anna.get('/api/v1/team/members?inboxId=werkstatt')).json().items as {
            id: string;
            availability: string;
          }[]
        ).map((m) => [m.id, m.availability]),
      );
    expect((await members()).get(benId)).toBe('online');
    expect((await members()).has(carlaId)).toBe(false);
    // Ben chooses away: skipped by the round robin from now on.
    expect((await ben.post('/api/v1/me/presence', { status: 'away' })).json().availability).toBe('away');
    expect((await members()).get(benId)).toBe('away');
    // Anna's tab keeps reporting, without input for 11 minutes: away after the default 10.
    app.clock.advance(11 * MINUTE);
    expect((await anna.post('/api/v1/me/presence', { active: false })).json()).toEqual({
      status: 'online',
      availability: 'away',
    });
    expect((await anna.post('/api/v1/me/presence', { active: true })).json().availability).toBe('online');
    // Ben's tab is closed: no heartbeat for more than 3 minutes is offline.
    expect((await members()).get(benId)).toBe('offline');
    expect((await admin.request('PUT', '/api/v1/admin/presence', { awayAfterMinutes: 0 })).statusCode).toBe(400);
    expect((await admin.request('PUT', '/api/v1/admin/presence', { awayAfterMinutes: 15 })).json()).toEqual({
      awayAfterMinutes: 15,
    });
  });

  it("returns an offline member's open conversations to unassigned after the inbox's minutes, and hands them on", async () => {
    // Ben held two when his tab went silent (previous test); offline for longer than the inbox's 5 minutes now.
    app.clock.advance(6 * MINUTE);
    await anna.post('/api/v1/me/presence', { active: true });
    await app.sparsam.assignment.run();
    const bens = await app.sparsam.store.db
      .selectFrom('conversations')
      .select('id')
      .where('assignee_id', '=', benId)
      .where('state', '=', 'open')
      .execute();
    expect(bens).toEqual([]);
    const audit = await app.sparsam.store.db
      .selectFrom('audit_log')
      .select(['target_id', 'details'])
      .where('action', '=', 'conversation.assigned')
      .where('actor', '=', 'system:assignment')
      .execute();
    const returned = audit.filter((a) => a.details.includes('offline') && a.details.includes(benId));
    expect(returned.length).toBe(2);
    // Handed on: each returned conversation went to Anna or waits (Anna is at her maximum of two).
    for (const a of returned) expect([annaId, null]).toContain(await assignee(a.target_id!));
    // Anna holds at most two open conversations in the workshop.
    const annas = await app.sparsam.store.db
      .selectFrom('conversations')
      .select('id')
      .where('assignee_id', '=', annaId)
      .where('state', '=', 'open')
      .execute();
    expect(annas.length).toBe(2);
  });

  it('notifies a colleague named with @ in a note, once, and only a colleague who may see the inbox', async () => {
    const { id } = await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt');
    events.length = 0;
    const note = await ben.post(`/api/v1/conversations/${id}/notes`, {
      text: '@Anna Maria kannst du übernehmen? @anna maria! cc @Carla @Ben',
    });
    expect(note.statusCode).toBe(201);
    const mentions = (await anna.get('/api/v1/me/mentions')).json();
    expect(mentions.unread).toBe(1);
    expect(mentions.items[0]).toMatchObject({ conversationId: id, author: { id: benId, name: 'Ben' }, read: false });
    expect(mentions.items[0].label).toMatch(/^Werkstatt \d+$/);
    // Carla is not in the workshop, Ben wrote it himself.
    const notified = events.filter((e) => e.type === 'user.notified');
    expect(notified.map((e) => (e as { userId: string }).userId)).toEqual([annaId]);
    expect(JSON.stringify(notified)).not.toContain('kannst');
    expect((await anna.post('/api/v1/me/mentions/read', {})).json().marked).toBe(1);
    expect((await anna.get('/api/v1/me/mentions')).json().unread).toBe(0);
    // Given to a colleague by hand: the colleague is told (content-free), the one who assigned is not.
    events.length = 0;
    expect((await ben.post(`/api/v1/conversations/${id}/assign`, { userId: annaId })).statusCode).toBe(200);
    expect((await ben.post(`/api/v1/conversations/${id}/assign`, { userId: benId })).statusCode).toBe(200);
    const told = events.filter((e) => e.type === 'user.notified' && e.kind === 'assigned');
    expect(told.map((e) => (e as { userId: string }).userId)).toEqual([annaId]);
    // An API token has no mentions (sessions only).
    const token = (await app.sparsam.accounts.createApiToken('t', 'agent')).token;
    const viaToken = await app.sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/me/mentions',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaToken.statusCode).toBe(403);
  });
});

it('finds @names at word boundaries, longer names first', () => {
  const names = ['Anna', 'Anna Maria', 'Ben'];
  expect(mentionedNames('@Anna Maria bitte', names)).toEqual(['Anna Maria']);
  expect(mentionedNames('hallo @anna, und @ben.', names)).toEqual(['Anna', 'Ben']);
  expect(mentionedNames('mail@Ben.de und @Benjamin', names)).toEqual([]);
});
