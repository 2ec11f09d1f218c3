import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_KINDS,
  CHANNEL_MODULES,
  CHANNEL_SECRET_FIELDS,
  channelConfigSchema,
  channelKindFacts,
  channelModules,
  createChannel,
  webhookUrl,
  type ChannelConfig,
} from '../../src/channels/registry.ts';
import { messengerWebhookUrl } from '../../src/channels/messenger/messenger.channel.ts';
import { smsWebhookUrl } from '../../src/channels/sms/sms.channel.ts';
import { telegramWebhookUrl } from '../../src/channels/telegram/telegram.channel.ts';
import { isSecretKey } from '../../src/config/config.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { registerRawJsonParser } from '../../src/http/raw-body.ts';
import { channelWebhookRoutes } from '../../src/http/webhooks/channel-webhook.routes.ts';
import { publicChannelSettings } from '../../src/store/sql/inbox.store.ts';

/** One minimal valid configuration per kind, parsed by the module's own schema (defaults filled in). */
const raw: Record<string, Record<string, unknown>> = {
  'whatsapp-cloud': {
    phoneNumberId: '106540352242922',
    accessToken: 'wa-token',
    appSecret: 'wa-app-secret',
    verifyToken: 'wa-verify-token',
  },
  dialog360: { apiKey: 'd360-key', webhookSecret: 'a-secret-of-16-chars' },
  telegram: { botToken: '1:tg-token', secretToken: 'tg_secret' },
  messenger: { pageId: '1234567890', pageAccessToken: 'fb-token', appSecret: 'fb-secret', verifyToken: 'fb-verify' },
  sms: { accountSid: 'AC123', authToken: 'twilio-token', fromNumber: '+4915112345678' },
  webchat: { allowedOrigins: ['https://www.autohaus.example'] },
  threema: { gatewayId: '*SPARSAM', apiSecret: 'threema-secret', privateKey: 'ab'.repeat(32) },
};

function configOf(kind: string, id = `${kind}-main`): ChannelConfig {
  return channelConfigSchema.parse({ id, inbox: 'service', kind, ...raw[kind] });
}

describe('channel modules', () => {
  it('has one module per kind, each accepting a configuration of its own kind only', () => {
    expect(CHANNEL_KINDS).toEqual([
      'whatsapp-cloud',
      'dialog360',
      'telegram',
      'messenger',
      'sms',
      'webchat',
      'threema',
    ]);
    for (const kind of CHANNEL_KINDS) {
      const module = CHANNEL_MODULES[kind];
      expect(module.kind).toBe(kind);
      expect(configOf(kind).kind).toBe(kind);
      const other = CHANNEL_KINDS.find((k) => k !== kind)!;
      expect(module.configSchema.safeParse({ id: 'x', inbox: 'service', kind: other, ...raw[kind] }).success).toBe(
        false,
      );
    }
  });

  it('builds each kind through its module, with the capabilities the module declares', () => {
    for (const module of channelModules) {
      const config = configOf(module.kind);
      const channel = createChannel(config, { fetch: globalThis.fetch });
      expect(channel.kind).toBe(module.kind);
      expect(channel.capabilities).toEqual(module.capabilities.of(config as never));
    }
  });

  it('serves the webhook URLs providers are configured with', () => {
    const base = 'https://inbox.example.org/';
    expect(webhookUrl(base, 'whatsapp-cloud', 'wa-main')).toBe('https://inbox.example.org/webhooks/whatsapp/wa-main');
    expect(webhookUrl(base, 'dialog360', 'd360')).toBe('https://inbox.example.org/webhooks/whatsapp/d360');
    expect(webhookUrl(base, 'telegram', 'tg')).toBe(telegramWebhookUrl(base, 'tg'));
    expect(webhookUrl(base, 'messenger', 'fb')).toBe(messengerWebhookUrl(base, 'fb'));
    expect(webhookUrl(base, 'sms', 'sms')).toBe(smsWebhookUrl(base, 'sms'));
    expect(webhookUrl(base, 'threema', 'threema-main')).toBe('https://inbox.example.org/webhooks/threema/threema-main');
  });

  it('treats addresses as phone numbers on WhatsApp and SMS only', () => {
    const phoneKinds = CHANNEL_KINDS.filter((k) => channelKindFacts(k)?.addressIsPhoneNumber);
    expect(phoneKinds).toEqual(['whatsapp-cloud', 'dialog360', 'sms']);
    expect(channelKindFacts('fax')).toBeUndefined();
  });

  it('names every credential as a secret: never printed, never copied into the stored settings', () => {
    expect([...CHANNEL_SECRET_FIELDS].sort()).toEqual(
      [
        'accessToken',
        'apiKey',
        'apiSecret',
        'appSecret',
        'authToken',
        'botToken',
        'pageAccessToken',
        'privateKey',
        'secretToken',
        'verifyToken',
        'webhookSecret',
      ].sort(),
    );
    for (const kind of CHANNEL_KINDS) {
      const config = configOf(kind);
      const stored = JSON.stringify(publicChannelSettings(config));
      for (const field of CHANNEL_MODULES[kind].secretFields) {
        expect(isSecretKey(field)).toBe(true);
        expect(stored).not.toContain(String((config as Record<string, unknown>)[field]));
      }
    }
  });

  it('names each processor for the record of processing activities', () => {
    expect(channelKindFacts('dialog360')?.processors.map((p) => p.name.split(',')[0])).toEqual([
      '360dialog GmbH',
      'Meta Platforms Ireland Limited',
    ]);
    expect(channelKindFacts('sms')?.displayName).toBe('SMS (Twilio)');
  });
});

describe('the webhook routes built from the modules', () => {
  async function app() {
    const server = Fastify({ logger: false });
    registerRawJsonParser(server);
    registerErrorHandler(server);
    const noInbox = {
      receive: async () => undefined,
      isChannelEnabled: async () => true,
      answerPaused: async () => undefined,
    };
    const channels = new Map(CHANNEL_KINDS.map((k) => [`${k}-main`, createChannel(configOf(k), { fetch })]));
    await server.register(
      channelWebhookRoutes({
        channels: { get: (id: string) => channels.get(id) },
        inbox: noInbox as never,
        audit: { append: async () => undefined } as never,
        metrics: createMetrics(),
      }),
    );
    await server.ready();
    return server;
  }

  it('keeps every URL and method of before, and only those', async () => {
    const server = await app();
    const routed = async (method: 'GET' | 'POST', url: string) => {
      const res = await server.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: '{}' });
      return (res.json() as { error?: { message?: string } }).error?.message !== 'no such route';
    };
    expect(await routed('GET', '/webhooks/whatsapp/x')).toBe(true);
    expect(await routed('POST', '/webhooks/whatsapp/x')).toBe(true);
    expect(await routed('GET', '/webhooks/messenger/x')).toBe(true);
    expect(await routed('POST', '/webhooks/messenger/x')).toBe(true);
    expect(await routed('POST', '/webhooks/telegram/x')).toBe(true);
    expect(await routed('POST', '/webhooks/sms/x')).toBe(true);
    expect(await routed('POST', '/webhooks/threema/x')).toBe(true);
    expect(await routed('GET', '/webhooks/threema/x')).toBe(false);
    expect(await routed('GET', '/webhooks/telegram/x')).toBe(false);
    expect(await routed('GET', '/webhooks/sms/x')).toBe(false);
    expect(await routed('POST', '/webhooks/dialog360/x')).toBe(false);
    await server.close();
  });

  it('answers 404 for a channel of a kind served under another path', async () => {
    const server = await app();
    const res = await server.inject({ method: 'POST', url: '/webhooks/telegram/sms-main', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe('no Telegram channel with this id');
    const wa = await server.inject({ method: 'POST', url: '/webhooks/whatsapp/dialog360-main', payload: {} });
    expect(wa.statusCode).toBe(401);
    await server.close();
  });
});
