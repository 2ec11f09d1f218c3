import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { closeInstances, configYaml, startInstance, startWhatsAppSimulator, until } from '../support/instances.ts';
import { createPgDatabase, describeEachStore, postgresAvailable } from '../support/stores.ts';

/**
 * Channels managed in the admin screen: created, changed and removed without a restart, secrets sealed and never
 * shown again, declared channels read-only, removal erasing what the channel brought in.
 */

const NUMBER_ID = '106540352299999';
const ACCESS = 'ui-access-token-7f3a9c2e1b';
const APP_SECRET = 'ui-app-secret-5d8e1f0a9b7c';
const NEW_CUSTOMER = '4915199887766';

describeEachStore('channels managed in the admin screen', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  const create = (body: Record<string, unknown>, token = w.adminToken) =>
    w.api('POST', '/api/v1/admin/channels', body, token);
  const waDraft = (extra: Record<string, unknown> = {}) => ({
    id: 'wa-second',
    kind: 'whatsapp-cloud',
    inboxId: 'service',
    settings: { phoneNumberId: NUMBER_ID, graphBaseUrl: w.graph.url },
    secrets: { accessToken: ACCESS, appSecret: APP_SECRET },
    ...extra,
  });
  const webhook = (channel: string, body: unknown, secret = APP_SECRET) => {
    const raw = JSON.stringify(body);
    return w.sparsam.http.inject({
      method: 'POST',
      url: `/webhooks/whatsapp/${channel}`,
      payload: raw,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(secret, raw) },
    });
  };
  const rowsOf = async (channelId: string) => ({
    contacts: (
      await w.sparsam.store.db.selectFrom('contacts').select('id').where('channel_id', '=', channelId).execute()
    ).length,
    conversations: (
      await w.sparsam.store.db.selectFrom('conversations').select('id').where('channel_id', '=', channelId).execute()
    ).length,
    messages: (
      await w.sparsam.store.db.selectFrom('messages').select('id').where('channel_id', '=', channelId).execute()
    ).length,
  });

  it('offers a form per kind, derived from its configuration', async () => {
    const res = await w.api('GET', '/api/v1/admin/channel-kinds', undefined, w.adminToken);
    expect(res.statusCode).toBe(200);
    const kinds = res.json().items as { kind: string; fields: { name: string; type: string; required: boolean }[] }[];
    expect(kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(['whatsapp-cloud', 'dialog360', 'telegram', 'sms']),
    );
    const wa = kinds.find((k) => k.kind === 'whatsapp-cloud')!;
    expect(wa.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'phoneNumberId', type: 'text', required: true }),
        expect.objectContaining({ name: 'accessToken', type: 'secret', required: true }),
        expect.objectContaining({
          name: 'graphBaseUrl',
          type: 'url',
          required: false,
          default: 'https://graph.facebook.com',
        }),
        expect.objectContaining({ name: 'messagesPerSecond', type: 'number', max: 1000 }),
      ]),
    );
    expect(wa.fields.map((f) => f.name)).not.toContain('templates');
    expect((await w.api('GET', '/api/v1/admin/channel-kinds', undefined, w.agentToken)).statusCode).toBe(403);
  });

  it('creates a channel that takes webhooks at once, with its verify token shown once and secrets sealed', async () => {
    expect((await create(waDraft(), w.agentToken)).statusCode).toBe(403);
    expect((await create(waDraft(), w.dpoToken)).statusCode).toBe(403);
    const res = await create(waDraft());
    expect(res.statusCode).toBe(201);
    const created = res.json() as { id: string; webhookUrl: string; generated: { verifyToken: string } };
    expect(created.webhookUrl).toMatch(/\/webhooks\/whatsapp\/wa-second$/);
    expect(created.generated.verifyToken).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Meta's handshake with the generated token, then a customer's first message: no restart in between.
    const hs = await w.sparsam.http.inject({
      method: 'GET',
      url: `/webhooks/whatsapp/wa-second?hub.mode=subscribe&hub.verify_token=${created.generated.verifyToken}&hub.challenge=42`,
    });
    expect(hs.statusCode).toBe(200);
    expect(hs.body).toBe('42');
    expect(
      (await webhook('wa-second', textMessage(w.clock, 'wamid.UI1', 'Hallo', NEW_CUSTOMER, NUMBER_ID), 'forged'))
        .statusCode,
    ).toBe(401);
    expect(
      (await webhook('wa-second', textMessage(w.clock, 'wamid.UI1', 'Hallo', NEW_CUSTOMER, NUMBER_ID))).statusCode,
    ).toBe(200);
    await w.drain();
    expect(await rowsOf('wa-second')).toMatchObject({ contacts: 1, conversations: 1 });
    // The privacy notice went out through the new channel's own number and token.
    expect(w.graph.sends.some((s) => s.to === NEW_CUSTOMER)).toBe(true);

    // Listed with its source and a hint of the verify token; the secrets are never shown again.
    const list = await w.api('GET', '/api/v1/admin/channels', undefined, w.adminToken);
    const item = (list.json().items as { id: string; source: string; verifyTokenHint: string | null }[]).find(
      (c) => c.id === 'wa-second',
    )!;
    expect(item.source).toBe('ui');
    expect(item.verifyTokenHint).toMatch(/\(32\)$/);
    const detail = await w.api('GET', '/api/v1/admin/channels/wa-second', undefined, w.adminToken);
    expect(detail.json()).toMatchObject({
      kind: 'whatsapp-cloud',
      settings: { phoneNumberId: NUMBER_ID },
      secretsSet: ['accessToken', 'appSecret', 'verifyToken'],
    });
    for (const body of [list.body, detail.body]) {
      for (const secret of [ACCESS, APP_SECRET, created.generated.verifyToken]) expect(body).not.toContain(secret);
    }
    const row = await w.sparsam.store.db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', 'wa-second')
      .executeTakeFirstOrThrow();
    expect(row.source).toBe('ui');
    expect(row.settings).not.toContain(ACCESS);
    expect(Buffer.from(row.secrets_enc!).toString('latin1')).not.toContain(APP_SECRET);
    if (dialect === 'sqlite') {
      // The database files as a backup would copy them: no secret in plain.
      for (const file of readdirSync(w.dataDir).filter((f) => f.startsWith('sparsam.db'))) {
        const raw = readFileSync(path.join(w.dataDir, file)).toString('latin1');
        for (const secret of [ACCESS, APP_SECRET, created.generated.verifyToken]) expect(raw).not.toContain(secret);
      }
    }
    const audit = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-second', undefined, w.dpoToken)).json()
      .items as { action: string; details: Record<string, unknown> }[];
    expect(audit.map((a) => a.action)).toContain('channel.created');
    expect(JSON.stringify(audit)).not.toContain(ACCESS);
  });

  it('refuses bad drafts with the field named and changes nothing', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [waDraft({ settings: { phoneNumberId: 'abc' } }), 400, 'phoneNumberId'],
      [waDraft({ secrets: { accessToken: ACCESS } }), 400, 'appSecret'],
      [waDraft({ secrets: { accessToken: 'env:WA_TOKEN', appSecret: APP_SECRET } }), 400, 'accessToken'],
      [waDraft({ settings: { phoneNumberId: NUMBER_ID, colour: 'red' } }), 400, 'colour'],
      [waDraft({ kind: 'carrier-pigeon' }), 400, 'kind'],
      [waDraft({ inboxId: 'nope' }), 400, 'inbox'],
      [waDraft({ id: 'wa-main' }), 409, 'configuration file'],
      [waDraft({ id: 'Not An Id' }), 400, 'id'],
    ];
    for (const [body, status, mention] of cases) {
      const res = await create(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.body).toContain(mention);
      expect(res.body).not.toContain(ACCESS);
    }
    expect((await create(waDraft())).statusCode).toBe(201);
    expect((await create(waDraft())).statusCode).toBe(409);
    const ids = (await w.sparsam.store.db.selectFrom('channels').select('id').execute()).map((r) => r.id).sort();
    expect(ids).toEqual(['wa-main', 'wa-second']);
  });

  it('changes settings and replaces only the secrets given; declared channels stay read-only', async () => {
    await create(
      waDraft({ secrets: { accessToken: ACCESS, appSecret: APP_SECRET, verifyToken: 'my-verify-token-1' } }),
    );
    const put = await w.api(
      'PUT',
      '/api/v1/admin/channels/wa-second',
      {
        settings: { phoneNumberId: NUMBER_ID, graphBaseUrl: w.graph.url, messagesPerSecond: 20 },
        secrets: { accessToken: 'ui-access-token-rotated-9' },
      },
      w.adminToken,
    );
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ settings: { messagesPerSecond: 20 } });
    expect(put.body).not.toContain('rotated');
    // The old app secret still verifies webhooks; the new access token is the one sparsam now sends with.
    expect(
      (await webhook('wa-second', textMessage(w.clock, 'wamid.UI2', 'Hallo', NEW_CUSTOMER, NUMBER_ID))).statusCode,
    ).toBe(200);
    await w.drain();
    const test = await w.api('POST', '/api/v1/admin/channels/wa-second/test', undefined, w.adminToken);
    expect(test.statusCode).toBe(200);
    const audit = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-second', undefined, w.dpoToken)).json()
      .items as { action: string; details: Record<string, unknown> }[];
    expect(audit[0]).toMatchObject({
      action: 'channel.updated',
      details: { settings: 'messagesPerSecond', secretsReplaced: 'accessToken' },
    });
    for (const [method, url, body] of [
      ['PUT', '/api/v1/admin/channels/wa-main', { settings: {} }],
      ['DELETE', '/api/v1/admin/channels/wa-main', { confirm: 'wa-main' }],
    ] as const) {
      const res = await w.api(method, url, body, w.adminToken);
      expect(res.statusCode).toBe(409);
      expect(res.body).toContain('configuration file');
    }
    expect((await w.api('PUT', '/api/v1/admin/channels/nope', { settings: {} }, w.adminToken)).statusCode).toBe(404);
  });

  it('registers the webhook of a Telegram channel created here with Telegram, with its generated secret token', async () => {
    const calls: { path: string; body: Record<string, unknown> }[] = [];
    const telegram = Fastify({ logger: false });
    telegram.post('/*', async (request) => {
      calls.push({ path: request.url, body: request.body as Record<string, unknown> });
      return { ok: true, result: true };
    });
    const apiBaseUrl = await telegram.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await create({
        id: 'tg-service',
        kind: 'telegram',
        inboxId: 'service',
        settings: { apiBaseUrl },
        secrets: { botToken: '123456:telegram-bot-token-abc' },
      });
      expect(res.statusCode).toBe(201);
      const secretToken = (res.json() as { generated: { secretToken: string } }).generated.secretToken;
      expect(secretToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const reg = await w.api('POST', '/api/v1/admin/channels/tg-service/register-webhook', undefined, w.adminToken);
      expect(reg.statusCode).toBe(200);
      expect(reg.json().url).toMatch(/\/webhooks\/telegram\/tg-service$/);
      expect(calls.at(-1)).toMatchObject({
        path: '/bot123456:telegram-bot-token-abc/setWebhook',
        body: { secret_token: secretToken },
      });
      // A kind whose URL goes into the provider's console has nothing to register.
      const wa = await w.api('POST', '/api/v1/admin/channels/wa-main/register-webhook', undefined, w.adminToken);
      expect(wa.statusCode).toBe(400);
      // A provider that refuses: 502, and the bot token is not in the answer.
      await telegram.close();
      const refused = await w.api(
        'POST',
        '/api/v1/admin/channels/tg-service/register-webhook',
        undefined,
        w.adminToken,
      );
      expect(refused.statusCode).toBe(502);
      expect(refused.body).not.toContain('telegram-bot-token');
    } finally {
      await telegram.close();
    }
  });

  it('removes a channel only with its id typed, erasing its contacts and conversations', async () => {
    await create(waDraft());
    await webhook('wa-second', textMessage(w.clock, 'wamid.UI3', 'Hallo', NEW_CUSTOMER, NUMBER_ID));
    await webhook('wa-second', buttonReply(w.clock, 'wamid.UI4', CONSENT_AGREE_ID, 'Zustimmen', NEW_CUSTOMER));
    await w.drain();
    const before = await rowsOf('wa-second');
    expect(before.conversations).toBe(1);
    expect(before.messages).toBeGreaterThan(0);
    const conversationId = (
      await w.sparsam.store.db
        .selectFrom('conversations')
        .select('id')
        .where('channel_id', '=', 'wa-second')
        .executeTakeFirstOrThrow()
    ).id;

    const wrong = await w.api('DELETE', '/api/v1/admin/channels/wa-second', { confirm: 'wa-secnod' }, w.adminToken);
    expect(wrong.statusCode).toBe(400);
    expect(await rowsOf('wa-second')).toEqual(before);
    expect(
      (await w.api('DELETE', '/api/v1/admin/channels/wa-second', { confirm: 'wa-second' }, w.agentToken)).statusCode,
    ).toBe(403);

    const res = await w.api('DELETE', '/api/v1/admin/channels/wa-second', { confirm: 'wa-second' }, w.adminToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'wa-second', contactsErased: 1, conversationsErased: 1 });
    expect(await rowsOf('wa-second')).toEqual({ contacts: 0, conversations: 0, messages: 0 });
    expect(await w.sparsam.keys.existingDataKey('conversation', conversationId)).toBeUndefined();
    expect(
      await w.sparsam.store.db.selectFrom('channels').select('id').where('id', '=', 'wa-second').execute(),
    ).toEqual([]);
    // Gone at once: its webhook URL no longer answers.
    expect(
      (await webhook('wa-second', textMessage(w.clock, 'wamid.UI5', 'Hallo', NEW_CUSTOMER, NUMBER_ID))).statusCode,
    ).toBe(404);
    const audit = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-second', undefined, w.dpoToken)).json()
      .items as { action: string }[];
    expect(audit[0]!.action).toBe('channel.removed');
  });
});

describe.runIf(postgresAvailable)('a channel created at one instance [postgres]', () => {
  it('is served by every instance at once, and gone from every instance once removed', async () => {
    const db = await createPgDatabase();
    const sim = await startWhatsAppSimulator({ autoStatuses: false });
    const masterKey = Buffer.alloc(32, 7).toString('base64');
    const start = () =>
      startInstance({
        yaml: configYaml(sim.url),
        masterKey,
        databaseUrl: db.url,
        dataDirPrefix: 'sparsam-managed-',
        logLevel: 'silent',
      });
    const a = await start();
    const b = await start();
    try {
      const token = (await a.sparsam.accounts.createApiToken('managed-admin', 'admin')).token;
      const api = (method: string, url: string, body: unknown) =>
        fetch(`${a.url}${url}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const res = await api('POST', '/api/v1/admin/channels', {
        id: 'wa-second',
        kind: 'whatsapp-cloud',
        inboxId: 'service',
        settings: { phoneNumberId: NUMBER_ID, graphBaseUrl: sim.url },
        secrets: { accessToken: ACCESS, appSecret: APP_SECRET },
      });
      expect(res.status).toBe(201);
      await until('B runs the new channel', () => b.sparsam.channels.get('wa-second') !== undefined, 5000, 20);
      expect(b.sparsam.channels.get('wa-second')).toBeDefined();
      expect((await api('DELETE', '/api/v1/admin/channels/wa-second', { confirm: 'wa-second' })).status).toBe(200);
      await until('B dropped the channel', () => b.sparsam.channels.get('wa-second') === undefined, 5000, 20);
    } finally {
      await closeInstances(a, b);
      await sim.close();
      await db.drop();
    }
  });
});
