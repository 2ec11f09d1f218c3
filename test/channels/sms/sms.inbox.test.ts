import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseForm } from '../../../src/channels/sms/sms.parser.ts';
import { twilioSignature } from '../../../src/channels/sms/sms.signature.ts';
import { EMPTY_TWIML } from '../../../src/channels/sms/sms.module.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { createSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { describeEachStore, openTestStore, type TestStore } from '../../support/stores.ts';
import { FakeTwilio } from './fake-twilio.ts';

const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'sms-inbox-auth-token';
const BASE = 'https://inbox.example.org';
const NUMBER = '+4915112345678';
const CUSTOMER = '+4917600000001';

let sidSeq = 0;
function inbound(body: string): string {
  const sid = `SM${String(++sidSeq).padStart(32, 'a')}`;
  return new URLSearchParams({
    ToCountry: 'DE',
    SmsMessageSid: sid,
    NumMedia: '0',
    SmsSid: sid,
    SmsStatus: 'received',
    Body: body,
    FromCountry: 'DE',
    To: NUMBER,
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: ACCOUNT,
    From: CUSTOMER,
    ApiVersion: '2010-04-01',
  }).toString();
}

describeEachStore('sms conversation through the inbox', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  let agentToken: string;
  const twilio = new FakeTwilio();
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    await twilio.start();
    twilio.requests.length = 0;
    const yaml = `
organisation:
  name: Autohaus Beispiel GmbH
  contact: datenschutz@autohaus.example
inboxes:
  - id: service
    labelPrefix: Anfrage
channels:
  - id: sms-main
    kind: sms
    inbox: service
    accountSid: ${ACCOUNT}
    authToken: ${AUTH_TOKEN}
    fromNumber: "${NUMBER}"
    apiBaseUrl: ${twilio.url}
`;
    const config = loadConfig({
      env: {
        ...t.env,
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_LOG_LEVEL: 'silent',
        SPARSAM_BASE_URL: BASE,
      },
      readFile: () => yaml,
    });
    sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
    await sparsam.http.ready();
    agentToken = (await sparsam.accounts.createApiToken('agent', 'agent')).token;
  });
  afterEach(async () => {
    await sparsam?.close().catch(() => undefined);
    await twilio.stop();
    await t?.cleanup();
  });

  function post(form: string, signature?: string | null) {
    const path = '/webhooks/sms/sms-main';
    const sig =
      signature === undefined ? twilioSignature(AUTH_TOKEN, `${BASE}${path}`, parseForm(Buffer.from(form))) : signature;
    return sparsam.http.inject({
      method: 'POST',
      url: path,
      payload: form,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(sig !== null ? { 'x-twilio-signature': sig } : {}),
      },
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

  const sends = () => twilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));

  it('asks for consent by keyword, shows the conversation after JA, replies, and records delivery', async () => {
    const first = await post(inbound('Ist mein Auto fertig?'));
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toContain('text/xml');
    expect(first.body).toBe(EMPTY_TWIML);
    await sparsam.jobs.drain();

    // No buttons on SMS: the notice ends with the keywords to answer.
    expect(sends()).toHaveLength(1);
    expect(sends()[0]!.form).toMatchObject({ To: CUSTOMER, From: NUMBER });
    expect(sends()[0]!.form.Body).toContain('JA');
    expect((await api('GET', '/api/v1/conversations?view=all')).json().items).toEqual([]);

    expect((await post(inbound('Ja'))).statusCode).toBe(200);
    const items = (await api('GET', '/api/v1/conversations?view=all')).json().items as {
      id: string;
      channelKind: string;
    }[];
    expect(items).toHaveLength(1);
    expect(items[0]!.channelKind).toBe('sms');

    expect(
      (await api('POST', `/api/v1/conversations/${items[0]!.id}/messages`, { text: 'Ja, ab 16 Uhr.' })).statusCode,
    ).toBe(202);
    await sparsam.jobs.drain();
    const reply = sends().at(-1)!;
    expect(reply.form).toMatchObject({
      To: CUSTOMER,
      Body: 'Ja, ab 16 Uhr.',
      StatusCallback: `${BASE}/webhooks/sms/sms-main`,
    });

    // Twilio's status callback for that message.
    const detail = await api('GET', `/api/v1/conversations/${items[0]!.id}`);
    const out = (detail.json().messages as { id: string; direction: string; text: string | null }[]).find(
      (m) => m.text === 'Ja, ab 16 Uhr.',
    )!;
    // The message id Twilio gave for the reply (sparsam stores only a keyed hash of it).
    const sid = twilio.sids.at(-1)!;
    expect(out.id).toBeTruthy();
    const status = new URLSearchParams({
      SmsSid: sid,
      SmsStatus: 'delivered',
      MessageStatus: 'delivered',
      To: CUSTOMER,
      MessageSid: sid,
      AccountSid: ACCOUNT,
      From: NUMBER,
      ApiVersion: '2010-04-01',
    }).toString();
    expect((await post(status)).statusCode).toBe(200);
    const after = await api('GET', `/api/v1/conversations/${items[0]!.id}`);
    const delivered = (after.json().messages as { id: string; status: string }[]).find((m) => m.id === out.id)!;
    expect(delivered.status).toBe('delivered');
  });

  it('refuses a file for an SMS conversation at once, with a clear error, and stores nothing', async () => {
    await post(inbound('Hallo'));
    await post(inbound('Ja'));
    await sparsam.jobs.drain();
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as {
      id: string;
      canSendFiles: boolean;
    }[];
    // The inbox hides the attach button for such a conversation.
    expect(conversation!.canSendFiles).toBe(false);
    const before = sends().length;
    const photo = readFileSync(new URL('../../fixtures/images/jpg_Canon_40D.jpg', import.meta.url));
    const refused = await sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${conversation!.id}/attachments`,
      payload: photo,
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'image/jpeg' },
    });
    expect(refused.statusCode).toBe(415);
    expect(refused.json().error).toMatchObject({ code: 'UNSUPPORTED_MEDIA', details: { reason: 'channel' } });
    expect(refused.json().error.message).toContain('send a text message instead');
    expect(await sparsam.store.db.selectFrom('media').select('id').execute()).toEqual([]);
    await sparsam.jobs.drain();
    expect(sends()).toHaveLength(before);
  });

  it('refuses a forged or unsigned request with 401 and stores nothing', async () => {
    expect((await post(inbound('Hallo'), 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).statusCode).toBe(401);
    expect((await post(inbound('Hallo'), null)).statusCode).toBe(401);
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    const forged = await sparsam.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'webhook.forged')
      .execute();
    expect(forged).toHaveLength(2);
  });
});
