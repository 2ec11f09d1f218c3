import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type ApiRoute } from '../../src/http/contract/index.ts';
import { newId } from '../../src/shared/ids.ts';
import { describeEachStore } from '../support/stores.ts';
import { Browser, createUser, loginEnrolledAdmin } from '../web/web-support.ts';
import { seedConversation, startTwoInboxApp } from './teams-support.ts';

/** Every operation of /api/v1, from the contract registry: a new route is walked without touching this test. */
const ROUTES: ApiRoute[] = Object.values(api).flatMap((area) => Object.values(area) as ApiRoute[]);

/**
 * Sample bodies that pass validation, so that a route answers for the resource and not for a malformed request.
 * A route with a body that is missing here fails the walk (add its sample), so none is walked with a 400 only.
 */
const BODIES: Record<string, unknown> = {
  'POST /api/v1/conversations/:id/messages': { text: 'Hallo' },
  'POST /api/v1/conversations/:id/attachments': Buffer.from('%PDF-1.4\n%%EOF\n'),
  'POST /api/v1/conversations/:id/assign': { userId: null },
  'POST /api/v1/conversations/:id/labels': { labels: [] },
  'POST /api/v1/conversations/:id/notes': { text: 'intern' },
  'POST /api/v1/conversations/:id/reveal': { reason: 'Rückfrage des Kunden per Telefon' },
  'POST /api/v1/auth/login': { email: 'x@example.org', password: 'wrong-password-123' },
  'POST /api/v1/auth/totp': { code: '000000' },
  'POST /api/v1/auth/recovery': { code: 'xxxx-xxxx' },
  'POST /api/v1/auth/enrol/confirm': { code: '000000' },
  'POST /api/v1/auth/invitations/accept': { token: 'x'.repeat(40), password: 'long-enough-password' },
  'PATCH /api/v1/me': { displayName: 'Agent A' },
  'POST /api/v1/me/password': { current: 'x', next: 'long-enough-password' },
  'POST /api/v1/me/totp/disable': { password: 'x' },
  'POST /api/v1/me/presence': { active: true },
  'POST /api/v1/me/mentions/read': {},
  'POST /api/v1/conversations/:id/priority': { priority: 'high' },
  'POST /api/v1/conversations/:id/snooze': { preset: 'in-1-hour' },
  'POST /api/v1/views': { name: 'Meine', view: 'mine', sort: 'priority' },
  'POST /api/v1/conversations/:id/messages/:messageId/reaction': { emoji: '👍' },
  'PUT /api/v1/me/notifications': {
    events: { 'conversation.new': true, 'message.new': true, 'conversation.assigned': true, 'note.mention': true },
    push: false,
    email: false,
    quietHours: { enabled: false, start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' },
  },
  'POST /api/v1/me/push-subscriptions': {
    endpoint: 'https://push.example.org/sub/1',
    expirationTime: null,
    keys: { p256dh: 'BOr0', auth: 'YXV0aA' },
  },
  'DELETE /api/v1/me/push-subscriptions': { endpoint: 'https://push.example.org/sub/1' },
};

describeEachStore('inbox membership: an agent of another inbox sees nothing of it', (dialect) => {
  let app: Awaited<ReturnType<typeof startTwoInboxApp>>;
  let agentA: Browser;
  let agentB: Browser;
  let admin: Browser;
  let tokenA: string;
  let agentAId: string;
  let agentBId: string;
  let convA: string;
  let convB: { id: string; seq: number };
  let mediaB: string;

  beforeAll(async () => {
    app = await startTwoInboxApp(dialect, 'scope');
    await createUser(app.sparsam, 'admin@example.org', 'admin');
    agentAId = (await createUser(app.sparsam, 'agent-a@example.org', 'agent')).id;
    agentBId = (await createUser(app.sparsam, 'agent-b@example.org', 'agent')).id;
    admin = (await loginEnrolledAdmin(app.sparsam, app.clock, 'admin@example.org')).browser;
    // Admins put agents into inboxes: A works in the workshop, B in sales.
    for (const [id, inbox] of [
      [agentAId, 'werkstatt'],
      [agentBId, 'verkauf'],
    ] as const) {
      const res = await admin.request('PUT', `/api/v1/users/${id}/inboxes`, { inboxIds: [inbox] });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().inboxIds).toEqual([inbox]);
    }
    // Labels come from the admins' list (the same for every inbox).
    expect((await admin.post('/api/v1/labels', { name: 'Bremsen' })).statusCode).toBe(201);
    agentA = new Browser(app.sparsam);
    await agentA.login('agent-a@example.org');
    agentB = new Browser(app.sparsam);
    await agentB.login('agent-b@example.org');
    tokenA = (await app.sparsam.accounts.createApiToken('werkstatt-crm', 'agent', ['werkstatt'])).token;
    convA = (await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt', { labels: ['Bremsen'] })).id;
    convB = await seedConversation(app.sparsam, 'verkauf', 'wa-verkauf', { labels: ['Geheimprojekt'], unread: 2 });
    expect((await admin.post(`/api/v1/conversations/${convB.id}/notes`, { text: 'Notiz in Verkauf' })).statusCode).toBe(
      201,
    );
    mediaB = newId();
    await app.sparsam.store.db
      .insertInto('media')
      .values({
        id: mediaB,
        conversation_id: convB.id,
        message_id: null,
        mime_type: 'image/png',
        size: 3,
        data_enc: new Uint8Array([1, 2, 3]),
        state: 'stored',
        created_at: app.clock.now().getTime(),
      })
      .execute();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** What of inbox B must never appear in an answer to agent A. */
  const secrets = () => [convB.id, mediaB, 'wa-verkauf', 'verkauf', 'Verkauf', 'Geheimprojekt', agentBId];

  function fill(route: ApiRoute): string {
    const url = route.url;
    const id = url.startsWith('/api/v1/media/')
      ? mediaB
      : url.startsWith('/api/v1/channels/') || url.startsWith('/api/v1/admin/channels/')
        ? 'wa-verkauf'
        : url.startsWith('/api/v1/admin/inboxes/')
          ? 'verkauf'
          : url.startsWith('/api/v1/users/')
            ? agentBId
            : convB.id;
    return url.replace(':id', id).replace(':token', 'x'.repeat(40));
  }

  async function call(walker: Browser, route: ApiRoute, as: 'session' | 'token') {
    const key = `${route.method} ${route.url}`;
    const body = BODIES[key];
    const headers: Record<string, string> = {};
    if (as === 'token') headers.authorization = `Bearer ${tokenA}`;
    if (route.bodyContentType) headers['content-type'] = route.bodyContentType;
    if (as === 'session') {
      return walker.request(route.method as InjectOptions['method'], fill(route), body, { headers });
    }
    return app.sparsam.http.inject({
      method: route.method,
      url: fill(route),
      headers,
      ...(body !== undefined ? { payload: body as object } : {}),
    });
  }

  it('walks every route of the contract as agent A (session and limited token): 404 or nothing of inbox B', async () => {
    expect(ROUTES.length).toBeGreaterThan(60);
    const agentRoutes = ROUTES.filter((r) => r.roles.includes('agent') && r.access !== 'public');
    for (const route of agentRoutes) {
      if (route.body && !route.url.startsWith('/api/v1/auth/') && route.access !== 'step') {
        expect(BODIES, `a sample body for ${route.method} ${route.url}`).toHaveProperty([
          `${route.method} ${route.url}`,
        ]);
      }
    }
    // A walker of its own, logged out by the logout routes: those go last.
    const walker = new Browser(app.sparsam);
    await walker.login('agent-a@example.org');
    const ordered = [...ROUTES].sort((a, b) => Number(a.url.includes('logout')) - Number(b.url.includes('logout')));
    for (const as of ['session', 'token'] as const) {
      for (const route of ordered) {
        if (route.url === '/api/v1/events') continue; // a stream: read raw in the next test
        const res = await call(walker, route, as);
        const what = `${as} ${route.method} ${route.url} → ${res.statusCode}`;
        for (const secret of secrets()) expect(res.body.includes(secret), `${what} leaks ${secret}`).toBe(false);
        const forAgents = route.roles.includes('agent') && route.access !== 'public';
        if (forAgents && route.url.includes(':id') && !(as === 'token' && route.access === 'session')) {
          // Another inbox's conversation, file or channel does not exist for this agent: 404, never 403.
          expect(res.statusCode, what).toBe(404);
        }
      }
    }
    // Nothing changed in inbox B.
    const row = await app.sparsam.store.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', convB.id)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('open');
    expect(row.assignee_id).toBeNull();
    expect(JSON.parse(row.labels)).toEqual(['Geheimprojekt']);
    expect(row.unread).toBe(2);
    expect(row.snoozed_until).toBeNull();
    const messages = await app.sparsam.store.db
      .selectFrom('messages')
      .select('direction')
      .where('conversation_id', '=', convB.id)
      .execute();
    expect(messages.map((m) => m.direction)).toEqual(['note']);
  });

  it('gives the same ids to a member of inbox B (the 404s above are not for bad ids)', async () => {
    // The admins add the label B uses to their list (after the walk, which must not find it anywhere).
    expect((await admin.post('/api/v1/labels', { name: 'Geheimprojekt' })).statusCode).toBe(201);
    expect((await agentB.get(`/api/v1/conversations/${convB.id}`)).statusCode).toBe(200);
    expect((await agentB.get(`/api/v1/channels/wa-verkauf/templates`)).json().items).toHaveLength(1);
    expect(
      (await agentB.post(`/api/v1/conversations/${convB.id}/labels`, { labels: ['Geheimprojekt'] })).statusCode,
    ).toBe(200);
    expect((await agentB.get(`/api/v1/conversations/${convA}`)).statusCode).toBe(404);
  });

  it("keeps another inbox's snoozed conversations out of the Snoozed list; only its members snooze and wake it", async () => {
    const snoozed = await agentB.post(`/api/v1/conversations/${convB.id}/snooze`, { preset: 'in-1-hour' });
    expect(snoozed.statusCode).toBe(200);
    const listed = async (who: Browser) =>
      ((await who.get('/api/v1/conversations?view=snoozed')).json().items as { id: string }[]).map((c) => c.id);
    expect(await listed(agentB)).toContain(convB.id);
    expect(await listed(agentA)).not.toContain(convB.id);
    expect((await agentA.post(`/api/v1/conversations/${convB.id}/unsnooze`)).statusCode).toBe(404);
    expect(await listed(agentB)).toContain(convB.id);
    expect((await agentB.post(`/api/v1/conversations/${convB.id}/unsnooze`)).statusCode).toBe(200);
    expect(await listed(agentB)).not.toContain(convB.id);
  });

  it('lists, counts and filters only the own inboxes; admins see all', async () => {
    for (const view of ['all', 'unassigned', 'closed', 'mine', 'snoozed']) {
      const items = (await agentA.get(`/api/v1/conversations?view=${view}`)).json().items as { id: string }[];
      expect(items.some((c) => c.id === convB.id)).toBe(false);
    }
    const listA = (await agentA.get('/api/v1/conversations')).json().items as { id: string; inboxId: string }[];
    expect(listA.map((c) => c.id)).toContain(convA);
    expect(new Set(listA.map((c) => c.inboxId))).toEqual(new Set(['werkstatt']));
    expect((await agentA.get(`/api/v1/conversations?q=${convB.seq}`)).json().items).toEqual([]);
    expect((await agentA.get('/api/v1/conversations?channel=wa-verkauf')).json().items).toEqual([]);
    // The label list is the admins' list for everyone; which conversation carries which label stays in its inbox.
    expect((await agentA.get('/api/v1/labels')).json().items).toEqual(['Bremsen', 'Geheimprojekt']);
    expect((await agentA.get('/api/v1/conversations?label=Geheimprojekt')).json().items).toEqual([]);
    const viaToken = await app.sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/conversations',
      headers: { authorization: `Bearer ${tokenA}` },
    });
    expect((viaToken.json().items as { id: string }[]).map((c) => c.id)).toEqual([convA]);
    const all = (await admin.get('/api/v1/conversations')).json().items as { id: string }[];
    expect(all.map((c) => c.id)).toEqual(expect.arrayContaining([convA, convB.id]));
    // Colleagues: agent A sees admins and colleagues of the workshop, not the sales agent.
    const members = (await agentA.get('/api/v1/team/members')).json().items as { id: string; inboxIds: string[] }[];
    expect(members.map((m) => m.id)).toContain(agentAId);
    expect(members.map((m) => m.id)).not.toContain(agentBId);
    expect(members.every((m) => m.inboxIds.every((i) => i === 'werkstatt'))).toBe(true);
  });

  it('refuses to assign a conversation to an agent who is not in its inbox', async () => {
    const res = await admin.post(`/api/v1/conversations/${convA}/assign`, { userId: agentBId });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.reason).toBe('not-member');
    expect((await admin.post(`/api/v1/conversations/${convA}/assign`, { userId: agentAId })).statusCode).toBe(200);
  });

  it('streams no event of inbox B to agent A while B gets messages, and A’s own events arrive', async () => {
    const address = await app.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/api/v1/events`, { headers: { cookie: `sparsam_session=${agentA.cookie}` } });
    expect(res.status).toBe(200);
    const tokenRes = await fetch(`${address}/api/v1/events`, { headers: { authorization: `Bearer ${tokenA}` } });
    expect(tokenRes.status).toBe(200);
    const streams = [res, tokenRes].map((r) => ({ reader: r.body!.getReader(), text: '' }));
    const decoder = new TextDecoder();
    const readUntil = async (s: (typeof streams)[number], needle: string) => {
      while (!s.text.includes(needle)) {
        const { value, done } = await s.reader.read();
        if (done) return;
        s.text += decoder.decode(value);
      }
    };
    for (const s of streams) await readUntil(s, ': connected');
    // Inbox B is busy: messages arrive, a colleague writes notes, labels and assigns.
    for (let i = 0; i < 3; i++) {
      app.sparsam.events.publish({
        type: 'message.created',
        inboxId: 'verkauf',
        conversationId: convB.id,
        messageId: newId(),
      });
    }
    expect((await agentB.post(`/api/v1/conversations/${convB.id}/notes`, { text: 'für @agent-a?' })).statusCode).toBe(
      201,
    );
    expect((await admin.post(`/api/v1/conversations/${convB.id}/assign`, { userId: agentBId })).statusCode).toBe(200);
    // Then something in A's inbox: it must arrive, and nothing of B before it.
    expect((await admin.post(`/api/v1/conversations/${convA}/notes`, { text: 'Werkstatt-Notiz' })).statusCode).toBe(
      201,
    );
    for (const s of streams) {
      await readUntil(s, convA);
      await s.reader.cancel();
      expect(s.text).toContain('event: message.created');
      for (const secret of secrets()) expect(s.text.includes(secret), `stream leaks ${secret}`).toBe(false);
    }
  });

  it('changes take effect at once: removed from the inbox, the agent sees nothing of it any more', async () => {
    expect((await agentA.get(`/api/v1/conversations/${convA}`)).statusCode).toBe(200);
    expect((await admin.request('PUT', `/api/v1/users/${agentAId}/inboxes`, { inboxIds: [] })).statusCode).toBe(200);
    expect((await agentA.get(`/api/v1/conversations/${convA}`)).statusCode).toBe(404);
    expect((await agentA.get('/api/v1/conversations')).json().items).toEqual([]);
    const unknown = await admin.request('PUT', `/api/v1/users/${agentAId}/inboxes`, { inboxIds: ['nope'] });
    expect(unknown.statusCode).toBe(400);
    expect(
      (await admin.request('PUT', `/api/v1/users/${agentAId}/inboxes`, { inboxIds: ['werkstatt'] })).statusCode,
    ).toBe(200);
    const audit = await app.sparsam.store.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'user.inboxes')
      .execute();
    expect(audit.length).toBeGreaterThanOrEqual(4);
  });
});
