import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessage } from '../../src/core/channel/channel.port.ts';
import { ChannelApiError } from '../../src/core/channel/channel-errors.ts';
import { WhatsAppCloudChannel } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.channel.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { registerRawJsonParser } from '../../src/http/raw-body.ts';
import { toWebhookRequest } from '../../src/http/webhooks/webhook-request.ts';
import { startSimulator, type WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';

const SECRETS = { appSecret: 'sim-app-secret', accessToken: 'sim-access-token', verifyToken: 'sim-verify-token' };
const PNID = '106540352242922';
const CUSTOMER = '4915112345678';

/** sparsam's side for these tests: the real channel behind sparsam's raw-body parser, answering as told. */
let app: FastifyInstance;
let webhookUrl = '';
let received: InboundEvent[] = [];
let answers: number[] = [];
let channel: WhatsAppCloudChannel;
let sim: WhatsAppSimulator;
let now = Date.parse('2026-11-23T10:00:00Z');

beforeAll(async () => {
  app = Fastify({ logger: false });
  registerRawJsonParser(app);
  registerErrorHandler(app);
  app.route({
    method: ['GET', 'POST'],
    url: '/webhooks/whatsapp/wa-sim',
    handler: async (request, reply) => {
      const result = await channel.verifyAndParse(toWebhookRequest(request));
      if (result.kind === 'handshake') return reply.status(result.status).send(result.body);
      const status = answers.shift() ?? 200;
      if (status === 200) received.push(...result.events);
      return reply.status(status).send({ ok: status === 200 });
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  webhookUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/webhooks/whatsapp/wa-sim`;
});
afterAll(async () => {
  await app.close();
});

beforeEach(async () => {
  received = [];
  answers = [];
  now = Date.parse('2026-11-23T10:00:00Z');
  sim = await startSimulator({
    ...SECRETS,
    phoneNumberId: PNID,
    webhookUrl,
    retryDelaysMs: [20, 20, 20],
    statusDelayMs: 5,
    now: () => now,
  });
  channel = new WhatsAppCloudChannel(
    {
      id: 'wa-sim',
      inbox: 'service',
      enabled: true,
      kind: 'whatsapp-cloud',
      phoneNumberId: PNID,
      ...SECRETS,
      graphBaseUrl: sim.url,
      graphApiVersion: 'v23.0',
      messagesPerSecond: 80,
    },
    { fetch: globalThis.fetch },
  );
});
afterEach(async () => {
  await sim.close();
});

const messages = () => received.filter((e): e is InboundMessage => e.type === 'message');

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('simulator → sparsam: customer messages', () => {
  it('a customer message arrives signed as Meta does it and maps to the text written', async () => {
    const delivery = await sim.sendCustomerMessage({
      from: `+${CUSTOMER}`,
      name: 'Jürgen',
      text: 'Grüße aus Köln 👍 https://x.org/a',
    });
    expect(delivery.delivered).toBe(true);
    expect(delivery.attempts).toEqual([{ status: 200, body: '{"ok":true}' }]);
    expect(delivery.payload).toContain('Gr\\u00fc\\u00dfe');
    expect(delivery.payload).toContain('\\ud83d\\udc4d');
    expect(delivery.payload).toContain('https:\\/\\/x.org\\/a');
    expect(messages()).toMatchObject([
      {
        address: CUSTOMER,
        profileName: 'Jürgen',
        kind: 'text',
        text: 'Grüße aus Köln 👍 https://x.org/a',
        providerMessageId: delivery.messageId,
      },
    ]);
  });

  it('retries until sparsam answers 200, and reports every attempt', async () => {
    answers = [500, 503];
    const delivery = await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(delivery.delivered).toBe(true);
    expect(messages()).toHaveLength(1);
  });

  it('gives up after the configured retries and says so', async () => {
    answers = [500, 500, 500, 500];
    const delivery = await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500]);
    expect(delivery.delivered).toBe(false);
    expect(messages()).toHaveLength(0);
  });

  it('the GET handshake with the verify token is answered with the challenge', async () => {
    const ok = await sim.verifyWebhook();
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(ok.challenge);
    expect((await sim.verifyWebhook('wrong')).status).toBe(403);
  });

  it('a photo: the webhook carries a media id that the channel downloads with its token', async () => {
    const photo = Buffer.from('\xff\xd8\xff\xe0 fake jpeg bytes', 'latin1');
    await sim.sendCustomerMessage({ from: CUSTOMER, image: { data: photo, caption: 'Schaden' } });
    const [message] = messages();
    expect(message).toMatchObject({ kind: 'image', text: 'Schaden', media: { mimeType: 'image/jpeg' } });
    const media = await channel.downloadMedia(message!.media!);
    expect(media.data.equals(photo)).toBe(true);
    // Without the token the download URL is refused, as on Meta's lookaside host.
    const info = (await (
      await fetch(`${sim.url}/v23.0/${message!.media!.providerMediaId}`, {
        headers: { authorization: `Bearer ${SECRETS.accessToken}` },
      })
    ).json()) as { url: string };
    expect((await fetch(info.url)).status).toBe(401);
  });
});

describe('sparsam → simulator: Graph API', () => {
  it('free text inside the window is accepted, recorded, and followed by sent/delivered/read webhooks', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    const result = await channel.send({ type: 'text', address: CUSTOMER, text: 'Guten Tag!' });
    expect(result.providerMessageId).toMatch(/^wamid\./);
    expect(sim.sentMessages()).toMatchObject([
      { id: result.providerMessageId, to: CUSTOMER, type: 'text', text: 'Guten Tag!' },
    ]);
    await sim.settle();
    expect(sim.statuses.map((s) => [s.status, s.delivered])).toEqual([
      ['sent', true],
      ['delivered', true],
      ['read', true],
    ]);
    expect(received.filter((e) => e.type === 'status')).toMatchObject([
      { providerMessageId: result.providerMessageId, status: 'sent' },
      { providerMessageId: result.providerMessageId, status: 'delivered' },
      { providerMessageId: result.providerMessageId, status: 'read' },
    ]);
  });

  it('failNextDelivery: the send is accepted, then a failed status webhook carries the provider error', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    sim.failNextDelivery();
    const result = await channel.send({ type: 'text', address: CUSTOMER, text: 'kommt nicht an' });
    await sim.settle();
    expect(received.filter((e) => e.type === 'status')).toMatchObject([
      { providerMessageId: result.providerMessageId, status: 'sent' },
      {
        providerMessageId: result.providerMessageId,
        status: 'failed',
        error: { code: '131026', reason: 'Message Undeliverable.' },
      },
    ]);
    // Only the next message fails.
    await channel.send({ type: 'text', address: CUSTOMER, text: 'kommt an' });
    await sim.settle();
    expect(sim.statuses.map((s) => s.status)).toEqual(['sent', 'failed', 'sent', 'delivered', 'read']);
  });

  it('free text to a customer who never wrote is refused with 131047; a template is accepted', async () => {
    const error = await failure(channel.send({ type: 'text', address: CUSTOMER, text: 'Hallo?' }));
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({ providerCode: '131047', retryable: false });
    const sent = await channel.send({
      type: 'template',
      address: CUSTOMER,
      name: 'follow_up',
      language: 'de',
      parameters: ['Anfrage 7'],
    });
    expect(sim.sentMessages()).toMatchObject([
      {
        id: sent.providerMessageId,
        type: 'template',
        template: { name: 'follow_up', language: 'de', parameters: ['Anfrage 7'] },
      },
    ]);
  });

  it('the window closes 24 hours after the customer’s last message', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    now += 24 * 60 * 60 * 1000 - 1000;
    await channel.send({ type: 'text', address: CUSTOMER, text: 'noch offen' });
    now += 2000;
    expect(await failure(channel.send({ type: 'text', address: CUSTOMER, text: 'zu spät' }))).toMatchObject({
      providerCode: '131047',
    });
    expect(sim.sentMessages().map((m) => m.text)).toEqual(['noch offen']);
  });

  it('reply buttons reach the phone; a tap comes back as a button event pointing at that message', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    const sent = await channel.send({
      type: 'buttons',
      address: CUSTOMER,
      text: 'Einverstanden?',
      buttons: [
        { id: 'consent:yes', title: 'Ja' },
        { id: 'consent:no', title: 'Nein' },
      ],
    });
    expect(sim.sentMessages()[0]!.buttons).toEqual([
      { id: 'consent:yes', title: 'Ja' },
      { id: 'consent:no', title: 'Nein' },
    ]);
    await sim.sendCustomerMessage({ from: CUSTOMER, buttonReply: { id: 'consent:yes', title: 'Ja' } });
    expect(messages().at(-1)).toMatchObject({
      kind: 'button',
      buttonId: 'consent:yes',
      replyToProviderMessageId: sent.providerMessageId,
    });
  });

  it('failure mode 429: retryable with Retry-After, then normal again', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    sim.failureMode({ status: 429, forMs: 3000 });
    expect(await failure(channel.send({ type: 'text', address: CUSTOMER, text: 'x' }))).toMatchObject({
      providerCode: '130429',
      httpStatus: 429,
      retryable: true,
      retryAfterMs: 3000,
    });
    now += 3001;
    await channel.send({ type: 'text', address: CUSTOMER, text: 'x' });
    expect(sim.sentMessages()).toHaveLength(1);
  });

  it('failure mode 500 → retryable 131000', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    sim.failureMode({ status: 500, forMs: 1000 });
    expect(await failure(channel.send({ type: 'text', address: CUSTOMER, text: 'x' }))).toMatchObject({
      providerCode: '131000',
      httpStatus: 500,
      retryable: true,
    });
  });

  it('a wrong token is refused with 190; bad bodies with 400 and a Graph error', async () => {
    const post = (body: unknown, token = SECRETS.accessToken) =>
      fetch(`${sim.url}/v23.0/${PNID}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const wrongToken = await post(
      { messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'x' } },
      'nope',
    );
    expect(wrongToken.status).toBe(401);
    expect(await wrongToken.json()).toMatchObject({ error: { code: 190 } });
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    const buttons = (n: number, title = 'B') => ({
      type: 'button',
      body: { text: 'x' },
      action: {
        buttons: Array.from({ length: n }, (_, i) => ({
          type: 'reply',
          reply: { id: `b${i}`, title: `${title}${i}` },
        })),
      },
    });
    for (const bad of [
      { to: CUSTOMER, type: 'text', text: { body: 'x' } },
      { messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: {} },
      { messaging_product: 'whatsapp', to: 'abc', type: 'text', text: { body: 'x' } },
      { messaging_product: 'whatsapp', to: CUSTOMER, type: 'interactive', interactive: buttons(4) },
      { messaging_product: 'whatsapp', to: CUSTOMER, type: 'interactive', interactive: buttons(1, 'x'.repeat(21)) },
      { messaging_product: 'whatsapp', to: CUSTOMER, type: 'image', image: { id: 'unknown' } },
    ]) {
      const response = await post(bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 100, type: 'OAuthException' } });
    }
    expect(sim.sentMessages()).toHaveLength(0);
  });

  it('media: multipart upload, then the message by id', async () => {
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    await channel.send({
      type: 'media',
      address: CUSTOMER,
      mediaType: 'image',
      data: Buffer.from('png-bytes'),
      mimeType: 'image/png',
      caption: 'Plan',
    });
    const [sent] = sim.sentMessages();
    expect(sent).toMatchObject({ type: 'image', text: 'Plan' });
    const info = (await (
      await fetch(`${sim.url}/v23.0/${sent!.mediaId}`, { headers: { authorization: `Bearer ${SECRETS.accessToken}` } })
    ).json()) as { mime_type: string; file_size: string };
    expect(info).toMatchObject({ mime_type: 'image/png', file_size: '9' });
  });

  it('mark as read is accepted for a customer message and refused (131009) for an unknown id', async () => {
    const delivery = await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    await channel.send({ type: 'read', providerMessageId: delivery.messageId });
    expect(sim.readReceipts).toEqual([delivery.messageId]);
    expect(await failure(channel.send({ type: 'read', providerMessageId: 'wamid.nope' }))).toMatchObject({
      providerCode: '131009',
    });
  });
});

describe('the customer phone page', () => {
  it('serves the page and a thread with both directions and the reply buttons', async () => {
    const page = await fetch(`${sim.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('phone/send');
    const sentByPage = await fetch(`${sim.url}/phone/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: CUSTOMER, name: 'Eva', text: 'Vom Telefon' }),
    });
    expect(await sentByPage.json()).toEqual({ delivered: true, attempts: [200] });
    await channel.send({ type: 'buttons', address: CUSTOMER, text: 'Ok?', buttons: [{ id: 'y', title: 'Ja' }] });
    const thread = (await (await fetch(`${sim.url}/phone/thread?number=${CUSTOMER}`)).json()) as {
      thread: { direction: string; text: string; buttons?: unknown[] }[];
      windowOpen: boolean;
    };
    expect(thread.windowOpen).toBe(true);
    expect(thread.thread).toMatchObject([
      { direction: 'in', text: 'Vom Telefon' },
      { direction: 'out', text: 'Ok?', buttons: [{ id: 'y', title: 'Ja' }] },
    ]);
    expect(messages()).toMatchObject([{ profileName: 'Eva', text: 'Vom Telefon' }]);
  });
});
