import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import exifr from 'exifr';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { createSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { describeEachStore, openTestStore, type TestStore } from '../../support/stores.ts';
import { startWorld, textMessage, type World } from '../../inbox/inbox-world.ts';

const BASE = 'https://inbox.example.org';
const SITE = 'https://www.autohaus.example';
const PHOTO = path.join(import.meta.dirname, '../../fixtures/images/jpg_gps_DSCN0010.jpg');

const yaml = `
organisation:
  name: Autohaus Beispiel GmbH
  contact: datenschutz@autohaus.example
inboxes:
  - id: service
    labelPrefix: Anfrage
channels:
  - id: chat
    kind: webchat
    inbox: service
    allowedOrigins: ["${SITE}"]
    primaryColour: "#ffd400"
    greeting:
      de: Willkommen im Autohaus!
  - id: chat-tight
    kind: webchat
    inbox: service
    allowedOrigins: ["${SITE}"]
    rateLimit:
      perIpPerMinute: 6
      perTokenPerMinute: 3
`;

async function count(s: Sparsam, table: 'contacts' | 'consent_events' | 'conversations' | 'messages' | 'media') {
  const row = await s.store.db
    .selectFrom(table)
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every value of every table (and of the key store) as bytes, for the plain-text scan on PostgreSQL. */
async function dumpPostgres(s: Sparsam): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const db of [s.store.db, s.store.keys] as const) {
    const tables = await sql<{ table_schema: string; table_name: string }>`
      select table_schema, table_name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`.execute(db);
    for (const t of tables.rows) {
      const rows = await sql<
        Record<string, unknown>
      >`select * from ${sql.table(`${t.table_schema}.${t.table_name}`)}`.execute(db);
      for (const row of rows.rows) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
  }
  return Buffer.concat(parts);
}

describeEachStore('website chat over HTTP', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  let agentToken: string;
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    const config = loadConfig({
      env: { ...t.env, SPARSAM_CONFIG: '/virtual/sparsam.yaml', SPARSAM_LOG_LEVEL: 'silent', SPARSAM_BASE_URL: BASE },
      readFile: () => yaml,
    });
    sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
    await sparsam.http.ready();
    agentToken = (await sparsam.accounts.createApiToken('agent', 'agent')).token;
  });
  afterEach(async () => {
    await sparsam?.close().catch(() => undefined);
    await t?.cleanup();
  });

  function chat(
    method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS',
    url: string,
    options: { token?: string; body?: unknown; origin?: string | null; headers?: Record<string, string> } = {},
  ) {
    const origin = options.origin === undefined ? SITE : options.origin;
    return sparsam.http.inject({
      method,
      url,
      headers: {
        ...(origin ? { origin } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });
  }

  function api(method: 'GET' | 'POST', url: string, body?: unknown) {
    return sparsam.http.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${agentToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  async function accept(channel = 'chat', language: 'de' | 'en' = 'de'): Promise<string> {
    const config = await chat('GET', `/webchat/${channel}/config?lang=${language}`);
    expect(config.statusCode).toBe(200);
    const answer = await chat('POST', `/webchat/${channel}/consent`, {
      body: { language, noticeVersion: config.json().notice.version },
    });
    expect(answer.statusCode).toBe(201);
    return answer.json().token as string;
  }

  it('stores nothing before the notice is accepted, records the consent, and carries messages both ways', async () => {
    const config = await chat('GET', '/webchat/chat/config?lang=de');
    expect(config.statusCode).toBe(200);
    expect(config.headers['access-control-allow-origin']).toBe(SITE);
    expect(config.headers['set-cookie']).toBeUndefined();
    const body = config.json();
    expect(body).toMatchObject({ language: 'de', greeting: 'Willkommen im Autohaus!', paused: null });
    expect(body.notice.text).toContain('Gespräch vergessen');
    expect(body.notice.text).toContain('keine Cookies');

    // Reading the notice and trying to write first store nothing at all.
    const early = await chat('POST', '/webchat/chat/messages', { body: { clientId: 'abcdefgh1', text: 'Hallo?' } });
    expect(early.statusCode).toBe(401);
    const forged = await chat('POST', '/webchat/chat/messages', {
      token: 'A'.repeat(43),
      body: { clientId: 'abcdefgh1', text: 'Hallo?' },
    });
    expect(forged.statusCode).toBe(401);
    // A version the visitor did not see is refused: the consent on record is for the text shown.
    const stale = await chat('POST', '/webchat/chat/consent', {
      body: { language: 'de', noticeVersion: 'f'.repeat(64) },
    });
    expect(stale.statusCode).toBe(409);
    for (const table of ['contacts', 'consent_events', 'conversations', 'messages', 'media'] as const) {
      expect(await count(sparsam, table), table).toBe(0);
    }

    const token = await accept();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await count(sparsam, 'contacts')).toBe(1);
    expect(await count(sparsam, 'consent_events')).toBe(1);
    expect(await count(sparsam, 'messages')).toBe(0);
    const [grant] = await sparsam.store.db.selectFrom('consent_events').selectAll().execute();
    expect(grant).toMatchObject({ action: 'grant', purpose: 'service', method: 'widget:accept', channel_id: 'chat' });
    expect(grant!.notice_version).toBe(body.notice.version);
    // The audit entry is content-free and names the method.
    const audit = await sparsam.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'consent.grant')
      .execute();
    expect(audit).toHaveLength(1);

    const sent = await chat('POST', '/webchat/chat/messages', {
      token,
      body: { clientId: 'client-0001', text: 'Ist mein Auto fertig?' },
    });
    expect(sent.statusCode).toBe(201);
    expect(sent.json().message).toMatchObject({ from: 'visitor', text: 'Ist mein Auto fertig?', status: 'received' });
    // The same send again (a retry after a lost answer) is stored once.
    const again = await chat('POST', '/webchat/chat/messages', {
      token,
      body: { clientId: 'client-0001', text: 'Ist mein Auto fertig?' },
    });
    expect(again.statusCode).toBe(201);
    expect(again.json().message.id).toBe(sent.json().message.id);
    expect(await count(sparsam, 'messages')).toBe(1);

    // The staff see it at once under a pseudonym (consent was given in the window: no notice round trip).
    const items = (await api('GET', '/api/v1/conversations?view=all')).json().items as {
      id: string;
      label: string;
      channelKind: string;
      state: string;
    }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ channelKind: 'webchat', label: 'Anfrage 1', state: 'open' });
    const detail = (await api('GET', `/api/v1/conversations/${items[0]!.id}`)).json();
    expect(detail.messages.map((m: { text: string }) => m.text)).toEqual(['Ist mein Auto fertig?']);

    // The staff's reply goes through the outbox; the visitor sees it only once it is "sent".
    expect(
      (await api('POST', `/api/v1/conversations/${items[0]!.id}/messages`, { text: 'Ja, ab 16 Uhr.' })).statusCode,
    ).toBe(202);
    let history = (await chat('GET', '/webchat/chat/messages', { token })).json().messages as {
      id: string;
      from: string;
      text: string;
      status: string;
    }[];
    expect(history.map((m) => m.text)).toEqual(['Ist mein Auto fertig?']);
    await sparsam.jobs.drain();
    history = (await chat('GET', '/webchat/chat/messages', { token })).json().messages;
    expect(history.map((m) => [m.from, m.text, m.status])).toEqual([
      ['visitor', 'Ist mein Auto fertig?', 'received'],
      ['staff', 'Ja, ab 16 Uhr.', 'sent'],
    ]);
    const reply = history[1]!;

    // The window's acknowledgements become the delivery statuses the agent sees.
    const statusOf = async () =>
      (
        (await api('GET', `/api/v1/conversations/${items[0]!.id}`)).json().messages as { id: string; status: string }[]
      ).find((m) => m.id === reply.id)!.status;
    expect(await statusOf()).toBe('sent');
    const delivered = await chat('POST', '/webchat/chat/ack', {
      token,
      body: { messageIds: [reply.id], status: 'delivered' },
    });
    expect(delivered.json()).toEqual({ acknowledged: 1 });
    expect(await statusOf()).toBe('delivered');
    await chat('POST', '/webchat/chat/ack', { token, body: { messageIds: [reply.id], status: 'read' } });
    expect(await statusOf()).toBe('read');
    // Another visitor cannot acknowledge (or read) this conversation's messages.
    const other = await accept();
    const foreign = await chat('POST', '/webchat/chat/ack', {
      token: other,
      body: { messageIds: [reply.id], status: 'read' },
    });
    expect(foreign.json()).toEqual({ acknowledged: 0 });
    expect((await chat('GET', '/webchat/chat/messages', { token: other })).json().messages).toEqual([]);
  });

  it('sends live "sync" events on a stream authenticated by the Authorization header', async () => {
    const token = await accept();
    await chat('POST', '/webchat/chat/messages', { token, body: { clientId: 'client-0002', text: 'Hallo' } });
    const address = await sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const controller = new AbortController();
    // Without a token: refused, no stream.
    expect((await fetch(`${address}/webchat/chat/stream`, { headers: { origin: SITE } })).status).toBe(401);
    const response = await fetch(`${address}/webchat/chat/stream`, {
      headers: { authorization: `Bearer ${token}`, origin: SITE },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    await api('POST', `/api/v1/conversations/${conversation!.id}/messages`, { text: 'Antwort' });
    await sparsam.jobs.drain();
    while (!text.includes('event: sync')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toContain('event: sync');
    // The events are content-free.
    expect(text).not.toContain('Antwort');
    controller.abort();
  });

  it('answers CORS only for the configured origins and refuses other sites before anything is stored', async () => {
    const preflight = await chat('OPTIONS', '/webchat/chat/consent', {
      headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(SITE);
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('authorization');
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

    const evil = 'https://evil.example';
    const refusedPreflight = await chat('OPTIONS', '/webchat/chat/consent', { origin: evil });
    expect(refusedPreflight.statusCode).toBe(403);
    expect(refusedPreflight.headers['access-control-allow-origin']).toBeUndefined();
    const version = (await chat('GET', '/webchat/chat/config?lang=de')).json().notice.version;
    const refused = await chat('POST', '/webchat/chat/consent', {
      origin: evil,
      body: { language: 'de', noticeVersion: version },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(await count(sparsam, 'contacts')).toBe(0);
    expect(await count(sparsam, 'consent_events')).toBe(0);
    // sparsam's own origin (its chat page) is always allowed.
    const own = await chat('POST', '/webchat/chat/consent', {
      origin: BASE,
      body: { language: 'de', noticeVersion: version },
    });
    expect(own.statusCode).toBe(201);
    // Unknown chats and other kinds: 404.
    expect((await chat('GET', '/webchat/nope/config')).statusCode).toBe(404);
  });

  it('limits requests per client address and per token', async () => {
    const version = (await chat('GET', '/webchat/chat-tight/config?lang=de')).json().notice.version;
    const tokenA = (
      await chat('POST', '/webchat/chat-tight/consent', { body: { language: 'de', noticeVersion: version } })
    ).json().token as string;
    // Per token: three sends a minute; the fourth is refused and stores nothing.
    for (let i = 0; i < 3; i++) {
      const ok = await chat('POST', '/webchat/chat-tight/messages', {
        token: tokenA,
        body: { clientId: `client-a-${i}`, text: `Nachricht ${i}` },
      });
      expect(ok.statusCode).toBe(201);
    }
    const limited = await chat('POST', '/webchat/chat-tight/messages', {
      token: tokenA,
      body: { clientId: 'client-a-9', text: 'zu viel' },
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(await count(sparsam, 'messages')).toBe(3);
    // Per address: 6 requests a minute in all (config, consent and the four sends above).
    const byIp = await chat('GET', '/webchat/chat-tight/config?lang=de');
    expect(byIp.statusCode).toBe(429);
    // The other chat has its own (higher) limits.
    expect((await chat('GET', '/webchat/chat/config?lang=de')).statusCode).toBe(200);
  });

  it('passes an uploaded photo through the media sanitizer: GPS and EXIF are gone', async () => {
    const photo = readFileSync(PHOTO);
    expect(await exifr.gps(photo)).toMatchObject({ latitude: expect.any(Number) });
    const token = await accept();
    const upload = await sparsam.http.inject({
      method: 'POST',
      url: '/webchat/chat/files',
      payload: photo,
      headers: {
        origin: SITE,
        authorization: `Bearer ${token}`,
        'content-type': 'image/jpeg',
        'x-client-id': 'upload-0001',
        'x-file-name': encodeURIComponent('Kratzer vorne.jpg'),
      },
    });
    expect(upload.statusCode).toBe(201);
    const message = upload.json().message;
    expect(message).toMatchObject({
      from: 'visitor',
      file: { name: 'Kratzer vorne.jpg', state: 'stored', mimeType: 'image/jpeg' },
    });
    const back = await chat('GET', `/webchat/chat/files/${message.id}`, { token });
    expect(back.statusCode).toBe(200);
    const stored = back.rawPayload;
    expect(stored.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(await exifr.gps(stored).catch(() => undefined)).toBeUndefined();
    expect(await exifr.parse(stored).catch(() => undefined)).toBeUndefined();
    // The agent gets the same clean file.
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    const detail = (await api('GET', `/api/v1/conversations/${conversation!.id}`)).json();
    expect(detail.messages[0].media).toMatchObject({ state: 'stored', mimeType: 'image/jpeg' });
    // A file that is not what it claims is refused by its bytes.
    const fake = await sparsam.http.inject({
      method: 'POST',
      url: '/webchat/chat/files',
      payload: Buffer.from('#!/bin/sh\nrm -rf /\n'),
      headers: {
        origin: SITE,
        authorization: `Bearer ${token}`,
        'content-type': 'image/jpeg',
        'x-client-id': 'upload-0002',
      },
    });
    expect(fake.statusCode).toBe(201);
    expect(fake.json().message.file.state).toBe('rejected');
    expect((await chat('GET', `/webchat/chat/files/${fake.json().message.id}`, { token })).statusCode).toBe(404);
  });

  it('keeps no token and no text in plain text, and "forget this chat" erases everything', async () => {
    const token = await accept();
    const secret = 'Meine Fahrgestellnummer ist WVWZZZ1JZXW000001';
    await chat('POST', '/webchat/chat/messages', { token, body: { clientId: 'client-0003', text: secret } });
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    await api('POST', `/api/v1/conversations/${conversation!.id}/messages`, {
      text: 'Antwort mit Geheimnis XYZZY-4711',
    });
    await sparsam.jobs.drain();
    const needles = [token, secret, 'WVWZZZ1JZXW000001', 'XYZZY-4711'];
    const scan = async () => {
      const blobs: Buffer[] = [];
      if (dialect === 'sqlite') {
        for (const file of sparsam.store.files.filter((f) => existsSync(f))) blobs.push(readFileSync(file));
      } else blobs.push(await dumpPostgres(sparsam));
      const all = Buffer.concat(blobs);
      return needles.filter((n) => all.includes(Buffer.from(n)) || all.includes(Buffer.from(n, 'utf16le')));
    };
    // Control: the data is really there (it decrypts for the visitor).
    expect((await chat('GET', '/webchat/chat/messages', { token })).json().messages).toHaveLength(2);
    expect(await scan()).toEqual([]);

    const forget = await chat('DELETE', '/webchat/chat/visitor', { token });
    expect(forget.statusCode).toBe(204);
    expect(await count(sparsam, 'messages')).toBe(0);
    expect(await count(sparsam, 'conversations')).toBe(0);
    expect(await count(sparsam, 'contacts')).toBe(0);
    expect((await chat('GET', '/webchat/chat/messages', { token })).statusCode).toBe(401);
    const withdrawal = await sparsam.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'consent.withdraw')
      .execute();
    expect(withdrawal).toHaveLength(1);
    expect(await sparsam.audit.verify()).toMatchObject({ ok: true });
  });

  it('stores nothing while the chat is paused (kill switch) and says so in the window', async () => {
    const token = await accept();
    const admin = (await sparsam.accounts.createApiToken('admin', 'admin')).token;
    const paused = await sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/admin/channels/chat/kill-switch',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ enabled: false, reason: 'Wartung' }),
    });
    expect(paused.statusCode).toBe(200);
    const config = (await chat('GET', '/webchat/chat/config?lang=en')).json();
    expect(config.paused).toContain('not available');
    const refused = await chat('POST', '/webchat/chat/messages', {
      token,
      body: { clientId: 'client-0004', text: 'Hallo' },
    });
    expect(refused.statusCode).toBe(503);
    expect(await count(sparsam, 'messages')).toBe(0);
    const version = config.notice.version;
    expect(
      (await chat('POST', '/webchat/chat/consent', { body: { language: 'en', noticeVersion: version } })).statusCode,
    ).toBe(503);
    expect(await count(sparsam, 'contacts')).toBe(1);
  });

  it('lets only admins change colour, position and greeting, audited, and the chat follows at once', async () => {
    const admin = (await sparsam.accounts.createApiToken('admin', 'admin')).token;
    const asAdmin = (method: 'GET' | 'PUT', body?: unknown, token = admin) =>
      sparsam.http.inject({
        method,
        url: '/api/v1/admin/channels/chat/webchat',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    const initial = await asAdmin('GET');
    expect(initial.statusCode).toBe(200);
    expect(initial.json().item).toMatchObject({
      overridden: false,
      appearance: { primaryColour: '#ffd400', position: 'right', greeting: { de: 'Willkommen im Autohaus!' } },
      embedCode: `<script src="${BASE}/webchat/chat/widget.js" async></script>`,
      pageUrl: `${BASE}/webchat/chat`,
      allowedOrigins: [SITE],
    });
    const look = { primaryColour: '#1e6b3a', position: 'left', greeting: { en: 'Hi there!' } };
    expect((await asAdmin('PUT', look, agentToken)).statusCode).toBe(403);
    expect((await asAdmin('PUT', { ...look, primaryColour: 'red; } body { display:none' })).statusCode).toBe(400);
    expect((await asAdmin('PUT', { ...look, position: 'top' })).statusCode).toBe(400);
    const changed = await asAdmin('PUT', look);
    expect(changed.statusCode).toBe(200);
    expect(changed.json().item).toMatchObject({ overridden: true, appearance: look });
    const css = await chat('GET', '/webchat/chat/widget.css', { origin: null });
    expect(css.body).toContain('--sc-primary:#1e6b3a;--sc-on-primary:#ffffff');
    const config = (await chat('GET', '/webchat/chat/config?lang=en')).json();
    expect(config).toMatchObject({ position: 'left', greeting: 'Hi there!', primaryColour: '#1e6b3a' });
    const audit = await sparsam.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'channel.webchat_appearance')
      .execute();
    expect(audit).toHaveLength(1);
    const reset = await asAdmin('PUT', { reset: true });
    expect(reset.json().item).toMatchObject({ overridden: false, appearance: { primaryColour: '#ffd400' } });
    expect((await chat('GET', '/webchat/chat/config?lang=de')).json().greeting).toBe('Willkommen im Autohaus!');
    // Not a website chat: 404.
    const other = await sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/admin/channels/nope/webchat',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(other.statusCode).toBe(404);
  });

  it('serves the widget, its stylesheet with the chosen colour at a readable contrast, and its own page under a strict CSP', async () => {
    const js = await chat('GET', '/webchat/chat/widget.js', { origin: null });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.body).not.toMatch(/\beval\(|new Function\(/);
    const css = await chat('GET', '/webchat/chat/widget.css', { origin: null });
    expect(css.statusCode).toBe(200);
    // A light yellow gets near-black text, not white.
    expect(css.body).toContain('--sc-primary:#ffd400;--sc-on-primary:#111111');
    const page = await chat('GET', '/webchat/chat?lang=en', { origin: null });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('/webchat/chat/widget.js');
  });
});

describeEachStore('the WhatsApp kill switch points to the website chat', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect, {
      editYaml: (yaml) =>
        `${yaml}\n  - id: chat\n    kind: webchat\n    inbox: service\n    allowedOrigins: ["${SITE}"]\n`,
    });
  });
  afterEach(async () => {
    await w.close();
  });

  it('answers a customer of the paused WhatsApp number with a link to the chat page, storing nothing', async () => {
    const off = await w.api(
      'POST',
      '/api/v1/admin/channels/wa-main/kill-switch',
      { enabled: false, reason: 'Meta terms not accepted' },
      w.adminToken,
    );
    expect(off.statusCode).toBe(200);
    expect((await w.webhook(textMessage(w.clock, 'wamid.KS1', 'Hallo?'))).statusCode).toBe(200);
    const end = Date.now() + 5000;
    while (w.graph.sends.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(w.graph.sends).toHaveLength(1);
    const text = JSON.stringify(w.graph.sends[0]!.body);
    expect(text).toContain(`${w.sparsam.config.baseUrl}/webchat/chat`);
    expect(text).toContain('Website-Chat');
    expect(
      Number(
        (
          await w.sparsam.store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(0);
    // The link opens the chat's own page.
    const page = await w.sparsam.http.inject({ method: 'GET', url: '/webchat/chat' });
    expect(page.statusCode).toBe(200);
  });
});
