import { describe, expect, it } from 'vitest';
import { checkChannelConnection } from '../../src/channels/connection-check.ts';
import { channelConfigSchema } from '../../src/channels/registry.ts';

function recordingFetch(status: number, body: unknown) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    calls.push({ url: String(url), headers: (init?.headers ?? {}) as Record<string, string> });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const base = { inbox: 'service' };

describe('test connection, per channel kind', () => {
  it('asks the Cloud API for the phone number and reports the verified name', async () => {
    const { calls, fetchImpl } = recordingFetch(200, { verified_name: 'Bäckerei Sonne' });
    const config = channelConfigSchema.parse({
      ...base,
      id: 'wa',
      kind: 'whatsapp-cloud',
      phoneNumberId: '106540352242922',
      accessToken: 'wa-token',
      appSecret: 's',
      verifyToken: 'v',
    });
    const result = await checkChannelConnection(config, fetchImpl);
    expect(result).toEqual({
      ok: true,
      reason: 'connected',
      name: 'Bäckerei Sonne',
      detail: 'connected: Bäckerei Sonne',
    });
    expect(calls[0]!.url).toBe('https://graph.facebook.com/v23.0/106540352242922?fields=verified_name,quality_rating');
    expect(calls[0]!.headers.authorization).toBe('Bearer wa-token');
  });

  it('asks 360dialog with the API key header, Telegram with getMe, Messenger for the page name', async () => {
    const d360 = recordingFetch(200, {});
    await checkChannelConnection(
      channelConfigSchema.parse({
        ...base,
        id: 'd',
        kind: 'dialog360',
        apiKey: 'k',
        webhookSecret: 'a-secret-of-16-chars',
      }),
      d360.fetchImpl,
    );
    expect(d360.calls[0]).toEqual({
      url: 'https://waba-v2.360dialog.io/v1/configs/webhook',
      headers: { 'D360-API-KEY': 'k' },
    });

    const tg = recordingFetch(200, { ok: true, result: { username: 'sonne_bot' } });
    const tgResult = await checkChannelConnection(
      channelConfigSchema.parse({ ...base, id: 't', kind: 'telegram', botToken: '1:abc', secretToken: 's' }),
      tg.fetchImpl,
    );
    expect(tg.calls[0]!.url).toBe('https://api.telegram.org/bot1:abc/getMe');
    expect(tgResult.name).toBe('@sonne_bot');

    const fb = recordingFetch(400, { error: { code: 190 } });
    const fbResult = await checkChannelConnection(
      channelConfigSchema.parse({
        ...base,
        id: 'f',
        kind: 'messenger',
        pageId: '1234567890',
        pageAccessToken: 'fb-token',
        appSecret: 's',
        verifyToken: 'v',
      }),
      fb.fetchImpl,
    );
    expect(fb.calls[0]!.url).toBe('https://graph.facebook.com/v23.0/1234567890?fields=name');
    expect(fbResult).toEqual({
      ok: false,
      reason: 'refused',
      httpStatus: 400,
      detail: 'the provider answered HTTP 400 (code 190)',
    });
    expect(JSON.stringify(fbResult)).not.toContain('fb-token');
  });

  it('says that SMS has no check yet, without calling anyone', async () => {
    const { calls, fetchImpl } = recordingFetch(200, {});
    const result = await checkChannelConnection(
      channelConfigSchema.parse({
        ...base,
        id: 's',
        kind: 'sms',
        accountSid: 'AC1',
        authToken: 't',
        fromNumber: '+4915112345678',
      }),
      fetchImpl,
    );
    expect(result).toEqual({
      ok: false,
      reason: 'unsupported',
      detail: 'no connection check for this kind of channel yet',
    });
    expect(calls).toEqual([]);
  });
});
