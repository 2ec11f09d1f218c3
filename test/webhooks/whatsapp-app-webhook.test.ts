import { afterEach, beforeEach, expect, it } from 'vitest';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { describeEachStore } from '../support/stores.ts';
import {
  APP_SECRET,
  CUSTOMER,
  PHONE_NUMBER_ID,
  VERIFY_TOKEN,
  startWorld,
  statusUpdate,
  textMessage,
  type World,
} from '../inbox/inbox-world.ts';

/**
 * One Meta app serving several numbers posts every number's events to one callback URL and may batch them: the
 * app-level route `/webhooks/whatsapp` (and every per-channel URL) routes each entry by its phone number id, or by
 * the WhatsApp Business Account id for account-level changes, to the channel whose secret signed the request.
 */

const SECOND_NUMBER_ID = '106540352299999';
const OTHER_APP_NUMBER_ID = '106540352288888';
const OTHER_APP_SECRET = 'other-app-secret-0123456789';
const WABA_ID = '102290129340398';

const extraChannels = `  - id: wa-two
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "${SECOND_NUMBER_ID}"
    businessAccountId: "${WABA_ID}"
    accessToken: test-access-token
    appSecret: ${APP_SECRET}
    verifyToken: second-verify-token
  - id: wa-other-app
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "${OTHER_APP_NUMBER_ID}"
    accessToken: test-access-token
    appSecret: ${OTHER_APP_SECRET}
    verifyToken: other-verify-token
`;

type Body = { entry: unknown[] };

/** One POST whose `entry` array holds the entries of several bodies (Meta batches numbers of one app). */
function batch(...bodies: Record<string, unknown>[]): Body {
  return { object: 'whatsapp_business_account', entry: bodies.flatMap((b) => (b as Body).entry) } as Body;
}

describeEachStore('whatsapp app-level webhook route', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect, { editYaml: (yaml) => `${yaml.trimEnd()}\n${extraChannels}` });
  });
  afterEach(async () => {
    await w.close();
  });

  const post = (body: unknown, options: { url?: string; secret?: string; signature?: string | null } = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.signature !== null) {
      headers['x-hub-signature-256'] = options.signature ?? signWhatsAppBody(options.secret ?? APP_SECRET, raw);
    }
    return w.sparsam.http.inject({ method: 'POST', url: options.url ?? '/webhooks/whatsapp', payload: raw, headers });
  };
  const messagesOf = async (channelId: string) =>
    (await w.sparsam.store.db.selectFrom('messages').select('id').where('channel_id', '=', channelId).execute()).length;
  const auditOf = (action: string) => w.sparsam.audit.list({ action });

  it("answers Meta's verification on the app-level URL with any configured channel's verify token", async () => {
    for (const token of [VERIFY_TOKEN, 'second-verify-token', 'other-verify-token']) {
      const ok = await w.sparsam.http.inject({
        url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`,
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toBe('1158201444');
    }
    const bad = await w.sparsam.http.inject({
      url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444',
    });
    expect(bad.statusCode).toBe(403);
    expect(bad.body).not.toContain('1158201444');
  });

  for (const url of ['/webhooks/whatsapp', '/webhooks/whatsapp/wa-main']) {
    it(`stores each entry of a batch for two numbers of one app in its own channel (${url})`, async () => {
      const body = batch(
        textMessage(w.clock, 'wamid.A1', 'Hallo an Nummer A', CUSTOMER, PHONE_NUMBER_ID),
        textMessage(w.clock, 'wamid.B1', 'Hallo an Nummer B', '4915100000002', SECOND_NUMBER_ID),
        statusUpdate(w.clock, 'wamid.UNKNOWN-OUT', 'delivered'),
      );
      for (let i = 0; i < 2; i++) expect((await post(body, { url })).statusCode).toBe(200);
      expect(await messagesOf('wa-main')).toBe(2); // the customer's message and the consent notice
      expect(await messagesOf('wa-two')).toBe(2);
    });
  }

  it('routes an entry only to a channel whose secret signed the request', async () => {
    // Signed with the first app's secret, but the entry is for the number of another app: not routed.
    const body = textMessage(w.clock, 'wamid.C1', 'Hallo', CUSTOMER, OTHER_APP_NUMBER_ID);
    expect((await post(body)).statusCode).toBe(200);
    expect(await messagesOf('wa-other-app')).toBe(0);
    // Signed with the other app's secret: stored there.
    expect((await post(body, { secret: OTHER_APP_SECRET })).statusCode).toBe(200);
    expect(await messagesOf('wa-other-app')).toBe(2);
    // A mixed batch signed by the other app: its own entry stored, the first app's entry not.
    const mixed = batch(
      textMessage(w.clock, 'wamid.C2', 'Hallo', CUSTOMER, OTHER_APP_NUMBER_ID),
      textMessage(w.clock, 'wamid.A2', 'Hallo', CUSTOMER, PHONE_NUMBER_ID),
    );
    expect((await post(mixed, { secret: OTHER_APP_SECRET })).statusCode).toBe(200);
    expect(await messagesOf('wa-other-app')).toBe(3);
    expect(await messagesOf('wa-main')).toBe(0);
  });

  it('refuses forged or unsigned requests with 401 and malformed ones with 400, storing nothing', async () => {
    const body = textMessage(w.clock, 'wamid.F1', 'Hallo');
    expect((await post(body, { signature: `sha256=${'0'.repeat(64)}` })).statusCode).toBe(401);
    expect((await post(body, { signature: null })).statusCode).toBe(401);
    expect((await post(body, { secret: 'not-a-configured-secret' })).statusCode).toBe(401);
    expect((await post({ object: 'whatsapp_business_account', entry: 'nope' })).statusCode).toBe(400);
    expect((await post('{"object": "whatsapp_business_account", "entry": [')).statusCode).toBe(400);
    expect(await messagesOf('wa-main')).toBe(0);
    expect(await auditOf('webhook.forged')).toHaveLength(3);
  });

  it('answers entries for numbers and accounts not configured 200, and audits them once a minute at most', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await post(textMessage(w.clock, `wamid.U${i}`, 'Hallo', CUSTOMER, '4711000000000'));
      expect(res.statusCode).toBe(200);
    }
    const unknownAccount = {
      object: 'whatsapp_business_account',
      entry: [{ id: '999000111222', changes: [{ field: 'account_update', value: { event: 'ACCOUNT_RESTRICTION' } }] }],
    };
    expect((await post(unknownAccount)).statusCode).toBe(200);
    expect(await w.sparsam.store.db.selectFrom('messages').select('id').execute()).toHaveLength(0);
    expect(await w.sparsam.store.db.selectFrom('contacts').select('id').execute()).toHaveLength(0);
    const audit = await auditOf('webhook.unrouted');
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(CUSTOMER);
    const metrics = await w.sparsam.http.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/sparsam_webhooks_total\{kind="whatsapp",result="unrouted"\} 21/);
    // A minute later the next one is audited again, with how many were left out of the audit meanwhile.
    w.clock.advance(61_000);
    expect((await post(textMessage(w.clock, 'wamid.U99', 'Hallo', CUSTOMER, '4711000000000'))).statusCode).toBe(200);
    const again = await auditOf('webhook.unrouted');
    expect(again).toHaveLength(2);
    expect(again.map((a) => JSON.parse(a.details) as unknown)).toContainEqual({
      numbers: 1,
      accounts: 0,
      notAudited: 20,
    });
  });

  it('applies account-level changes of a configured businessAccountId to that channel, audited once', async () => {
    const templateStatus = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: WABA_ID,
          time: 1763900000,
          changes: [
            {
              field: 'message_template_status_update',
              value: { event: 'APPROVED', message_template_name: 'hello_world', message_template_language: 'de' },
            },
            { field: 'phone_number_quality_update', value: { event: 'FLAGGED', current_limit: 'TIER_1K' } },
            { field: 'message_echoes_unknown', value: { anything: true } },
          ],
        },
      ],
    };
    for (let i = 0; i < 2; i++) expect((await post(templateStatus)).statusCode).toBe(200);
    const template = await auditOf('whatsapp.template_status');
    expect(template.map((a) => [a.target_id, JSON.parse(a.details) as unknown])).toEqual([
      ['wa-two', { name: 'hello_world', language: 'de', status: 'APPROVED', category: 'UTILITY', known: false }],
    ]);
    const health = await auditOf('whatsapp.account_health');
    expect(health.map((a) => [a.target_id, JSON.parse(a.details) as unknown])).toEqual([
      ['wa-two', { kind: 'quality', event: 'FLAGGED', messagingLimit: 'TIER_1K', needsAttention: true }],
    ]);
    const rows = await w.sparsam.store.db.selectFrom('whatsapp_templates').selectAll().execute();
    expect(rows.map((r) => [r.channel_id, r.name, r.status])).toEqual([['wa-two', 'hello_world', 'APPROVED']]);
    expect(await auditOf('webhook.unrouted')).toHaveLength(0);
  });
});
