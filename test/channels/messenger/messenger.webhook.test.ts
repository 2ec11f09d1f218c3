import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessage } from '../../../src/core/channel/channel.port.ts';
import {
  createMessengerChannel,
  type MessengerChannelConfig,
} from '../../../src/channels/messenger/messenger.channel.ts';
import { messengerSenderKey } from '../../../src/channels/messenger/messenger.mapper.ts';
import { signMessengerBody } from '../../../src/channels/messenger/messenger.signature.ts';
import { channelHarness, type ChannelHarness } from '../telegram/webhook-harness.ts';

const APP_SECRET = 'fb-app-secret-0123456789';
const CONFIG: MessengerChannelConfig = {
  id: 'fb-main',
  inbox: 'service',
  enabled: true,
  kind: 'messenger',
  pageId: '1234567890',
  pageAccessToken: 'EAAB-page-token',
  appSecret: APP_SECRET,
  verifyToken: 'fb-verify-token',
  graphBaseUrl: 'https://graph.facebook.com',
  graphApiVersion: 'v23.0',
};

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/messenger/${name}.json`, import.meta.url));
}

describe('messenger channel: webhooks', () => {
  let harness: ChannelHarness;

  beforeAll(async () => {
    harness = await channelHarness(createMessengerChannel(CONFIG, { fetch: globalThis.fetch }));
  });
  afterAll(async () => {
    await harness?.app.close();
  });

  async function post(body: Buffer, signature: string | null) {
    return harness.app.inject({
      method: 'POST',
      url: '/hook',
      payload: body,
      headers: {
        'content-type': 'application/json',
        ...(signature !== null ? { 'x-hub-signature-256': signature } : {}),
      },
    });
  }

  async function events(name: string): Promise<InboundEvent[]> {
    const body = fixture(name);
    const res = await post(body, signMessengerBody(APP_SECRET, body));
    expect(res.statusCode).toBe(200);
    return harness.last?.kind === 'events' ? harness.last.events : [];
  }

  it('answers the hub challenge for the right verify token and 403 otherwise', async () => {
    const ok = await harness.app.inject({
      method: 'GET',
      url: '/hook?hub.mode=subscribe&hub.verify_token=fb-verify-token&hub.challenge=1158201444',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('1158201444');
    const wrong = await harness.app.inject({
      method: 'GET',
      url: '/hook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).not.toContain('1158201444');
  });

  it('verifies X-Hub-Signature-256 over the bytes as sent (escaped umlauts) and maps a text', async () => {
    const [m] = (await events('text')) as InboundMessage[];
    expect(m).toEqual({
      type: 'message',
      channelId: 'fb-main',
      providerMessageId: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P',
      address: '6543210987654321',
      profileName: undefined,
      sentAt: 1763894519876,
      kind: 'text',
      text: 'Hallo, haben Sie morgen einen Termin frei? Grüße',
      buttonId: undefined,
      media: undefined,
      replyToProviderMessageId: undefined,
      extra: undefined,
    });
  });

  it('refuses missing, forged and re-serialised signatures with 401', async () => {
    const body = fixture('text');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
    for (const signature of [
      null,
      'sha256=' + '0'.repeat(64),
      signMessengerBody('another-secret', body),
      signMessengerBody(APP_SECRET, reserialised),
      'sha1=abc',
    ]) {
      const res = await post(body, signature);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('SIGNATURE_INVALID');
    }
  });

  it('refuses a signed webhook for another page (400) and a body that is not a page webhook', async () => {
    const body = fixture('other-page');
    const res = await post(body, signMessengerBody(APP_SECRET, body));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual({ field: 'entry.id' });
    const waBody = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
    expect((await post(waBody, signMessengerBody(APP_SECRET, waBody))).statusCode).toBe(400);
  });

  it('maps a quick reply and a postback (consent buttons) to kind button with the payload', async () => {
    const [quick] = (await events('quick-reply')) as InboundMessage[];
    expect(quick).toMatchObject({ kind: 'button', buttonId: 'consent:agree', text: 'Einverstanden' });
    const [postback] = (await events('postback')) as InboundMessage[];
    expect(postback).toMatchObject({
      kind: 'button',
      buttonId: 'consent:agree',
      text: 'Einverstanden',
      providerMessageId: 'm_postback0001',
      sentAt: 1763894609500,
    });
    const [legacy] = (await events('postback-legacy')) as InboundMessage[];
    expect(legacy).toMatchObject({
      kind: 'button',
      buttonId: 'consent:decline',
      // No mid: sender (as a keyed hash, never the PSID itself) and time.
      providerMessageId: `postback:${messengerSenderKey(APP_SECRET)('6543210987654321')}:1763894610500`,
    });
  });

  it('maps each attachment to a message with its URL as media reference', async () => {
    const list = (await events('attachments')) as InboundMessage[];
    expect(list.map((m) => [m.providerMessageId, m.kind, m.media?.providerMediaId])).toEqual([
      ['m_attach0001', 'image', 'https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?_nc_cat=1&oh=abc&oe=def'],
      ['m_attach0001#1', 'document', 'https://cdn.fbsbx.com/v/t59.2708-21/Rechnung.pdf?_nc_cat=1&oh=abc&oe=def'],
    ]);
    const [sticker] = (await events('sticker')) as InboundMessage[];
    expect(sticker?.kind).toBe('sticker');
  });

  it('maps a reply, a reaction and an edit to the messages they refer to', async () => {
    const [reply] = (await events('reply')) as InboundMessage[];
    expect(reply?.replyToProviderMessageId).toBe('m_page0001');
    const [reaction] = (await events('reaction')) as InboundMessage[];
    expect(reaction).toMatchObject({ kind: 'reaction', text: '❤️', replyToProviderMessageId: 'm_page0002' });
    expect(reaction?.providerMessageId).not.toContain('6543210987654321');
    expect(await events('edit')).toEqual([
      {
        type: 'edit',
        channelId: 'fb-main',
        providerMessageId: 'm_reply0001:edit:1',
        originalProviderMessageId: 'm_reply0001',
        address: '6543210987654321',
        sentAt: 1763894779000,
        text: 'Passt 15 Uhr?',
      },
    ]);
  });

  it('maps an echo to status sent and a delivery to status delivered of each mid', async () => {
    expect(await events('echo')).toMatchObject([{ type: 'status', providerMessageId: 'm_page0002', status: 'sent' }]);
    expect(await events('delivery')).toMatchObject([
      { type: 'status', providerMessageId: 'm_page0002', status: 'delivered', at: 1763894739000 },
      { type: 'status', providerMessageId: 'm_page0003', status: 'delivered', at: 1763894739000 },
    ]);
  });

  it('leaves out read watermarks and standby events (200, nothing stored)', async () => {
    expect(await events('read')).toEqual([]);
    expect(await events('standby')).toEqual([]);
  });
});
