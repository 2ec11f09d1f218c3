import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../../src/core/channel/channel.port.ts';
import { WhatsAppCloudChannel } from '../../../src/channels/whatsapp-cloud/whatsapp-cloud.channel.ts';
import { signWhatsAppBody } from '../../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import type { FastifyInstance } from 'fastify';
import { webhookApp, whatsappFixture, type WebhookApp } from '../support/webhook-app.ts';

const APP_SECRET = 'test-app-secret-3f9a1c';
const PNID = '106540352242922';
const config = {
  id: 'wa-main',
  inbox: 'service',
  enabled: true,
  kind: 'whatsapp-cloud' as const,
  phoneNumberId: PNID,
  accessToken: 'test-access-token',
  appSecret: APP_SECRET,
  verifyToken: 'verify-me-please',
  graphBaseUrl: 'http://127.0.0.1:9',
  graphApiVersion: 'v23.0',
  messagesPerSecond: 80,
};

let hook: WebhookApp;
let app: FastifyInstance;
let otherNumberApp: FastifyInstance;
beforeAll(async () => {
  const unreachable = (() => Promise.reject(new Error('no network in webhook tests'))) as typeof fetch;
  hook = await webhookApp(new WhatsAppCloudChannel(config, { fetch: unreachable }));
  app = hook.app;
  otherNumberApp = (
    await webhookApp(new WhatsAppCloudChannel({ ...config, phoneNumberId: '999999999999' }, { fetch: unreachable }))
  ).app;
});
afterAll(async () => {
  await app.close();
  await otherNumberApp.close();
});

async function post(body: Buffer, signature: string | undefined, target = app) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-hub-signature-256'] = signature;
  return target.inject({ method: 'POST', url: '/webhook', payload: body, headers });
}

/** Replays a recorded body signed byte for byte and returns the mapped events. */
async function replay(name: string): Promise<InboundEvent[]> {
  const body = whatsappFixture(name);
  const response = await post(body, signWhatsAppBody(APP_SECRET, body));
  expect(response.statusCode, response.body).toBe(200);
  const events = hook.received.at(-1)!;
  expect(response.json()).toEqual({ count: events.length });
  return events;
}

describe('WhatsApp Cloud webhook: signature', () => {
  it('accepts the recorded body signed over its exact bytes, with non-ASCII escaped as \\uXXXX', async () => {
    const body = whatsappFixture('text.json');
    expect(body.toString('latin1')).toContain('\\u00fc');
    expect(body.toString('latin1')).toContain('\\ud83d\\udc4d');
    const events = await replay('text.json');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message', text: 'Grüße aus Köln äöå 👍 – https://example.org/a?b=1' });
  });

  it('refuses a signature computed over the decoded (re-serialised) JSON instead of the bytes sent', async () => {
    const body = whatsappFixture('text.json');
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')));
    const response = await post(body, signWhatsAppBody(APP_SECRET, reserialised));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
  });

  it('refuses a missing, malformed, SHA-1 or wrong-secret signature with 401', async () => {
    const body = whatsappFixture('text.json');
    const forged = signWhatsAppBody('someone-elses-secret', body);
    const sha1 = `sha1=${'a'.repeat(40)}`;
    for (const signature of [
      undefined,
      '',
      'sha256=',
      'sha256=zz',
      sha1,
      forged,
      forged.toUpperCase().replace('SHA256', 'sha256').slice(0, 70),
    ]) {
      const response = await post(body, signature);
      expect(response.statusCode, String(signature)).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
    }
  });

  it('accepts an upper-case hex digest of the right HMAC', async () => {
    const body = whatsappFixture('text.json');
    const signature = signWhatsAppBody(APP_SECRET, body);
    const response = await post(body, `sha256=${signature.slice(7).toUpperCase()}`);
    expect(response.statusCode).toBe(200);
  });

  it('refuses a body changed by one byte after signing', async () => {
    const body = whatsappFixture('text.json');
    const signature = signWhatsAppBody(APP_SECRET, body);
    const tampered = Buffer.from(body.toString('latin1').replace('1763900000', '1763900001'), 'latin1');
    expect((await post(tampered, signature)).statusCode).toBe(401);
  });
});

describe('WhatsApp Cloud webhook: handshake', () => {
  it('echoes hub.challenge for the right verify token', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/webhook?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444',
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('1158201444');
  });

  it.each([
    'hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444',
    'hub.mode=unsubscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444',
    'hub.mode=subscribe&hub.challenge=1158201444',
    'hub.mode=subscribe&hub.verify_token=verify-me-please',
    'hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=%3Cscript%3E',
  ])('answers 403 and no challenge for %s', async (query) => {
    const response = await app.inject({ method: 'GET', url: `/webhook?${query}` });
    expect(response.statusCode).toBe(403);
    expect(response.body).not.toContain('1158201444');
    expect(response.body).not.toContain('script');
  });
});

describe('WhatsApp Cloud webhook: phone number id', () => {
  it('leaves out a payload for another number: no event for this channel (the webhook routes place it)', async () => {
    const body = whatsappFixture('batch.json');
    const response = await post(body, signWhatsAppBody(APP_SECRET, body), otherNumberApp);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ count: 0 });
  });

  it('takes the changes of a batch that are for this number and leaves out only the one for another', async () => {
    const whole = whatsappFixture('batch.json');
    const all = (await post(whole, signWhatsAppBody(APP_SECRET, whole))).json() as { count: number };
    const payload = JSON.parse(whole.toString('utf8')) as {
      entry: {
        changes: { value: { metadata: { phone_number_id: string }; messages?: unknown[]; statuses?: unknown[] } }[];
      }[];
    };
    const moved = payload.entry[2]!.changes[1]!.value;
    moved.metadata.phone_number_id = '999999999999';
    const body = Buffer.from(JSON.stringify(payload));
    const response = await post(body, signWhatsAppBody(APP_SECRET, body));
    expect(response.statusCode).toBe(200);
    const movedEvents = (moved.messages?.length ?? 0) + (moved.statuses?.length ?? 0);
    expect(movedEvents).toBeGreaterThan(0);
    expect(response.json()).toEqual({ count: all.count - movedEvents });
  });
});

describe('WhatsApp Cloud webhook: every message type is mapped', () => {
  const sentAt = 1763900000 * 1000;
  const common = {
    type: 'message',
    channelId: 'wa-main',
    address: '4915112345678',
    profileName: 'Jürgen Müller',
    sentAt,
  };

  it('text with reply context, forwarded flag and ad referral; unknown fields tolerated', async () => {
    const [event] = await replay('text-reply-forwarded.json');
    expect(event).toMatchObject({
      ...common,
      kind: 'text',
      text: 'Ja, das passt.',
      replyToProviderMessageId: 'wamid.OUTBOUND1',
      extra: { forwarded: true, referral: { sourceType: 'ad', sourceId: '120' } },
    });
  });

  it.each([
    ['image.json', 'image', 'Schaden am Fahrrad', { providerMediaId: '1037543291543636', mimeType: 'image/jpeg' }],
    ['video.json', 'video', undefined, { providerMediaId: '1166846181421424', mimeType: 'video/mp4' }],
    ['audio-voice.json', 'voice', undefined, { providerMediaId: '1203471430939125', mimeType: 'audio/ogg' }],
    ['audio.json', 'audio', undefined, { providerMediaId: '1203471430939126', mimeType: 'audio/mpeg' }],
    [
      'document.json',
      'document',
      'Rechnung',
      { providerMediaId: '1003383421387256', mimeType: 'application/pdf', fileName: 'Rechnung_2025-11.pdf' },
    ],
    ['sticker.json', 'sticker', undefined, { providerMediaId: '1109186220480543', mimeType: 'image/webp' }],
  ])('%s → kind %s with a media reference to fetch later', async (file, kind, text, media) => {
    const [event] = await replay(file);
    expect(event).toMatchObject({ ...common, kind, text, media });
    expect((event as { media: { sha256: string } }).media.sha256).toMatch(/=$/);
  });

  it('location → text summary and coordinates kept as extra', async () => {
    const [event] = await replay('location.json');
    expect(event).toMatchObject({
      ...common,
      kind: 'location',
      text: 'Alexanderplatz, Alexanderplatz 1, 10178 Berlin',
      extra: { location: { latitude: 52.520008, longitude: 13.404954 } },
    });
  });

  it('contacts → names as text, cards as extra', async () => {
    const [event] = await replay('contacts.json');
    expect(event).toMatchObject({
      ...common,
      kind: 'contacts',
      text: 'Erika Mustermann',
      extra: {
        contacts: [{ name: 'Erika Mustermann', phones: [{ waId: '4915198765432' }], company: 'Beispiel GmbH' }],
      },
    });
  });

  it('interactive button_reply and list_reply → kind button with the id tapped', async () => {
    expect((await replay('interactive-button-reply.json'))[0]).toMatchObject({
      ...common,
      kind: 'button',
      buttonId: 'consent:yes',
      text: 'Ja, einverstanden',
      replyToProviderMessageId: 'wamid.NOTICE1',
    });
    expect((await replay('interactive-list-reply.json'))[0]).toMatchObject({
      kind: 'button',
      buttonId: 'topic:billing',
      text: 'Rechnung',
      extra: { description: 'Fragen zur Rechnung' },
    });
  });

  it('interactive nfm_reply (a completed Flow) → text with the answers as extra', async () => {
    expect((await replay('interactive-nfm-reply.json'))[0]).toMatchObject({
      kind: 'text',
      text: 'Sent',
      extra: { flow: { name: 'flow', response: { rating: '4' } } },
    });
  });

  it('template quick-reply button → kind button with its payload', async () => {
    expect((await replay('button-template-quick-reply.json'))[0]).toMatchObject({
      kind: 'button',
      buttonId: 'STOP_PROMOTIONS',
      text: 'Keine Werbung',
      replyToProviderMessageId: 'wamid.TEMPLATE1',
    });
  });

  it('reaction and its removal', async () => {
    expect((await replay('reaction.json'))[0]).toMatchObject({
      kind: 'reaction',
      text: '❤️',
      replyToProviderMessageId: 'wamid.OUTBOUND1',
      extra: { reaction: { removed: false } },
    });
    expect((await replay('reaction-removed.json'))[0]).toMatchObject({
      kind: 'reaction',
      text: undefined,
      replyToProviderMessageId: 'wamid.OUTBOUND1',
      extra: { reaction: { removed: true } },
    });
  });

  it('order → items as extra', async () => {
    expect((await replay('order.json'))[0]).toMatchObject({
      kind: 'order',
      text: 'Bitte bis Freitag',
      extra: {
        order: {
          catalogId: '194836987003835',
          items: [
            { productId: 'sku-1', quantity: 2, price: 19.99, currency: 'EUR' },
            { productId: 'sku-2', quantity: 1, price: 5, currency: 'EUR' },
          ],
        },
      },
    });
  });

  it('edit and revoke → their own event types pointing at the original message', async () => {
    expect((await replay('edit.json'))[0]).toEqual({
      type: 'edit',
      channelId: 'wa-main',
      providerMessageId: 'wamid.EDIT1',
      originalProviderMessageId: 'wamid.ORIGINAL1',
      address: '4915112345678',
      sentAt,
      text: 'Korrigiert: 15 Uhr',
    });
    expect((await replay('revoke.json'))[0]).toEqual({
      type: 'revoke',
      channelId: 'wa-main',
      providerMessageId: 'wamid.REVOKE1',
      originalProviderMessageId: 'wamid.ORIGINAL1',
      address: '4915112345678',
      sentAt,
    });
  });

  it('system user_changed_number (no contacts block) → system event with the new address', async () => {
    expect((await replay('system-user-changed-number.json'))[0]).toEqual({
      type: 'system',
      channelId: 'wa-main',
      providerMessageId: 'wamid.SYSTEM1',
      address: '4915112345678',
      sentAt,
      systemType: 'user_changed_number',
      newAddress: '4915187654321',
    });
    expect((await replay('system-identity-changed.json'))[0]).toMatchObject({
      type: 'system',
      systemType: 'customer_identity_changed',
      newAddress: undefined,
    });
  });

  it('unsupported with errors, and an unknown type → kind unsupported', async () => {
    expect((await replay('unsupported.json'))[0]).toMatchObject({
      kind: 'unsupported',
      providerMessageId: 'wamid.UNSUP1',
      extra: {
        providerType: 'unsupported',
        errors: [{ code: '131051', reason: 'Message type is currently not supported.' }],
      },
    });
    expect((await replay('unknown-type.json'))[0]).toMatchObject({
      kind: 'unsupported',
      providerMessageId: 'wamid.WELCOME1',
      extra: { providerType: 'request_welcome' },
    });
  });

  it('every recorded fixture is accepted (none is refused by the parser)', async () => {
    const files = readdirSync(path.join(import.meta.dirname, '../../fixtures/whatsapp')).filter((f) =>
      f.endsWith('.json'),
    );
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const file of files) await replay(file);
  });
});

describe('WhatsApp Cloud webhook: statuses, errors, other fields', () => {
  it('sent with conversation and old CBP pricing', async () => {
    expect(await replay('status-sent-cbp.json')).toEqual([
      {
        type: 'status',
        channelId: 'wa-main',
        providerMessageId: 'wamid.OUTBOUND1',
        status: 'sent',
        at: 1763900100 * 1000,
        error: undefined,
        pricingCategory: 'service',
      },
    ]);
  });

  it('delivered with new PMP pricing and no conversation; read with neither', async () => {
    expect(await replay('status-delivered-pmp.json')).toMatchObject([
      { status: 'delivered', pricingCategory: 'service' },
    ]);
    expect(await replay('status-read.json')).toMatchObject([{ status: 'read', pricingCategory: undefined }]);
  });

  it('failed carries the provider code and the details as reason', async () => {
    expect(await replay('status-failed.json')).toMatchObject([
      {
        status: 'failed',
        providerMessageId: 'wamid.OUTBOUND2',
        error: {
          code: '131047',
          reason:
            'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        },
      },
    ]);
  });

  it('an unknown status value (played) is left out, not refused', async () => {
    expect(await replay('status-played.json')).toEqual([]);
  });

  it('value.errors → error events', async () => {
    expect(await replay('value-errors.json')).toEqual([
      { type: 'error', channelId: 'wa-main', code: '130429', reason: 'Cloud API message throughput has been reached.' },
    ]);
  });

  it('changes with another field are ignored', async () => {
    expect(await replay('other-field.json')).toEqual([]);
  });

  it('a batch of 3 entries × 2 changes with several messages and statuses yields every event in order', async () => {
    const events = await replay('batch.json');
    const messages = events.filter((e) => e.type === 'message');
    const statuses = events.filter((e) => e.type === 'status');
    expect(messages.map((m) => m.providerMessageId)).toEqual(
      Array.from({ length: 15 }, (_, i) => `wamid.BATCH${String(i + 1).padStart(2, '0')}`),
    );
    expect(statuses.map((s) => s.providerMessageId)).toEqual(['wamid.OUT01', 'wamid.OUT11', 'wamid.OUT21']);
    // Each message keeps its own sender and profile name (contacts are per change).
    expect(messages[3]).toMatchObject({ address: '4915100000001', profileName: 'Kunde 01', text: 'Nachricht 4 ä' });
    expect(messages[14]).toMatchObject({ address: '4915100000021', profileName: 'Kunde 21' });
  });
});

describe('WhatsApp Cloud webhook: malformed payloads', () => {
  async function signedPost(payload: unknown) {
    const body = Buffer.from(JSON.stringify(payload));
    return post(body, signWhatsAppBody(APP_SECRET, body));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- payload surgery on a recorded body
  const base = () => JSON.parse(whatsappFixture('text.json').toString('utf8')) as Record<string, any>;

  it('a known type whose object is not the documented shape is kept as unsupported (malformed), not refused', async () => {
    const noBody = base();
    noBody.entry[0].changes[0].value.messages[0].text = {};
    const badEdit = base();
    badEdit.entry[0].changes[0].value.messages[0] = {
      ...badEdit.entry[0].changes[0].value.messages[0],
      type: 'edit',
      edit: { original_message_id: 'wamid.X', message: { type: 'text', text: { body: 42 } } },
    };
    for (const payload of [noBody, badEdit]) {
      const response = await signedPost(payload);
      expect(response.statusCode).toBe(200);
      expect(hook.received.at(-1)).toMatchObject([
        { type: 'message', kind: 'unsupported', address: '4915112345678', extra: { malformed: true } },
      ]);
    }
  });

  it('another object type, a message without id, timestamp or sender → 400, no value echoed', async () => {
    const wrongObject = { ...base(), object: 'page' };
    const noId = base();
    delete noId.entry[0].changes[0].value.messages[0].id;
    const badTimestamp = base();
    badTimestamp.entry[0].changes[0].value.messages[0].timestamp = 'yesterday';
    const noSender = base();
    delete noSender.entry[0].changes[0].value.messages[0].from;
    for (const payload of [wrongObject, noId, badTimestamp, noSender, [], 'text']) {
      const response = await signedPost(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'VALIDATION' } });
      expect(response.body).not.toContain('4915112345678');
      expect(response.body).not.toContain('Köln');
    }
  });
});
