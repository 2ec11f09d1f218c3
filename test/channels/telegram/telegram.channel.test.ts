import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessage, WebhookResult } from '../../../src/core/channel/channel.port.ts';
import { createTelegramChannel, type TelegramChannel } from '../../../src/channels/telegram/telegram.channel.ts';
import { telegramChatKey } from '../../../src/channels/telegram/telegram.mapper.ts';
import { TelegramSimulator } from '../../../dev/simulator/telegram-simulator.ts';
import { channelHarness, type ChannelHarness } from './webhook-harness.ts';

const SECRET = 'tg_secret-0123456789abcdef';
const TOKEN = '7000000001:AAH-test-token-for-sparsam';
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
/** The chat part of provider ids: a keyed hash of the chat id, never the chat id itself. */
const CHAT = telegramChatKey(TOKEN)(5071234567);

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/telegram/${name}.json`, import.meta.url));
}

describe('telegram channel: webhook', () => {
  let simulator: TelegramSimulator;
  let channel: TelegramChannel;
  let harness: ChannelHarness;

  beforeAll(async () => {
    simulator = new TelegramSimulator(TOKEN);
    await simulator.start();
    channel = createTelegramChannel(
      {
        id: 'tg-main',
        inbox: 'service',
        enabled: true,
        kind: 'telegram',
        botToken: TOKEN,
        secretToken: SECRET,
        apiBaseUrl: simulator.url,
      },
      { fetch: globalThis.fetch, now: () => NOW },
    );
    harness = await channelHarness(channel);
  });
  afterAll(async () => {
    await harness?.app.close();
    await simulator?.stop();
  });

  async function post(name: string, secret: string | null = SECRET) {
    return harness.app.inject({
      method: 'POST',
      url: '/hook',
      payload: fixture(name),
      headers: {
        'content-type': 'application/json',
        ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      },
    });
  }

  async function events(name: string): Promise<InboundEvent[]> {
    const res = await post(name);
    expect(res.statusCode).toBe(200);
    const result = harness.last as WebhookResult;
    expect(result.kind).toBe('events');
    return result.kind === 'events' ? result.events : [];
  }

  async function single(name: string): Promise<InboundMessage> {
    const list = await events(name);
    expect(list).toHaveLength(1);
    expect(list[0]!.type).toBe('message');
    return list[0] as InboundMessage;
  }

  it('refuses a request without the secret token header (401, SIGNATURE_INVALID)', async () => {
    const res = await post('text', null);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a wrong secret token, also one that differs only in length or the last character', async () => {
    for (const forged of ['nope', `${SECRET}x`, `${SECRET.slice(0, -1)}g`, SECRET.toUpperCase()]) {
      const res = await post('text', forged);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(SECRET);
    }
  });

  it('refuses a body that is not an Update with 400, naming the field only', async () => {
    const res = await harness.app.inject({
      method: 'POST',
      url: '/hook',
      payload: '{"message":{"text":"Hallo"}}',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('update_id');
    expect(res.body).not.toContain('Hallo');
  });

  it('keeps the chat id out of provider ids (they are stored in plain text) but unique per chat', () => {
    expect(CHAT).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(CHAT).not.toContain('5071234567');
    expect(telegramChatKey(TOKEN)(5071234568)).not.toBe(CHAT);
    expect(telegramChatKey('7000000001:another-bot')(5071234567)).not.toBe(CHAT);
  });

  it('maps a text message: chat id as address, chat key:message as provider id, ms timestamp, profile name', async () => {
    const m = await single('text');
    expect(m).toMatchObject({
      channelId: 'tg-main',
      providerMessageId: `${CHAT}:1365`,
      address: '5071234567',
      profileName: 'Jana Müller',
      sentAt: 1763894520 * 1000,
      kind: 'text',
      text: 'Hallo, ist mein Auto schon fertig? 🚗',
      buttonId: undefined,
      media: undefined,
    });
  });

  it('maps a reply to the provider id of the message replied to', async () => {
    const m = await single('reply');
    expect(m.replyToProviderMessageId).toBe(`${CHAT}:1366`);
    expect(m.text).toBe('Danke!');
  });

  it('takes the largest photo size, whatever its position, with the caption as text', async () => {
    const m = await single('photo');
    expect(m.kind).toBe('image');
    expect(m.text).toBe('Der Kratzer hinten links');
    expect(m.media).toEqual({
      providerMediaId: 'AgACAgIAAxkBAAIFWGLarge',
      mimeType: 'image/jpeg',
      fileName: undefined,
      sha256: undefined,
      size: 98765,
    });
  });

  it('maps a document with its file name and MIME type', async () => {
    const m = await single('document');
    expect(m.kind).toBe('document');
    expect(m.media).toMatchObject({
      providerMediaId: 'BQACAgIAAxkBAAIFWWRechnung',
      mimeType: 'application/pdf',
      fileName: 'Rechnung-2026-11.pdf',
      size: 48211,
    });
  });

  it('maps a voice note', async () => {
    const m = await single('voice');
    expect(m.kind).toBe('voice');
    expect(m.media?.mimeType).toBe('audio/ogg');
  });

  it('maps a location into extra, not into the text', async () => {
    const m = await single('location');
    expect(m.kind).toBe('location');
    expect(m.text).toBeUndefined();
    expect(m.extra).toEqual({ location: { latitude: 52.520008, longitude: 13.404954, accuracyMeters: 12.5 } });
  });

  it('maps a shared contact to kind contacts with the card in extra', async () => {
    const m = await single('contact');
    expect(m.kind).toBe('contacts');
    expect(m.text).toBe('Karl Werkstatt');
    expect(m.extra).toMatchObject({
      contacts: [{ name: { formatted_name: 'Karl Werkstatt' }, phones: [{ phone: '+49 151 00000000' }] }],
    });
  });

  it('maps an edited message to an edit of the original id, one id per edit', async () => {
    const list = await events('edited');
    expect(list).toEqual([
      {
        type: 'edit',
        channelId: 'tg-main',
        providerMessageId: `${CHAT}:1365:edit:1763894801`,
        originalProviderMessageId: `${CHAT}:1365`,
        address: '5071234567',
        sentAt: 1763894801 * 1000,
        text: 'Hallo, ist mein Auto (B-XY 123) schon fertig?',
      },
    ]);
  });

  it('maps an inline button tap to kind button with the callback data and answers the callback query', async () => {
    const before = simulator.calls.filter((c) => c.method === 'answerCallbackQuery').length;
    const m = await single('callback');
    expect(m).toMatchObject({
      kind: 'button',
      buttonId: 'consent:agree',
      text: 'Einverstanden',
      address: '5071234567',
      providerMessageId: `${CHAT}:cb:2177964812370184521`,
      replyToProviderMessageId: `${CHAT}:1366`,
      sentAt: NOW,
    });
    await expect
      .poll(() => simulator.calls.filter((c) => c.method === 'answerCallbackQuery').length, { timeout: 10_000 })
      .toBe(before + 1);
    expect(simulator.calls.at(-1)?.params.callback_query_id).toBe('2177964812370184521');
  });

  it('gives the same provider id when Telegram redelivers the same update (dedupe key)', async () => {
    const a = await single('text');
    const b = await single('text');
    expect(b.providerMessageId).toBe(a.providerMessageId);
  });

  it('ignores group chats: answered 200 with no events, so nothing of the group is stored', async () => {
    expect(await events('group')).toEqual([]);
  });

  it('maps an unsupported message type (poll) to kind unsupported', async () => {
    const m = await single('poll');
    expect(m.kind).toBe('unsupported');
    expect(m.extra).toEqual({ telegramType: 'poll' });
  });

  it('maps a customer blocking the bot to a system event', async () => {
    const list = await events('blocked');
    expect(list).toMatchObject([{ type: 'system', systemType: 'user_blocked', address: '5071234567' }]);
  });
});
