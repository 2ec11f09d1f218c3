import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChannelApiError, ChannelNetworkError } from '../../../src/core/channel/channel-errors.ts';
import { WhatsAppCloudChannel } from '../../../src/channels/whatsapp-cloud/whatsapp-cloud.channel.ts';
import { parseRetryAfter } from '../../../src/channels/whatsapp-cloud/whatsapp-cloud.client.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let base = '';
let seen: Seen[] = [];
let handler: Handler = (_req, res) => res.writeHead(500).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  seen = [];
});

const TOKEN = 'EAAG-test-token';
function channel(overrides: Record<string, unknown> = {}, timeoutMs?: number) {
  return new WhatsAppCloudChannel(
    {
      id: 'wa-main',
      inbox: 'service',
      enabled: true,
      kind: 'whatsapp-cloud',
      phoneNumberId: '106540352242922',
      accessToken: TOKEN,
      appSecret: 'secret',
      verifyToken: 'verify',
      graphBaseUrl: base,
      graphApiVersion: 'v23.0',
      messagesPerSecond: 80,
      ...overrides,
    },
    { fetch: globalThis.fetch, ...(timeoutMs ? { timeoutMs } : {}) },
  );
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const accepted = (res: ServerResponse) =>
  json(res, 200, {
    messaging_product: 'whatsapp',
    contacts: [{ input: '4915112345678', wa_id: '4915112345678' }],
    messages: [{ id: 'wamid.SENT1' }],
  });

function graphError(code: number, message: string, details?: string) {
  return {
    error: {
      message: `(#${code}) ${message}`,
      type: 'OAuthException',
      code,
      ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
      fbtrace_id: 'A4O5a8RAgePwbcGSu',
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('WhatsApp Cloud client: what is sent', () => {
  it('text: POST /v23.0/{pnid}/messages with Bearer token, preview_url false, reply context', async () => {
    handler = (_req, res) => accepted(res);
    const result = await channel().send({
      type: 'text',
      address: '4915112345678',
      text: 'Hallo ä',
      replyToProviderMessageId: 'wamid.IN1',
    });
    expect(result).toEqual({ providerMessageId: 'wamid.SENT1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/v23.0/106540352242922/messages');
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4915112345678',
      type: 'text',
      text: { preview_url: false, body: 'Hallo ä' },
      context: { message_id: 'wamid.IN1' },
    });
  });

  it('reply buttons: interactive button body with up to 3 reply buttons and a footer', async () => {
    handler = (_req, res) => accepted(res);
    await channel().send({
      type: 'buttons',
      address: '4915112345678',
      text: 'Datenschutzhinweis …',
      footer: 'sparsam',
      buttons: [
        { id: 'consent:yes', title: 'Einverstanden' },
        { id: 'consent:no', title: 'Nein' },
      ],
    });
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Datenschutzhinweis …' },
        footer: { text: 'sparsam' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'consent:yes', title: 'Einverstanden' } },
            { type: 'reply', reply: { id: 'consent:no', title: 'Nein' } },
          ],
        },
      },
    });
  });

  it('interactive list: body, the button and sections with rows (sendInteractiveList)', async () => {
    handler = (_req, res) => accepted(res);
    await channel().send({
      type: 'list',
      address: '4915112345678',
      text: 'Welcher Termin passt?',
      list: {
        button: 'Termine',
        sections: [
          { title: 'Vormittag', rows: [{ id: 'row-1', title: 'Dienstag 9 Uhr', description: 'Halle 2' }] },
          { title: 'Nachmittag', rows: [{ id: 'row-2', title: 'Mittwoch 14 Uhr' }] },
        ],
      },
    });
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Welcher Termin passt?' },
        action: {
          button: 'Termine',
          sections: [
            { title: 'Vormittag', rows: [{ id: 'row-1', title: 'Dienstag 9 Uhr', description: 'Halle 2' }] },
            { title: 'Nachmittag', rows: [{ id: 'row-2', title: 'Mittwoch 14 Uhr' }] },
          ],
        },
      },
    });
  });

  it.each([
    [
      'eleven rows',
      { button: 'B', sections: [{ rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `R${i}` })) }] },
    ],
    ['a 25-character row title', { button: 'B', sections: [{ rows: [{ id: 'r', title: 'x'.repeat(25) }] }] }],
    ['a 21-character button', { button: 'x'.repeat(21), sections: [{ rows: [{ id: 'r', title: 'R' }] }] }],
    [
      'duplicate row ids',
      {
        button: 'B',
        sections: [
          {
            rows: [
              { id: 'r', title: 'A' },
              { id: 'r', title: 'B' },
            ],
          },
        ],
      },
    ],
    [
      'two sections without titles',
      { button: 'B', sections: [{ rows: [{ id: 'a', title: 'A' }] }, { rows: [{ id: 'b', title: 'B' }] }] },
    ],
  ])('refuses a list with %s before calling the API', async (_name, list) => {
    const error = await failure(channel().send({ type: 'list', address: '491', text: 'x', list }));
    expect(error).toMatchObject({ providerCode: 'invalid_request', retryable: false });
    expect(seen).toHaveLength(0);
  });

  it('more than three answers: an interactive list of one section, opened by the list button', async () => {
    handler = (_req, res) => accepted(res);
    await channel().send({
      type: 'buttons',
      address: '4915112345678',
      text: 'Wie zufrieden waren Sie? 1–5',
      listButton: 'Bewerten',
      buttons: [1, 2, 3, 4, 5].map((i) => ({ id: `csat:s:${i}`, title: String(i) })),
    });
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4915112345678',
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Wie zufrieden waren Sie? 1–5' },
        action: {
          button: 'Bewerten',
          sections: [{ rows: [1, 2, 3, 4, 5].map((i) => ({ id: `csat:s:${i}`, title: String(i) })) }],
        },
      },
    });
  });

  it.each([
    ['eleven buttons (a list holds ten rows)', Array.from({ length: 11 }, (_, i) => ({ id: `b${i}`, title: `B${i}` }))],
    ['a 25-character row title in a list', [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: 'x'.repeat(21 + i) }))],
    ['a 21-character title', [{ id: 'a', title: 'x'.repeat(21) }]],
    ['an empty title', [{ id: 'a', title: '' }]],
    [
      'duplicate titles',
      [
        { id: 'a', title: 'Ja' },
        { id: 'b', title: 'Ja' },
      ],
    ],
    ['no buttons', []],
  ])('refuses %s before calling the API (not retryable)', async (_name, buttons) => {
    const error = await failure(channel().send({ type: 'buttons', address: '491', text: 'x', buttons }));
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({ providerCode: 'invalid_request', retryable: false });
    expect(seen).toHaveLength(0);
  });

  it('a 20-character title with emoji counts characters, not UTF-16 units', async () => {
    handler = (_req, res) => accepted(res);
    await channel().send({
      type: 'buttons',
      address: '491',
      text: 'x',
      buttons: [{ id: 'a', title: `${'x'.repeat(19)}👍` }],
    });
    expect(seen).toHaveLength(1);
  });

  it('template: name, language code and body parameters', async () => {
    handler = (_req, res) => accepted(res);
    await channel().send({
      type: 'template',
      address: '4915112345678',
      name: 'follow_up',
      language: 'de',
      parameters: ['Anfrage 42'],
    });
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toMatchObject({
      type: 'template',
      template: {
        name: 'follow_up',
        language: { code: 'de' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Anfrage 42' }] }],
      },
    });
  });

  it('media: multipart upload to /{pnid}/media, then the message by media id', async () => {
    handler = (req, res) => (req.url.endsWith('/media') ? json(res, 200, { id: 'MEDIA-77' }) : accepted(res));
    const data = Buffer.from('%PDF-1.4 test');
    await channel().send({
      type: 'media',
      address: '4915112345678',
      mediaType: 'document',
      data,
      mimeType: 'application/pdf',
      fileName: 'Angebot.pdf',
      caption: 'Ihr Angebot',
    });
    expect(seen.map((s) => s.url)).toEqual(['/v23.0/106540352242922/media', '/v23.0/106540352242922/messages']);
    expect(seen[0]!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const form = seen[0]!.body.toString('latin1');
    expect(form).toContain('name="messaging_product"\r\n\r\nwhatsapp');
    expect(form).toContain('name="type"\r\n\r\napplication/pdf');
    expect(form).toContain('name="file"; filename="Angebot.pdf"');
    expect(form).toContain('%PDF-1.4 test');
    expect(JSON.parse(seen[1]!.body.toString('utf8'))).toMatchObject({
      type: 'document',
      document: { id: 'MEDIA-77', caption: 'Ihr Angebot', filename: 'Angebot.pdf' },
    });
  });

  it('mark as read: status read with the message id', async () => {
    handler = (_req, res) => json(res, 200, { success: true });
    expect(await channel().send({ type: 'read', providerMessageId: 'wamid.IN1' })).toEqual({
      providerMessageId: undefined,
    });
    expect(JSON.parse(seen[0]!.body.toString('utf8'))).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN1',
    });
  });
});

describe('WhatsApp Cloud client: errors', () => {
  const send = () => channel().send({ type: 'text', address: '4915112345678', text: 'hi' });

  it('131047 (window closed) → ChannelApiError, not retryable, with the details as reason', async () => {
    handler = (_req, res) =>
      json(
        res,
        400,
        graphError(131047, 'Re-engagement message', 'Message failed to send because more than 24 hours have passed.'),
      );
    const error = await failure(send());
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({
      providerCode: '131047',
      reason: 'Message failed to send because more than 24 hours have passed.',
      httpStatus: 400,
      retryable: false,
      retryAfterMs: undefined,
    });
  });

  it('HTTP 429 with 130429 and Retry-After: 7 → retryable after 7000 ms', async () => {
    handler = (_req, res) => json(res, 429, graphError(130429, 'Rate limit hit'), { 'retry-after': '7' });
    expect(await failure(send())).toMatchObject({
      providerCode: '130429',
      reason: 'Rate limit hit',
      httpStatus: 429,
      retryable: true,
      retryAfterMs: 7000,
    });
  });

  it.each([131056, 131000, 4, 80007, 133016])('code %i is retryable even with HTTP 400', async (code) => {
    handler = (_req, res) => json(res, 400, graphError(code, 'limit'));
    expect(await failure(send())).toMatchObject({ providerCode: String(code), retryable: true });
  });

  it.each([100, 131026, 131009, 190, 368])('code %i is not retryable', async (code) => {
    handler = (_req, res) => json(res, 400, graphError(code, 'no'));
    expect(await failure(send())).toMatchObject({ providerCode: String(code), retryable: false });
  });

  it('a 502 HTML page from a proxy → http_502, retryable', async () => {
    handler = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
    expect(await failure(send())).toMatchObject({ providerCode: 'http_502', httpStatus: 502, retryable: true });
  });

  it('the reason never carries a phone number from the provider message', async () => {
    handler = (_req, res) => json(res, 400, graphError(131030, 'Recipient +49 151 12345678 not in allowed list'));
    const error = (await failure(send())) as ChannelApiError;
    expect(error.reason).not.toMatch(/12345678/);
    expect(error.message).not.toMatch(/12345678/);
  });

  it('Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('connection refused → ChannelNetworkError (retryable), no URL or token in the message', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(
      channel({ graphBaseUrl: `http://127.0.0.1:${port}` }).send({ type: 'text', address: '491', text: 'hi' }),
    );
    expect(error).toBeInstanceOf(ChannelNetworkError);
    expect((error as ChannelNetworkError).retryable).toBe(true);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain(String(port));
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('no answer within the timeout → ChannelNetworkError', async () => {
    handler = () => undefined; // never answers
    const ch = channel({}, 300);
    const started = Date.now();
    const error = await failure(ch.send({ type: 'text', address: '491', text: 'hi' }));
    expect(error).toBeInstanceOf(ChannelNetworkError);
    expect((error as Error).message).toContain('within 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('WhatsApp Cloud client: media download', () => {
  const ref = (id: string) => ({
    providerMediaId: id,
    mimeType: undefined,
    fileName: undefined,
    sha256: undefined,
    size: undefined,
  });

  it('GET /{ver}/{media-id} → url → GET url with the Bearer token', async () => {
    handler = (req, res) => {
      if (req.url.startsWith('/v23.0/1037543291543636')) {
        json(res, 200, {
          messaging_product: 'whatsapp',
          url: `${base}/whatsapp_business/attachments/?mid=1037543291543636&ext=1763900300&hash=ATu`,
          mime_type: 'image/jpeg',
          sha256: 'abc',
          file_size: '11',
          id: '1037543291543636',
        });
        return;
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, graphError(190, 'no token'));
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end('jpeg-bytes!');
    };
    const media = await channel().downloadMedia(ref('1037543291543636'));
    expect(media).toEqual({ data: Buffer.from('jpeg-bytes!'), mimeType: 'image/jpeg' });
    expect(seen.map((s) => s.url)).toEqual([
      '/v23.0/1037543291543636?phone_number_id=106540352242922',
      '/whatsapp_business/attachments/?mid=1037543291543636&ext=1763900300&hash=ATu',
    ]);
    expect(seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('a file announced larger than 100 MB is refused without downloading it', async () => {
    handler = (_req, res) =>
      json(res, 200, { url: `${base}/big`, mime_type: 'video/mp4', file_size: String(101 * 1024 * 1024) });
    expect(await failure(channel().downloadMedia(ref('big')))).toMatchObject({
      providerCode: 'media_too_large',
      retryable: false,
    });
    expect(seen).toHaveLength(1);
  });

  it('a stream that grows past the limit is aborted while reading', async () => {
    let written = 0;
    handler = (req, res) => {
      if (!req.url.startsWith('/stream')) return json(res, 200, { url: `${base}/stream`, mime_type: 'video/mp4' });
      res.writeHead(200, { 'content-type': 'video/mp4' }); // chunked, no Content-Length
      const chunk = Buffer.alloc(1024 * 1024);
      const pump = () => {
        while (written < 300 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    const error = await failure(channel().downloadMedia(ref('stream')));
    expect(error).toMatchObject({ providerCode: 'media_too_large' });
    expect(written).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('WhatsApp Cloud template sends carry every component', () => {
  it('header (text or file link), body parameters and URL-button parameters by index', async () => {
    handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messages: [{ id: 'wamid.T' }] }));
    const sent = await channel().send({
      type: 'template',
      address: '4915112345678',
      name: 'abholung_bereit',
      language: 'de',
      parameters: ['B-AB 123', '16 Uhr'],
      header: { format: 'TEXT', text: '4711' },
      buttons: [{ index: 1, text: '4711' }],
    });
    expect(sent.providerMessageId).toBe('wamid.T');
    expect(JSON.parse(seen[0]!.body.toString()).template).toEqual({
      name: 'abholung_bereit',
      language: { code: 'de' },
      components: [
        { type: 'header', parameters: [{ type: 'text', text: '4711' }] },
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'B-AB 123' },
            { type: 'text', text: '16 Uhr' },
          ],
        },
        { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: '4711' }] },
      ],
    });
    await channel().send({
      type: 'template',
      address: '4915112345678',
      name: 'rechnung',
      language: 'de',
      parameters: [],
      header: { format: 'DOCUMENT', link: 'https://files.example/r.pdf' },
    });
    expect(JSON.parse(seen[1]!.body.toString()).template.components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { link: 'https://files.example/r.pdf' } }] },
    ]);
  });
});
