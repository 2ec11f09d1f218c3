import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { newId } from '../../src/shared/ids.ts';
import type { ConversationState } from '../../src/store/database.ts';
import { describeEachStore } from '../support/stores.ts';
import { seedConversation } from '../teams/teams-support.ts';
import { Browser, createUser, loginEnrolledAdmin, startWebApp } from './web-support.ts';

const ACCESS_TOKEN = 'EAAG-test-access-token-1234567890';

describeEachStore('team features and admin screens', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  let graph: Server;
  let graphCalls: { url: string; auth: string | undefined }[];
  let agent: Browser;
  let admin: Browser;
  let agentId: string;
  const events: InboxEvent[] = [];

  const seedOne = async (state: ConversationState = 'open', unread = 0) =>
    (await seedConversation(app.sparsam, 'service', 'wa-main', { state, unread })).id;

  beforeAll(async () => {
    graphCalls = [];
    graph = createServer((req, res) => {
      graphCalls.push({ url: req.url ?? '', auth: req.headers.authorization });
      const ok = req.headers.authorization === `Bearer ${ACCESS_TOKEN}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(ok ? { verified_name: 'Autohaus Beispiel', id: '106540352242922' } : { error: { code: 190 } }),
      );
    });
    await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
    const port = (graph.address() as { port: number }).port;
    const dir = (await import('node:os')).tmpdir();
    const file = path.join(dir, `sparsam-web-${process.pid}-${dialect}.yaml`);
    writeFileSync(
      file,
      [
        'inboxes:',
        '  - id: service',
        '    retention: { eraseAfterCloseDays: 0 }',
        'channels:',
        '  - id: wa-main',
        '    kind: whatsapp-cloud',
        '    inbox: service',
        '    phoneNumberId: "106540352242922"',
        `    accessToken: ${ACCESS_TOKEN}`,
        '    appSecret: app-secret-value-123456',
        '    verifyToken: verify-token-value-abcdef',
        `    graphBaseUrl: http://127.0.0.1:${port}`,
      ].join('\n'),
    );
    app = await startWebApp(dialect, { SPARSAM_CONFIG: file });
    app.sparsam.events.subscribe((e) => events.push(e));
    agentId = (await createUser(app.sparsam, 'agent@example.org', 'agent')).id;
    await createUser(app.sparsam, 'admin@example.org', 'admin');
    agent = new Browser(app.sparsam);
    await agent.login('agent@example.org');
    admin = (await loginEnrolledAdmin(app.sparsam, app.clock, 'admin@example.org')).browser;
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => graph?.close(resolve));
  });

  it('assigns, labels and marks read, publishing content-free events', async () => {
    const id = await seedOne('open', 3);
    for (const name of ['Werkstatt', 'Rückruf']) {
      expect((await admin.post('/api/v1/labels', { name })).statusCode).toBe(201);
    }
    events.length = 0;
    expect((await agent.post(`/api/v1/conversations/${id}/assign`, { userId: agentId })).statusCode).toBe(200);
    const labels = await agent.post(`/api/v1/conversations/${id}/labels`, {
      labels: ['Werkstatt', ' Rückruf ', 'Werkstatt'],
    });
    expect(labels.json().labels).toEqual(['Werkstatt', 'Rückruf']);
    expect((await agent.post(`/api/v1/conversations/${id}/labels`, { labels: ['<script>'] })).statusCode).toBe(400);
    expect((await agent.post(`/api/v1/conversations/${id}/read`)).statusCode).toBe(200);
    const row = await app.sparsam.store.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.assignee_id).toBe(agentId);
    expect(JSON.parse(row.labels)).toEqual(['Werkstatt', 'Rückruf']);
    expect(row.unread).toBe(0);
    expect(events.filter((e) => e.conversationId === id).map((e) => e.type)).toEqual([
      'conversation.updated',
      // The assignee is told (notifications); the event carries staff ids only.
      'conversation.assigned',
      'conversation.updated',
      'conversation.updated',
    ]);
    expect(events.find((e) => e.type === 'conversation.assigned')).toMatchObject({ assigneeId: agentId });
    expect((await agent.get('/api/v1/labels')).json().items).toEqual(expect.arrayContaining(['Rückruf', 'Werkstatt']));
    // A DPO cannot be assigned; unassigning works.
    const dpo = await createUser(app.sparsam, `dpo-${dialect}@example.org`, 'dpo');
    expect((await agent.post(`/api/v1/conversations/${id}/assign`, { userId: dpo.id })).statusCode).toBe(400);
    expect((await agent.post(`/api/v1/conversations/${id}/assign`, { userId: null })).statusCode).toBe(200);
  });

  it('stores internal notes sealed, as direction note with the author', async () => {
    const id = await seedOne();
    const text = 'Kunde ruft morgen zurück, Termin 14 Uhr';
    const res = await agent.post(`/api/v1/conversations/${id}/notes`, { text });
    expect(res.statusCode).toBe(201);
    const row = await app.sparsam.store.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', res.json().note.id)
      .executeTakeFirstOrThrow();
    expect(row.direction).toBe('note');
    expect(row.author_id).toBe(agentId);
    expect(Buffer.from(row.body_enc!).toString('latin1')).not.toContain('Termin');
    expect((await agent.post(`/api/v1/conversations/${id}/notes`, { text: '   ' })).statusCode).toBe(400);
    if (app.sparsam.http.hasRoute({ method: 'GET', url: '/api/v1/conversations/:id' })) {
      const view = await agent.get(`/api/v1/conversations/${id}`);
      const note = view.json().messages.find((m: { id: string }) => m.id === row.id);
      expect(note).toMatchObject({ direction: 'note', text });
    }
  });

  it('hides conversations that wait for consent, like unknown ones', async () => {
    const pending = await seedOne('pending_consent');
    expect((await agent.post(`/api/v1/conversations/${pending}/notes`, { text: 'x' })).statusCode).toBe(404);
    expect((await agent.post(`/api/v1/conversations/${pending}/read`)).statusCode).toBe(404);
    expect((await agent.post(`/api/v1/conversations/${newId()}/read`)).statusCode).toBe(404);
  });

  it('manages quick replies with unique /shortcuts', async () => {
    const created = await admin.post('/api/v1/quick-replies', {
      shortcut: '/Hours',
      title: 'Öffnungszeiten',
      text: 'Mo-Fr 8-17 Uhr',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().item.shortcut).toBe('hours');
    expect((await admin.post('/api/v1/quick-replies', { shortcut: 'hours', title: 'x', text: 'y' })).statusCode).toBe(
      409,
    );
    expect(
      (await admin.post('/api/v1/quick-replies', { shortcut: 'bad shortcut!', title: 'x', text: 'y' })).statusCode,
    ).toBe(400);
    const id = created.json().item.id;
    const updated = await admin.request('PUT', `/api/v1/quick-replies/${id}`, {
      shortcut: 'hours',
      title: 'Zeiten',
      text: 'Mo-Sa 8-17 Uhr',
    });
    expect(updated.json().item.text).toBe('Mo-Sa 8-17 Uhr');
    expect(
      (await agent.get('/api/v1/quick-replies')).json().items.map((q: { shortcut: string }) => q.shortcut),
    ).toEqual(['hours']);
    expect((await admin.request('DELETE', `/api/v1/quick-replies/${id}`)).statusCode).toBe(204);
    expect((await agent.get('/api/v1/quick-replies')).json().items).toEqual([]);
  });

  it('accepts shortcuts in letters of any language, as the README shows /kürzel', async () => {
    const umlaut = await admin.post('/api/v1/quick-replies', { shortcut: '/Kürzel', title: 'Kürzel', text: 'Hallo' });
    expect(umlaut.statusCode).toBe(201);
    expect(umlaut.json().item.shortcut).toBe('kürzel');
    // The same word typed with a combining diaeresis is the same shortcut.
    const decomposed = await admin.post('/api/v1/quick-replies', { shortcut: 'ku\u0308rzel', title: 'x', text: 'y' });
    expect(decomposed.statusCode).toBe(409);
    for (const shortcut of ['öffnungszeiten', 'straße_2', 'привет', 'ελληνικά', '予約']) {
      const res = await admin.post('/api/v1/quick-replies', { shortcut, title: shortcut, text: 'x' });
      expect(res.statusCode, shortcut).toBe(201);
      expect(res.json().item.shortcut).toBe(shortcut);
    }
    for (const shortcut of ['-dash', 'zwei wörter', 'a!', '']) {
      const res = await admin.post('/api/v1/quick-replies', { shortcut, title: 'x', text: 'y' });
      expect(res.statusCode, shortcut).toBe(400);
    }
    for (const q of (await admin.get('/api/v1/quick-replies')).json().items as { id: string }[]) {
      await admin.request('DELETE', `/api/v1/quick-replies/${q.id}`);
    }
  });

  it('lists channels with the webhook URL and no secrets, and tests the connection with the provider', async () => {
    const res = await admin.get('/api/v1/admin/channels');
    expect(res.statusCode).toBe(200);
    const channel = res.json().items[0];
    expect(channel.webhookUrl).toBe('http://inbox.test/webhooks/whatsapp/wa-main');
    expect(channel.verifyTokenHint).toBe('…ef (25)');
    for (const secret of [ACCESS_TOKEN, 'app-secret-value-123456', 'verify-token-value-abcdef'])
      expect(res.body).not.toContain(secret);
    const test = await admin.post('/api/v1/admin/channels/wa-main/test');
    expect(test.json()).toEqual({
      ok: true,
      reason: 'connected',
      name: 'Autohaus Beispiel',
      detail: 'connected: Autohaus Beispiel',
    });
    expect(graphCalls.at(-1)).toEqual({
      url: '/v23.0/106540352242922?fields=verified_name,quality_rating',
      auth: `Bearer ${ACCESS_TOKEN}`,
    });
    expect(test.body).not.toContain(ACCESS_TOKEN);
    expect((await admin.post('/api/v1/admin/channels/nope/test')).statusCode).toBe(404);
  });

  it('changes inbox privacy settings over the configured defaults and keeps them across a restart', async () => {
    const put = await admin.request('PUT', '/api/v1/admin/inboxes/service', {
      retention: { eraseAfterCloseDays: 7 },
      media: 'reject',
      notice: { de: 'Wir verarbeiten Ihre Nachricht nur zur Bearbeitung Ihrer Anfrage.' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().item.settings.retention.eraseAfterCloseDays).toBe(7);
    expect(put.json().item.defaults.retention.eraseAfterCloseDays).toBe(0);
    expect(
      (await admin.request('PUT', '/api/v1/admin/inboxes/service', { retention: { eraseAfterCloseDays: -1 } }))
        .statusCode,
    ).toBe(400);
    const row = await app.sparsam.inboxes.findInbox('service');
    const settings = row!.settings as {
      retention: { eraseAfterCloseDays: number };
      media: string;
      notice: { de: string };
    };
    expect(settings.retention.eraseAfterCloseDays).toBe(7);
    expect(settings.media).toBe('reject');
    expect(settings.notice.de).toMatch(/^Wir verarbeiten/);
    // The configuration file is mirrored again at start; the admin's choice stays on top.
    await app.sparsam.inboxes.syncConfigured(app.sparsam.config.inboxes, app.sparsam.config.channels, Date.now());
    expect((await app.sparsam.inboxes.findInbox('service'))!.settings.media).toBe('strip');
    // A restart mirrors the file again and then re-applies the override.
    const restarted = await (
      await import('../../src/main.ts')
    ).createSparsam(app.sparsam.config, {
      clock: app.clock,
      logger: (await import('../../src/shared/logger.ts')).createLogger({ level: 'silent' }),
    });
    try {
      expect((await restarted.inboxes.findInbox('service'))!.settings.media).toBe('reject');
    } finally {
      await restarted.close();
    }
    const reset = await admin.request('PUT', '/api/v1/admin/inboxes/service', { reset: true });
    expect(reset.json().item.settings.media).toBe('strip');
    expect(reset.json().item.overridden).toBe(false);
  });

  it('streams inbox events over SSE to a session and ends the stream at logout', async () => {
    const address = await app.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const sse = new Browser(app.sparsam);
    await sse.login('agent@example.org');
    const res = await fetch(`${address}/api/v1/events`, { headers: { cookie: `sparsam_session=${sse.cookie}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += decoder.decode(value);
      }
      return true;
    };
    await readUntil(': connected');
    app.sparsam.events.publish({
      type: 'message.created',
      inboxId: 'service',
      conversationId: 'c-1',
      messageId: 'm-1',
    });
    expect(await readUntil('event: message.created')).toBe(true);
    expect(text).toContain('"messageId":"m-1"');
    expect((await sse.post('/api/v1/auth/logout')).statusCode).toBe(204);
    const { done } = await reader.read();
    expect(done).toBe(true);
    const after = await fetch(`${address}/api/v1/events`, {
      headers: { cookie: `sparsam_session=${sse.cookie ?? 'x'}` },
    });
    expect(after.status).toBe(401);
  });

  it('keeps one server close listener however many streams open and close, and refuses the stream to the DPO', async () => {
    const address = await app.sparsam.http.listen({ port: 0, host: '127.0.0.1' }).catch(() => {
      const a = app.sparsam.http.server.address() as { port: number };
      return `http://127.0.0.1:${a.port}`;
    });
    const server = app.sparsam.http.server;
    const before = server.listenerCount('close');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const agent = new Browser(app.sparsam);
      await agent.login('agent@example.org');
      for (let round = 0; round < 3; round += 1) {
        const streams = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const controller = new AbortController();
            const res = await fetch(`${address}/api/v1/events`, {
              headers: { cookie: `sparsam_session=${agent.cookie}` },
              signal: controller.signal,
            });
            expect(res.status).toBe(200);
            await res.body!.getReader().read();
            return controller;
          }),
        );
        streams.forEach((c) => c.abort());
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(server.listenerCount('close')).toBeLessThanOrEqual(before);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
    await createUser(app.sparsam, `dpo-events-${dialect}@example.org`, 'dpo');
    // The DPO signs in with a second factor, as required for the role, and is still refused the stream.
    const { browser: dpo } = await loginEnrolledAdmin(app.sparsam, app.clock, `dpo-events-${dialect}@example.org`);
    const refused = await dpo.get('/api/v1/events');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
  });
});
