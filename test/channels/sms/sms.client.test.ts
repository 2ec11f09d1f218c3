import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelApiError, ChannelNetworkError } from '../../../src/core/channel/channel-errors.ts';
import { createSmsChannel, type SmsChannel, type SmsChannelConfig } from '../../../src/channels/sms/sms.channel.ts';
import { FakeTwilio } from './fake-twilio.ts';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'auth-token-for-the-client-test';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('sms channel: Twilio REST API', () => {
  const twilio = new FakeTwilio();
  let channel: SmsChannel;
  let config: SmsChannelConfig;

  beforeAll(async () => {
    await twilio.start();
    config = {
      id: 'sms-main',
      inbox: 'service',
      enabled: true,
      kind: 'sms',
      provider: 'twilio',
      accountSid: SID,
      authToken: TOKEN,
      fromNumber: '+4915112345678',
      apiBaseUrl: twilio.url,
    };
    channel = createSmsChannel(config, { fetch: globalThis.fetch, baseUrl: 'https://inbox.example.org/' });
  });
  beforeEach(() => {
    twilio.requests.length = 0;
    twilio.replies.length = 0;
  });
  afterAll(async () => {
    await twilio.stop();
  });

  it('declares no buttons, no templates and no window (the consent notice asks for a keyword)', () => {
    expect(channel.capabilities).toMatchObject({
      messagingWindowHours: null,
      supportsButtons: false,
      supportsLists: false,
      supportsTemplates: false,
    });
  });

  it('sends a text as a form POST with Basic auth and the status callback, returning the Message SID', async () => {
    const result = await channel.send({ type: 'text', address: '+4917600000001', text: 'Ihr Auto ist fertig.' });
    expect(result.providerMessageId).toMatch(/^SM\d{32}$/);
    expect(twilio.requests).toEqual([
      {
        method: 'POST',
        path: `/2010-04-01/Accounts/${SID}/Messages.json`,
        authorization: `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`,
        form: {
          To: '+4917600000001',
          From: '+4915112345678',
          Body: 'Ihr Auto ist fertig.',
          StatusCallback: 'https://inbox.example.org/webhooks/sms/sms-main',
        },
      },
    ]);
  });

  it('adds the plus to an address kept as digits only', async () => {
    await channel.send({ type: 'text', address: '4917600000001', text: 'Hallo' });
    expect(twilio.requests[0]?.form.To).toBe('+4917600000001');
  });

  it('lists button titles in the text when buttons are asked for anyway', async () => {
    await channel.send({
      type: 'buttons',
      address: '+4917600000001',
      text: 'Einverstanden?',
      buttons: [
        { id: 'a', title: 'JA' },
        { id: 'b', title: 'NEIN' },
      ],
    });
    expect(twilio.requests[0]?.form.Body).toBe('Einverstanden?\n\n- JA\n- NEIN');
  });

  it("maps Twilio's 21610 (customer sent STOP) to a permanent failure with a readable reason", async () => {
    twilio.replies.push({
      status: 400,
      body: JSON.stringify({
        code: 21610,
        message: 'Attempt to send to unsubscribed recipient +4917600000001',
        more_info: 'https://www.twilio.com/docs/errors/21610',
        status: 400,
      }),
    });
    const error = await rejection(channel.send({ type: 'text', address: '+4917600000001', text: 'Hallo' }));
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({ providerCode: '21610', httpStatus: 400, retryable: false });
    expect((error as ChannelApiError).reason).not.toContain('4917600000001');
  });

  it('maps 429 with Retry-After to a retryable error with retryAfterMs, and 5xx to retryable', async () => {
    twilio.replies.push({
      status: 429,
      body: JSON.stringify({ code: 20429, message: 'Too Many Requests', status: 429 }),
      headers: { 'retry-after': '3' },
    });
    const limited = await rejection(channel.send({ type: 'text', address: '+4917600000001', text: 'Hallo' }));
    expect(limited).toMatchObject({ providerCode: '20429', retryable: true, retryAfterMs: 3000 });
    twilio.replies.push({ status: 503, body: '<html>unavailable</html>' });
    const down = await rejection(channel.send({ type: 'text', address: '+4917600000001', text: 'Hallo' }));
    expect(down).toMatchObject({ providerCode: 'http_503', retryable: true });
  });

  it('refuses an empty or over-long text and media sends without calling Twilio', async () => {
    expect(await rejection(channel.send({ type: 'text', address: '+49', text: '  ' }))).toMatchObject({
      retryable: false,
    });
    expect(await rejection(channel.send({ type: 'text', address: '+49', text: 'x'.repeat(1601) }))).toMatchObject({
      retryable: false,
    });
    const media = await rejection(
      channel.send({ type: 'media', address: '+49', mediaType: 'image', data: Buffer.alloc(1), mimeType: 'image/png' }),
    );
    expect(media).toMatchObject({ providerCode: 'unsupported', retryable: false });
    expect(twilio.requests).toHaveLength(0);
  });

  it('reports no answer as ChannelNetworkError', async () => {
    const offline = createSmsChannel({ ...config, apiBaseUrl: 'http://127.0.0.1:9' }, { fetch: globalThis.fetch });
    const error = await rejection(offline.send({ type: 'text', address: '+4917600000001', text: 'Hallo' }));
    expect(error).toBeInstanceOf(ChannelNetworkError);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('downloads MMS media with Basic auth, only from the Twilio API host, within the size limit', async () => {
    const path = `/2010-04-01/Accounts/${SID}/Messages/MM1/Media/ME1`;
    twilio.media.set(path, { data: Buffer.from('%PDF-1.7 test'), type: 'application/pdf' });
    const ref = {
      providerMediaId: `${twilio.url}${path}`,
      mimeType: 'application/pdf',
      fileName: undefined,
      sha256: undefined,
      size: undefined,
    };
    const media = await channel.downloadMedia(ref);
    expect(media.data.toString()).toBe('%PDF-1.7 test');
    expect(media.mimeType).toBe('application/pdf');
    expect(twilio.requests[0]?.authorization).toMatch(/^Basic /);

    const elsewhere = await rejection(
      channel.downloadMedia({ ...ref, providerMediaId: 'http://169.254.169.254/latest' }),
    );
    expect(elsewhere).toMatchObject({ providerCode: 'invalid_media_url', retryable: false });

    twilio.media.set(`${path}-big`, { data: Buffer.alloc(5 * 1024 * 1024 + 1), type: 'image/jpeg' });
    const big = await rejection(channel.downloadMedia({ ...ref, providerMediaId: `${twilio.url}${path}-big` }));
    expect(big).toMatchObject({ providerCode: 'media_too_large', retryable: false });
  });
});
