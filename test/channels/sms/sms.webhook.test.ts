import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessage, InboundStatus } from '../../../src/core/channel/channel.port.ts';
import { createSmsChannel, type SmsChannelConfig } from '../../../src/channels/sms/sms.channel.ts';
import { parseForm } from '../../../src/channels/sms/sms.parser.ts';
import { signatureUrls, twilioSignature } from '../../../src/channels/sms/sms.signature.ts';
import { channelHarness, type ChannelHarness } from '../telegram/webhook-harness.ts';

const AUTH_TOKEN = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const BASE = 'https://inbox.example.org';
const PATH = '/webhooks/sms/sms-main';
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

const CONFIG: SmsChannelConfig = {
  id: 'sms-main',
  inbox: 'service',
  enabled: true,
  kind: 'sms',
  provider: 'twilio',
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  authToken: AUTH_TOKEN,
  fromNumber: '+4915112345678',
  apiBaseUrl: 'https://api.twilio.com',
};

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/sms/${name}.form`, import.meta.url));
}

describe('Twilio request signature', () => {
  // Twilio's documented example (twilio-php / twilio-python / twilio-csharp RequestValidator tests and the
  // security docs): auth token 12345, this URL and these POST parameters give this signature.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params: [string, string][] = [
    ['CallSid', 'CA1234567890ABCDE'],
    ['Caller', '+14158675309'],
    ['Digits', '1234'],
    ['From', '+14158675309'],
    ['To', '+18005551212'],
  ];

  it("reproduces Twilio's documented example signature, whatever the parameter order", () => {
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioSignature('12345', url, [...params].reverse())).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  it("includes each distinct value of a repeated parameter, sorted, like Twilio's libraries", () => {
    const repeated: [string, string][] = [
      ['Sid', 'CA123'],
      ['SidAccount', 'AC123'],
      ['Digits', '5678'],
      ['Digits', '1234'],
      ['Digits', '1234'],
    ];
    expect(twilioSignature('12345', url, repeated)).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
  });

  it('changes with the token, the URL and any value', () => {
    const good = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';
    expect(twilioSignature('12346', url, params)).not.toBe(good);
    expect(twilioSignature('12345', `${url}&x=1`, params)).not.toBe(good);
    expect(twilioSignature('12345', url, [...params.slice(0, 4), ['To', '+18005551213']])).not.toBe(good);
  });

  it('tries the URL with and without the default port', () => {
    expect(signatureUrls('https://inbox.example.org/webhooks/sms/a')).toEqual([
      'https://inbox.example.org/webhooks/sms/a',
      'https://inbox.example.org:443/webhooks/sms/a',
    ]);
    expect(signatureUrls('https://inbox.example.org:443/x')).toEqual([
      'https://inbox.example.org:443/x',
      'https://inbox.example.org/x',
    ]);
    expect(signatureUrls('http://127.0.0.1:8080/x')).toEqual(['http://127.0.0.1:8080/x']);
  });
});

describe('sms channel: Twilio webhooks', () => {
  let harness: ChannelHarness;

  beforeAll(async () => {
    const channel = createSmsChannel(CONFIG, { fetch: globalThis.fetch, baseUrl: BASE, now: () => NOW });
    harness = await channelHarness(channel, PATH);
  });
  afterAll(async () => {
    await harness?.app.close();
  });

  function sign(body: Buffer, url = `${BASE}${PATH}`, token = AUTH_TOKEN): string {
    return twilioSignature(token, url, parseForm(body));
  }

  async function post(body: Buffer, signature: string | null) {
    return harness.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature !== null ? { 'x-twilio-signature': signature } : {}),
      },
    });
  }

  async function events(name: string): Promise<InboundEvent[]> {
    const body = fixture(name);
    const res = await post(body, sign(body));
    expect(res.statusCode).toBe(200);
    const last = harness.last;
    return last?.kind === 'events' ? last.events : [];
  }

  it('accepts a correctly signed inbound SMS and passes the text on unchanged', async () => {
    const list = await events('inbound');
    expect(list).toEqual([
      {
        type: 'message',
        channelId: 'sms-main',
        providerMessageId: 'SM4f0c9e2b1a7d4c3e8f9a0b1c2d3e4f5a',
        address: '+4917600000001',
        profileName: undefined,
        sentAt: NOW,
        kind: 'text',
        text: 'Hallo, wann kann ich das Auto abholen? Üä',
        buttonId: undefined,
        media: undefined,
        replyToProviderMessageId: undefined,
        extra: undefined,
      },
    ]);
  });

  it('refuses a missing signature, a forged one, one for another URL and one with another token (401)', async () => {
    const body = fixture('inbound');
    for (const signature of [
      null,
      'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
      sign(body, `${BASE}/webhooks/sms/other`),
      sign(body, `${BASE}${PATH}`, 'another-token'),
    ]) {
      const res = await post(body, signature);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('SIGNATURE_INVALID');
    }
  });

  it('refuses a body changed after signing (one character of the text)', async () => {
    const body = fixture('inbound');
    const signature = sign(body);
    const tampered = Buffer.from(body.toString('utf8').replace('abholen', 'abhole%6E'));
    // Same decoded parameters are fine (Twilio signs values, not bytes) …
    expect((await post(tampered, signature)).statusCode).toBe(200);
    const changed = Buffer.from(body.toString('utf8').replace('abholen', 'abholem'));
    // … a changed value is not.
    expect((await post(changed, signature)).statusCode).toBe(401);
  });

  it('refuses a signed webhook for another account or another number (400)', async () => {
    const otherAccount = Buffer.from(
      fixture('inbound')
        .toString('utf8')
        .replace('AC0123456789abcdef0123456789abcdef', 'AC99999999999999999999999999999999'),
    );
    const res = await post(otherAccount, sign(otherAccount));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual({ field: 'AccountSid' });
    const otherNumber = Buffer.from(
      fixture('inbound').toString('utf8').replace('To=%2B4915112345678', 'To=%2B4915199999999'),
    );
    const res2 = await post(otherNumber, sign(otherNumber));
    expect(res2.statusCode).toBe(400);
    expect(res2.body).not.toContain('4915199999999');
  });

  it('maps an MMS with two files to one message per file, the text on the first', async () => {
    const list = (await events('mms')) as InboundMessage[];
    expect(list.map((m) => [m.providerMessageId, m.kind, m.text, m.media?.mimeType])).toEqual([
      ['MM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b', 'image', 'Fotos vom Schaden', 'image/jpeg'],
      ['MM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b#1', 'document', undefined, 'application/pdf'],
    ]);
    expect(list[0]?.media?.providerMediaId).toBe(
      'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b/Media/ME11111111111111111111111111111111',
    );
  });

  it('passes STOP through as text (the inbox withdraws consent) and marks the carrier keyword', async () => {
    const [m] = (await events('stop')) as InboundMessage[];
    expect(m?.text).toBe('Stop');
    expect(m?.kind).toBe('text');
    expect(m?.extra).toEqual({ carrierKeyword: 'stop', optOutType: 'STOP' });
  });

  it('maps status callbacks: delivered, undelivered with the reason; queued is not reported', async () => {
    const [delivered] = (await events('status-delivered')) as InboundStatus[];
    expect(delivered).toEqual({
      type: 'status',
      channelId: 'sms-main',
      providerMessageId: 'SMb1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1',
      status: 'delivered',
      at: NOW,
      error: undefined,
      pricingCategory: undefined,
    });
    const [failed] = (await events('status-undelivered')) as InboundStatus[];
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toEqual({ code: '30003', reason: 'the phone is switched off or unreachable' });
    expect(await events('status-queued')).toEqual([]);
  });

  it('without a configured base URL, checks the signature over the URL the request reached', async () => {
    const channel = createSmsChannel(CONFIG, { fetch: globalThis.fetch, now: () => NOW });
    const local = await channelHarness(channel, PATH);
    try {
      const body = fixture('inbound');
      const res = await local.app.inject({
        method: 'POST',
        url: PATH,
        payload: body,
        headers: {
          host: 'sms.example.net',
          'x-forwarded-proto': 'https',
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': sign(body, `http://sms.example.net${PATH}`),
        },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await local.app.close();
    }
  });
});
