import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelApiError, ChannelNetworkError } from '../../../src/core/channel/channel-errors.ts';
import {
  createTelegramChannel,
  type TelegramChannel,
  type TelegramChannelConfig,
} from '../../../src/channels/telegram/telegram.channel.ts';
import { telegramChatKey } from '../../../src/channels/telegram/telegram.mapper.ts';
import { TelegramSimulator } from '../../../dev/simulator/telegram-simulator.ts';

const TOKEN = '7000000002:AAH-client-test-token';
const SECRET = 'client-secret_token';
const CHAT = telegramChatKey(TOKEN)(5071234567);

function config(apiBaseUrl: string): TelegramChannelConfig {
  return {
    id: 'tg-main',
    inbox: 'service',
    enabled: true,
    kind: 'telegram',
    botToken: TOKEN,
    secretToken: SECRET,
    apiBaseUrl,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('telegram channel: sending and media through the Bot API', () => {
  let simulator: TelegramSimulator;
  let channel: TelegramChannel;

  beforeAll(async () => {
    simulator = new TelegramSimulator(TOKEN);
    await simulator.start();
    channel = createTelegramChannel(config(simulator.url), { fetch: globalThis.fetch });
  });
  beforeEach(() => {
    simulator.calls.length = 0;
  });
  afterAll(async () => {
    await simulator?.stop();
  });

  it('declares the capabilities core decides by: no window, buttons, no templates', () => {
    expect(channel.capabilities).toMatchObject({
      messagingWindowHours: null,
      supportsButtons: true,
      supportsTemplates: false,
      maxMediaBytes: 20 * 1024 * 1024,
    });
  });

  it('sends text with sendMessage and returns chat:message as provider id', async () => {
    const result = await channel.send({ type: 'text', address: '5071234567', text: 'Ihr Auto ist fertig.' });
    expect(result.providerMessageId).toMatch(new RegExp(`^${CHAT}:\\d+$`));
    expect(simulator.calls).toHaveLength(1);
    expect(simulator.calls[0]).toMatchObject({
      method: 'sendMessage',
      params: { chat_id: '5071234567', text: 'Ihr Auto ist fertig.' },
    });
  });

  it('sends a reply to an earlier message with reply_parameters', async () => {
    await channel.send({
      type: 'text',
      address: '5071234567',
      text: 'Gern.',
      replyToProviderMessageId: `${CHAT}:1367`,
    });
    expect(simulator.calls[0]?.params.reply_parameters).toEqual({
      message_id: 1367,
      allow_sending_without_reply: true,
    });
  });

  it('sends buttons as an inline keyboard, one per row, with the footer below the text', async () => {
    await channel.send({
      type: 'buttons',
      address: '5071234567',
      text: 'Datenschutzhinweis …',
      footer: 'Antwort STOP beendet.',
      buttons: [
        { id: 'consent:agree', title: 'Einverstanden' },
        { id: 'consent:decline', title: 'Ablehnen' },
      ],
    });
    expect(simulator.calls[0]?.params).toMatchObject({
      text: 'Datenschutzhinweis …\n\nAntwort STOP beendet.',
      reply_markup: {
        inline_keyboard: [
          [{ text: 'Einverstanden', callback_data: 'consent:agree' }],
          [{ text: 'Ablehnen', callback_data: 'consent:decline' }],
        ],
      },
    });
  });

  it('refuses a button id longer than Telegram allows (64 bytes) without calling the API', async () => {
    const error = await rejection(
      channel.send({ type: 'buttons', address: '1', text: 'x', buttons: [{ id: 'x'.repeat(65), title: 'T' }] }),
    );
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).retryable).toBe(false);
    expect(simulator.calls).toHaveLength(0);
  });

  it('sends a voice note with sendVoice and other audio with sendAudio', async () => {
    const data = Buffer.alloc(1024, 3);
    await channel.send({
      type: 'media',
      address: '5071234567',
      mediaType: 'audio',
      data,
      mimeType: 'audio/ogg',
      voice: true,
    });
    await channel.send({ type: 'media', address: '5071234567', mediaType: 'audio', data, mimeType: 'audio/mpeg' });
    expect(simulator.calls.map((c) => c.method)).toEqual(['sendVoice', 'sendAudio']);
    expect(simulator.calls[0]?.files.voice?.size).toBe(1024);
  });

  it('uploads media as multipart (sendPhoto / sendDocument) with the caption', async () => {
    const data = Buffer.alloc(2048, 7);
    await channel.send({
      type: 'media',
      address: '5071234567',
      mediaType: 'image',
      data,
      mimeType: 'image/jpeg',
      caption: 'Foto',
    });
    await channel.send({
      type: 'media',
      address: '5071234567',
      mediaType: 'document',
      data,
      mimeType: 'application/pdf',
      fileName: 'Angebot.pdf',
    });
    expect(simulator.calls.map((c) => c.method)).toEqual(['sendPhoto', 'sendDocument']);
    expect(simulator.calls[0]?.files.photo?.size).toBe(2048);
    expect(simulator.calls[0]?.params.caption).toBe('Foto');
    expect(simulator.calls[1]?.files.document).toEqual({ size: 2048, name: 'Angebot.pdf' });
  });

  it('maps 429 with parameters.retry_after to a retryable ChannelApiError with retryAfterMs', async () => {
    simulator.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      retry_after: 7,
    });
    const error = await rejection(channel.send({ type: 'text', address: '5071234567', text: 'Hallo' }));
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({ providerCode: '429', httpStatus: 429, retryable: true, retryAfterMs: 7000 });
    expect((error as Error).message).not.toContain('Hallo');
    expect((error as Error).message).not.toContain('5071234567');
  });

  it('maps "bot was blocked by the user" (403) to a permanent failure the agent can read', async () => {
    simulator.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const error = await rejection(channel.send({ type: 'text', address: '5071234567', text: 'Hallo' }));
    expect(error).toMatchObject({
      providerCode: '403',
      retryable: false,
      reason: 'Forbidden: bot was blocked by the user',
    });
  });

  it('maps a 5xx answer to a retryable ChannelApiError', async () => {
    simulator.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' });
    const error = await rejection(channel.send({ type: 'text', address: '5071234567', text: 'Hallo' }));
    expect(error).toMatchObject({ providerCode: '502', retryable: true });
  });

  it('maps no answer at all to ChannelNetworkError without the token in the message', async () => {
    const closed = new TelegramSimulator(TOKEN);
    const url = await closed.start();
    await closed.stop();
    const offline = createTelegramChannel(config(url), { fetch: globalThis.fetch });
    const error = await rejection(offline.send({ type: 'text', address: '1', text: 'x' }));
    expect(error).toBeInstanceOf(ChannelNetworkError);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('downloads media with getFile and the file URL', async () => {
    const bytes = Buffer.from('\xff\xd8\xff\xe0 fake jpeg bytes', 'latin1');
    const fileId = simulator.addFile(bytes, 'image/jpeg');
    const media = await channel.downloadMedia({
      providerMediaId: fileId,
      mimeType: 'image/jpeg',
      fileName: undefined,
      sha256: undefined,
      size: bytes.length,
    });
    expect(media.data.equals(bytes)).toBe(true);
    expect(media.mimeType).toBe('image/jpeg');
    expect(simulator.calls.map((c) => c.method)).toEqual(['getFile']);
  });

  it('refuses a file over the size limit before downloading it', async () => {
    const fileId = simulator.addFile(Buffer.alloc(11), 'image/jpeg');
    const error = await rejection(channel.client.downloadFile(fileId, 10));
    expect(error).toMatchObject({ providerCode: 'media_too_large', retryable: false });
  });

  it('reports an unknown file id as a permanent failure', async () => {
    const error = await rejection(
      channel.downloadMedia({
        providerMediaId: 'nope',
        mimeType: undefined,
        fileName: undefined,
        sha256: undefined,
        size: undefined,
      }),
    );
    expect(error).toMatchObject({ providerCode: '400', retryable: false });
  });

  it('registers the webhook with the secret token, and the simulator then delivers signed updates', async () => {
    const { url } = await channel.setWebhook('https://inbox.example.org/');
    expect(url).toBe('https://inbox.example.org/webhooks/telegram/tg-main');
    expect(simulator.webhook).toEqual({ url, secretToken: SECRET });
    expect(simulator.calls[0]?.params.allowed_updates).toEqual([
      'message',
      'edited_message',
      'callback_query',
      'my_chat_member',
    ]);
  });

  it('refuses templates (Telegram has none) and treats read receipts as nothing to send', async () => {
    const error = await rejection(
      channel.send({ type: 'template', address: '1', name: 'x', language: 'de', parameters: [] }),
    );
    expect(error).toMatchObject({ providerCode: 'unsupported', retryable: false });
    expect(await channel.send({ type: 'read', providerMessageId: '1:2' })).toEqual({ providerMessageId: undefined });
    expect(simulator.calls).toHaveLength(0);
  });
});
