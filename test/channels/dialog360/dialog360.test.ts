import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../../src/core/channel/channel.port.ts';
import { Dialog360Channel } from '../../../src/channels/dialog360/dialog360.channel.ts';
import { swapToApiHost } from '../../../src/channels/dialog360/dialog360.client.ts';
import { webhookApp, whatsappFixture } from '../support/webhook-app.ts';

const SECRET = 'd360-webhook-secret-0123456789';
const API_KEY = 'd360-api-key-abc';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}
let api: Server;
let apiBase = '';
let seen: Seen[] = [];
let handler: (req: Seen, res: ServerResponse) => void = (_req, res) => res.writeHead(500).end();

let app: FastifyInstance;
let received: InboundEvent[][];

function channel(overrides: Record<string, unknown> = {}) {
  return new Dialog360Channel(
    {
      id: 'd360',
      inbox: 'service',
      enabled: true,
      kind: 'dialog360',
      apiKey: API_KEY,
      webhookSecret: SECRET,
      webhookSecretInUrl: false,
      apiBaseUrl: apiBase,
      messagesPerSecond: 80,
      ...overrides,
    },
    { fetch: globalThis.fetch },
  );
}

beforeAll(async () => {
  api = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const hook = await webhookApp(channel({ phoneNumberId: '106540352242922' }));
  app = hook.app;
  received = hook.received;
});
afterAll(async () => {
  await app.close();
  api.closeAllConnections();
  await new Promise<void>((resolve) => api.close(() => resolve()));
});
afterEach(() => {
  seen = [];
});

describe('360dialog webhook authentication', () => {
  const post = (url: string, headers: Record<string, string> = {}, body = whatsappFixture('text.json')) =>
    app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json', ...headers } });

  it('accepts the Cloud API payload with the secret header and maps it like the Cloud API', async () => {
    const response = await post('/webhook', { 'x-sparsam-webhook-secret': SECRET });
    expect(response.statusCode).toBe(200);
    expect(received.at(-1)).toMatchObject([
      { type: 'message', channelId: 'd360', kind: 'text', text: 'Grüße aus Köln äöå 👍 – https://example.org/a?b=1' },
    ]);
  });

  it('refuses the secret as ?token= on the URL (it would sit in access logs), even beside a right header', async () => {
    for (const headers of [{}, { 'x-sparsam-webhook-secret': SECRET }] as Record<string, string>[]) {
      const response = await post(`/webhook?token=${SECRET}`, headers);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.message).toMatch(/not accepted in the URL.*x-sparsam-webhook-secret header/);
    }
  });

  it('accepts ?token= only from a channel configured for a URL-only webhook (webhookSecretInUrl)', async () => {
    const hook = await webhookApp(channel({ phoneNumberId: '106540352242922', webhookSecretInUrl: true }));
    try {
      const post2 = (url: string) =>
        hook.app.inject({
          method: 'POST',
          url,
          payload: whatsappFixture('text.json'),
          headers: { 'content-type': 'application/json' },
        });
      expect((await post2(`/webhook?token=${SECRET}`)).statusCode).toBe(200);
      expect((await post2('/webhook?token=wrong')).statusCode).toBe(401);
    } finally {
      await hook.app.close();
    }
  });

  it.each([
    ['no secret', '/webhook', {}],
    ['a wrong header', '/webhook', { 'x-sparsam-webhook-secret': 'wrong' }],
    ['a wrong token', '/webhook?token=wrong', {}],
    ['a prefix of the secret', '/webhook', { 'x-sparsam-webhook-secret': SECRET.slice(0, -1) }],
    ['a right header with a wrong token', '/webhook?token=wrong', { 'x-sparsam-webhook-secret': SECRET }],
    ['the token twice', `/webhook?token=${SECRET}&token=${SECRET}`, {}],
    ["Meta's signature instead", '/webhook', { 'x-hub-signature-256': `sha256=${'a'.repeat(64)}` }],
  ])('refuses %s with 401', async (_name, url, headers) => {
    const response = await post(url, headers as Record<string, string>);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
  });

  it('leaves out a payload for another phone number id when one is configured', async () => {
    const body = Buffer.from(
      whatsappFixture('text.json').toString('latin1').replace('106540352242922', '999999999999'),
      'latin1',
    );
    const response = await post('/webhook', { 'x-sparsam-webhook-secret': SECRET }, body);
    expect(response.statusCode).toBe(200);
    expect(received.at(-1)).toEqual([]);
  });

  it('a batch yields every event', async () => {
    await post('/webhook', { 'x-sparsam-webhook-secret': SECRET }, whatsappFixture('batch.json'));
    expect(received.at(-1)!.filter((e) => e.type === 'message')).toHaveLength(15);
  });
});

describe('360dialog API calls', () => {
  it('sends to {apiBaseUrl}/messages with D360-API-KEY and the Cloud API body, no Bearer token', async () => {
    handler = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ messages: [{ id: 'wamid.D360' }] }));
    const result = await channel().send({ type: 'text', address: '4915112345678', text: 'Hallo' });
    expect(result.providerMessageId).toBe('wamid.D360');
    expect(seen[0]!.url).toBe('/messages');
    expect(seen[0]!.headers['d360-api-key']).toBe(API_KEY);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toMatchObject({
      messaging_product: 'whatsapp',
      to: '4915112345678',
      text: { body: 'Hallo', preview_url: false },
    });
  });

  it('media: GET /{media-id}, then the lookaside URL with its host swapped to the 360dialog host', async () => {
    handler = (req, res) => {
      if (req.url === '/1037543291543636') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1763900300&hash=ATu',
            mime_type: 'image/jpeg',
            file_size: '5',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end('bytes');
    };
    const media = await channel().downloadMedia({
      providerMediaId: '1037543291543636',
      mimeType: undefined,
      fileName: undefined,
      sha256: undefined,
      size: undefined,
    });
    expect(media.data.toString()).toBe('bytes');
    expect(seen.map((s) => s.url)).toEqual([
      '/1037543291543636',
      '/whatsapp_business/attachments/?mid=1037543291543636&ext=1763900300&hash=ATu',
    ]);
    expect(seen.every((s) => s.headers['d360-api-key'] === API_KEY)).toBe(true);
  });

  it('the API key only ever goes to the configured host, whatever URL the lookup returns', () => {
    const host = new URL('https://waba-v2.360dialog.io');
    expect(swapToApiHost('https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3', host)).toBe(
      'https://waba-v2.360dialog.io/whatsapp_business/attachments/?mid=1&ext=2&hash=3',
    );
    expect(swapToApiHost('http://evil.example/x?y=1', host)).toBe('https://waba-v2.360dialog.io/x?y=1');
  });

  it('a 360dialog error body becomes a ChannelApiError with its code', async () => {
    handler = (_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            code: 131047,
            message: '(#131047) Re-engagement message',
            error_data: { details: 'more than 24 hours' },
          },
        }),
      );
    await expect(channel().send({ type: 'text', address: '491', text: 'x' })).rejects.toMatchObject({
      providerCode: '131047',
      reason: 'more than 24 hours',
      retryable: false,
    });
  });
});
