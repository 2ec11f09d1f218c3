import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { Browser, createUser, loginEnrolledAdmin } from '../web/web-support.ts';

const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: string; privateKey: ECDH; authSecret: string }): Buffer;
};

/** What the customer writes: none of it may appear in a notification. */
const SECRET_TEXT = 'Bremsen quietschen seit Montag';
const CUSTOMER_NAME = 'Erika Mustermann';
const SMTP_PASSWORD = 'smtp-pass-5f1c2a9e';

interface PushRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A browser's push subscription made like the Push API does: a P-256 key pair and a 16-byte auth secret. */
function browserKeys(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16).toString('base64url');
  return {
    ecdh,
    auth,
    json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth } },
  };
}

/** Checks the VAPID JWT of a push request (ES256 over our public key, audience = the push service's origin). */
function verifyVapid(request: PushRequest, vapidPublicKey: string, origin: string): Record<string, unknown> {
  const header = String(request.headers.authorization);
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  expect(match, header).not.toBeNull();
  const [, jwt, k] = match!;
  expect(k).toBe(vapidPublicKey);
  const [h, p, s] = jwt!.split('.');
  const raw = Buffer.from(vapidPublicKey, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s!, 'base64url'),
  );
  expect(ok).toBe(true);
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
  expect(claims.aud).toBe(origin);
  expect(Number(claims.exp)).toBeGreaterThan(Date.now() / 1000);
  return claims;
}

describeEachStore('staff notifications (Web Push, e-mail)', (dialect) => {
  let w: World;
  let push: Server;
  let pushUrl: string;
  const pushed: PushRequest[] = [];
  /** Status the local push service answers per path (default 201). */
  const pushStatus = new Map<string, number>();
  let smtp: SMTPServer;
  let smtpPort: number;
  const mails: { from: string; to: string[]; raw: string; user: string | undefined }[] = [];
  let agent: Browser;
  let agentId: string;
  let admin: Browser;
  let adminId: string;
  let agentDevice: ReturnType<typeof browserKeys>;
  let vapidPublicKey: string;
  let conversationId: string;

  beforeAll(async () => {
    push = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        pushed.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = pushStatus.get(req.url ?? '') ?? 201;
        res.end();
      });
    });
    await new Promise<void>((resolve) => push.listen(0, '127.0.0.1', resolve));
    pushUrl = `http://127.0.0.1:${(push.address() as AddressInfo).port}`;

    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'sparsam' && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;

    w = await startWorld(dialect, { allowLoopbackPushEndpoints: true });
    agentId = (await createUser(w.sparsam, 'agent@autohaus.example', 'agent')).id;
    adminId = (await createUser(w.sparsam, 'admin@autohaus.example', 'admin')).id;
    await createUser(w.sparsam, 'dpo@autohaus.example', 'dpo');
    agent = new Browser(w.sparsam);
    expect((await agent.login('agent@autohaus.example')).json().step).toBe('done');
    admin = (await loginEnrolledAdmin(w.sparsam, w.clock, 'admin@autohaus.example')).browser;
  }, 60_000);

  afterAll(async () => {
    await w?.close();
    await new Promise((resolve) => push?.close(resolve));
    await new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve()));
  });

  const pushesTo = (path: string) => pushed.filter((p) => p.path === path);
  const decrypt = (request: PushRequest, device: ReturnType<typeof browserKeys>) =>
    JSON.parse(
      ece.decrypt(request.body, { version: 'aes128gcm', privateKey: device.ecdh, authSecret: device.auth }).toString(),
    ) as { title: string; body: string; url: string; tag: string; kind: string };

  it('creates a VAPID key pair once and keeps the private key sealed', async () => {
    const res = await agent.get('/api/v1/me/notifications');
    expect(res.statusCode).toBe(200);
    vapidPublicKey = res.json().vapidPublicKey as string;
    expect(Buffer.from(vapidPublicKey, 'base64url')).toHaveLength(65);
    expect(res.json().prefs.events['message.new']).toBe(true);
    const rows = await w.sparsam.store.db
      .selectFrom('settings')
      .select(['key', 'value'])
      .where('key', 'like', 'notifications.vapid%')
      .execute();
    const sealed = rows.find((r) => r.key === 'notifications.vapid.private')!.value;
    // A raw private key is 32 bytes (43 base64url characters); the sealed one carries IV and tag.
    expect(Buffer.from(sealed, 'base64').length).toBeGreaterThan(32 + 28);
    await w.sparsam.notifications.init();
    expect(w.sparsam.notifications.vapidPublicKey).toBe(vapidPublicKey);
  });

  it('stores subscriptions sealed and refuses endpoints that are not push services', async () => {
    agentDevice = browserKeys(`${pushUrl}/push/agent-phone`);
    expect((await agent.post('/api/v1/me/push-subscriptions', agentDevice.json)).statusCode).toBe(201);
    // Subscribing the same browser again replaces it instead of adding a second device.
    expect((await agent.post('/api/v1/me/push-subscriptions', agentDevice.json)).statusCode).toBe(201);
    expect((await agent.get('/api/v1/me/notifications')).json().pushDevices).toBe(1);
    const rows = await w.sparsam.store.db.selectFrom('push_subscriptions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0]!.subscription_enc).toString('latin1')).not.toContain('agent-phone');

    const bad = [
      { ...agentDevice.json, endpoint: 'http://push.example.com/x' },
      { ...agentDevice.json, endpoint: 'https://10.0.0.1/x' },
      { ...agentDevice.json, keys: { p256dh: 'AAAA', auth: agentDevice.auth } },
      { endpoint: 'not a url', keys: agentDevice.json.keys },
    ];
    for (const body of bad) expect((await agent.post('/api/v1/me/push-subscriptions', body)).statusCode).toBe(400);
    // API tokens and data protection officers have no push devices.
    expect((await w.api('GET', '/api/v1/me/notifications', undefined, w.agentToken)).statusCode).toBe(403);
    expect((await w.api('GET', '/api/v1/me/notifications', undefined, w.dpoToken)).statusCode).toBe(403);
  });

  it('keeps the SMTP password sealed, sends a test e-mail, and names a refusal', async () => {
    const settings = {
      enabled: true,
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      user: 'sparsam',
      from: 'sparsam@autohaus.example',
    };
    expect((await agent.request('PUT', '/api/v1/admin/notifications/email', settings)).statusCode).toBe(403);
    const wrong = await admin.request('PUT', '/api/v1/admin/notifications/email', { ...settings, password: 'wrong' });
    expect(wrong.json()).toMatchObject({ passwordSet: true, host: '127.0.0.1' });
    expect(JSON.stringify(wrong.json())).not.toContain('wrong');
    const refused = await admin.post('/api/v1/admin/notifications/email/test', {});
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.message).toContain('535');

    const saved = await admin.request('PUT', '/api/v1/admin/notifications/email', {
      ...settings,
      password: SMTP_PASSWORD,
    });
    expect(saved.statusCode).toBe(200);
    const stored = await w.sparsam.store.db.selectFrom('settings').select('value').execute();
    expect(stored.map((r) => r.value).join('\n')).not.toContain(SMTP_PASSWORD);
    // Saving without a password keeps the stored one.
    await admin.request('PUT', '/api/v1/admin/notifications/email', settings);
    const test = await admin.post('/api/v1/admin/notifications/email/test', {});
    expect(test.statusCode, test.body).toBe(200);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: ['admin@autohaus.example'], user: 'sparsam' });
    expect(mails[0]!.raw).toContain('Test-E-Mail');
    mails.length = 0;
  });

  it('notifies of a new conversation by push and e-mail without text, name or number', async () => {
    const prefs = (await agent.get('/api/v1/me/notifications')).json().prefs;
    expect((await agent.request('PUT', '/api/v1/me/notifications', { ...prefs, email: true })).statusCode).toBe(200);

    await w.webhook(textMessage(w.clock, 'wamid.N1', SECRET_TEXT));
    await w.drain();
    // Waiting for consent the conversation is invisible to staff: nobody is told yet.
    expect(pushed).toHaveLength(0);
    await w.webhook(buttonReply(w.clock, 'wamid.N2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();

    const toAgent = pushesTo('/push/agent-phone');
    expect(toAgent).toHaveLength(1);
    verifyVapid(toAgent[0]!, vapidPublicKey, pushUrl);
    expect(toAgent[0]!.headers['content-encoding']).toBe('aes128gcm');
    expect(toAgent[0]!.body.toString('latin1')).not.toContain('Anfrage');
    const payload = decrypt(toAgent[0]!, agentDevice);
    expect(payload.body).toBe('Neue Anfrage: Anfrage 1 (service)');
    conversationId = payload.url.split('/').pop()!;
    expect(payload.url).toBe(`/inbox/${conversationId}`);

    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['agent@autohaus.example']);
    expect(mails[0]!.raw).toContain('Subject: sparsam: Neue Anfrage: Anfrage 1 (service)');
    for (const leak of [SECRET_TEXT, 'Bremsen', CUSTOMER_NAME, 'Erika', CUSTOMER, CUSTOMER.slice(-6)]) {
      expect(JSON.stringify(payload)).not.toContain(leak);
      expect(mails[0]!.raw).not.toContain(leak);
    }
  });

  it('tells the assignee of the assignment and of new messages in their conversation only', async () => {
    pushed.length = 0;
    mails.length = 0;
    const adminDevice = browserKeys(`${pushUrl}/push/admin-laptop`);
    expect((await admin.post('/api/v1/me/push-subscriptions', adminDevice.json)).statusCode).toBe(201);

    // Before anyone holds the conversation, a customer's message concerns nobody: no push, and no job written.
    const dispatchJobs = async () =>
      (await w.sparsam.store.db.selectFrom('jobs').select('id').where('queue', '=', 'notify-dispatch').execute())
        .length;
    const jobsBefore = await dispatchJobs();
    await w.webhook(textMessage(w.clock, 'wamid.N2B', 'Noch eine Frage'));
    await w.drain();
    expect(pushed).toHaveLength(0);
    expect(await dispatchJobs()).toBe(jobsBefore);

    const assign = await admin.post(`/api/v1/conversations/${conversationId}/assign`, { userId: agentId });
    expect(assign.statusCode, assign.body).toBe(200);
    await w.drain();
    expect(pushesTo('/push/admin-laptop')).toHaveLength(0);
    expect(pushesTo('/push/agent-phone').map((p) => decrypt(p, agentDevice).body)).toEqual([
      'Anfrage 1 (service) wurde Ihnen zugewiesen',
    ]);

    pushed.length = 0;
    const jobsAssigned = await dispatchJobs();
    await w.webhook(textMessage(w.clock, 'wamid.N3', `${SECRET_TEXT} und klappern`));
    await w.drain();
    expect(await dispatchJobs()).toBe(jobsAssigned + 1);
    expect(pushesTo('/push/admin-laptop')).toHaveLength(0);
    const [message] = pushesTo('/push/agent-phone');
    expect(decrypt(message!, agentDevice)).toMatchObject({
      title: 'sparsam',
      body: 'Neue Nachricht in Anfrage 1 (service)',
      kind: 'message.new',
    });
    expect(JSON.stringify(decrypt(message!, agentDevice))).not.toContain('klappern');

    // A reply of the team is no news to anyone.
    pushed.length = 0;
    const reply = await agent.post(`/api/v1/conversations/${conversationId}/messages`, { text: 'Wir schauen es an.' });
    expect(reply.statusCode, reply.body).toBeLessThan(300);
    await w.drain();
    expect(pushed).toHaveLength(0);
  });

  it('respects the chosen events, quiet hours and language', async () => {
    pushed.length = 0;
    mails.length = 0;
    const prefs = (await agent.get('/api/v1/me/notifications')).json().prefs;
    // 09:00 UTC is 10:00 in Berlin: inside 08:00–12:00.
    const quiet = { ...prefs, quietHours: { enabled: true, start: '08:00', end: '12:00', timeZone: 'Europe/Berlin' } };
    expect((await agent.request('PUT', '/api/v1/me/notifications', quiet)).statusCode).toBe(200);
    expect(
      (
        await agent.request('PUT', '/api/v1/me/notifications', {
          ...quiet,
          quietHours: { ...quiet.quietHours, timeZone: 'Mars/Base' },
        })
      ).statusCode,
    ).toBe(400);
    await w.webhook(textMessage(w.clock, 'wamid.N4', 'Noch eine Frage'));
    await w.drain();
    expect(pushed).toHaveLength(0);
    expect(mails).toHaveLength(0);

    // Out of quiet hours, but the event switched off.
    const off = { ...prefs, events: { ...prefs.events, 'message.new': false } };
    await agent.request('PUT', '/api/v1/me/notifications', off);
    await w.webhook(textMessage(w.clock, 'wamid.N5', 'Und noch eine'));
    await w.drain();
    expect(pushed).toHaveLength(0);

    // English, e-mail off: push only, in English.
    await agent.request('PATCH', '/api/v1/me', { language: 'en' });
    await agent.request('PUT', '/api/v1/me/notifications', { ...prefs, email: false });
    await w.webhook(textMessage(w.clock, 'wamid.N6', 'Hello?'));
    await w.drain();
    expect(pushesTo('/push/agent-phone').map((p) => decrypt(p, agentDevice).body)).toEqual([
      'New message in Request 1 (service)',
    ]);
    expect(mails).toHaveLength(0);
  });

  it('removes a subscription the push service has forgotten (410) and retries a busy one (503)', async () => {
    pushed.length = 0;
    pushStatus.set('/push/agent-phone', 410);
    await w.webhook(textMessage(w.clock, 'wamid.N7', 'Hallo nochmal'));
    await w.drain();
    expect(pushesTo('/push/agent-phone')).toHaveLength(1);
    expect((await agent.get('/api/v1/me/notifications')).json().pushDevices).toBe(0);

    const tablet = browserKeys(`${pushUrl}/push/agent-tablet`);
    await agent.post('/api/v1/me/push-subscriptions', tablet.json);
    pushStatus.set('/push/agent-tablet', 503);
    await w.webhook(textMessage(w.clock, 'wamid.N8', 'Hallo?'));
    await w.drain();
    expect(pushesTo('/push/agent-tablet')).toHaveLength(1);
    const job = await w.sparsam.store.db
      .selectFrom('jobs')
      .select(['status', 'attempts', 'last_error'])
      .where('queue', '=', 'notify-push')
      .where('status', '=', 'pending')
      .execute();
    expect(job).toHaveLength(1);
    expect(job[0]!.last_error).toContain('503');
    // The push service is back: the retry delivers.
    pushStatus.delete('/push/agent-tablet');
    w.clock.advance(10 * 60_000);
    await w.drain();
    expect(pushesTo('/push/agent-tablet')).toHaveLength(2);
    expect(decrypt(pushesTo('/push/agent-tablet')[1]!, tablet).body).toBe('New message in Request 1 (service)');

    // Unsubscribing removes the device.
    const removed = await agent.request('DELETE', '/api/v1/me/push-subscriptions', { endpoint: tablet.json.endpoint });
    expect(removed.json()).toEqual({ removed: true });
    expect((await agent.get('/api/v1/me/notifications')).json().pushDevices).toBe(0);
  });

  it("writes a customer message's notification with the webhook's own commit, not only from the live event", async () => {
    pushed.length = 0;
    const device = browserKeys(`${pushUrl}/push/agent-watch`);
    expect((await agent.post('/api/v1/me/push-subscriptions', device.json)).statusCode).toBe(201);
    // As if the process stopped right after the commit, before the live event reached the notifications.
    const service = w.sparsam.notifications;
    const onInboxEvent = service.onInboxEvent.bind(service);
    service.onInboxEvent = async () => undefined;
    try {
      await w.webhook(textMessage(w.clock, 'wamid.N9', 'Ist das Auto fertig?'));
    } finally {
      service.onInboxEvent = onInboxEvent;
    }
    await w.drain();
    expect(pushesTo('/push/agent-watch').map((p) => decrypt(p, device).body)).toEqual([
      'New message in Request 1 (service)',
    ]);
    await agent.request('DELETE', '/api/v1/me/push-subscriptions', { endpoint: device.json.endpoint });
  });

  it('lets other parts notify named users (mentions) through the same filters', async () => {
    pushed.length = 0;
    const adminDevice = browserKeys(`${pushUrl}/push/admin-2`);
    await admin.post('/api/v1/me/push-subscriptions', adminDevice.json);
    const queued = await w.sparsam.notifications.notify([adminId], {
      kind: 'note.mention',
      conversationId,
      eventId: 'note-1',
    });
    // The admin's laptop from before and this second browser.
    expect(queued).toBe(2);
    await w.drain();
    expect(pushesTo('/push/admin-laptop')).toHaveLength(1);
    expect(pushesTo('/push/admin-2').map((p) => decrypt(p, adminDevice).body)).toEqual([
      'Sie wurden in einer Notiz zu Anfrage 1 (service) erwähnt',
    ]);
  });
});
