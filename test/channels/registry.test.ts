import { describe, expect, it } from 'vitest';
import type { ChannelConfig } from '../../src/config/config.ts';
import { ChannelRegistry, createChannel } from '../../src/channels/registry.ts';

const deps = { fetch: globalThis.fetch };
const cloud: ChannelConfig = {
  id: 'wa',
  inbox: 'service',
  enabled: true,
  kind: 'whatsapp-cloud',
  phoneNumberId: '106540352242922',
  accessToken: 't',
  appSecret: 's',
  verifyToken: 'v',
  graphBaseUrl: 'https://graph.facebook.com',
  graphApiVersion: 'v23.0',
  messagesPerSecond: 20,
};
const d360: ChannelConfig = {
  id: 'd360',
  inbox: 'service',
  enabled: false,
  kind: 'dialog360',
  apiKey: 'k',
  webhookSecret: 'a-secret-of-16-chars',
  webhookSecretInUrl: false,
  apiBaseUrl: 'https://waba-v2.360dialog.io',
  messagesPerSecond: 80,
};

describe('ChannelRegistry', () => {
  it('builds every configured channel by kind and finds it by id', () => {
    const registry = new ChannelRegistry([cloud, d360], deps);
    expect(registry.all().map((c) => [c.id, c.kind, c.inboxId])).toEqual([
      ['wa', 'whatsapp-cloud', 'service'],
      ['d360', 'dialog360', 'service'],
    ]);
    expect(registry.get('wa')?.capabilities).toMatchObject({
      messagingWindowHours: 24,
      supportsButtons: true,
      supportsLists: true,
      supportsTemplates: true,
      supportsReadReceipts: true,
      messagesPerSecond: 20,
      maxMediaBytes: 100 * 1024 * 1024,
      maxTextChars: 4096,
    });
    expect(registry.get('d360')?.capabilities.maxTextChars).toBe(4096);
    expect(registry.get('d360')?.capabilities.supportsLists).toBe(true);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('refuses two channels with the same id, naming the id', () => {
    expect(() => new ChannelRegistry([cloud, { ...d360, id: 'wa' }], deps)).toThrow(/"wa" is used twice/);
  });

  it('createChannel builds one channel', () => {
    expect(createChannel(d360, deps).kind).toBe('dialog360');
  });
});
