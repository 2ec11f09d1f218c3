import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelApiError, ChannelNetworkError } from '../../../src/core/channel/channel-errors.ts';
import {
  createMessengerChannel,
  type MessengerChannel,
  type MessengerChannelConfig,
} from '../../../src/channels/messenger/messenger.channel.ts';
import { FakeGraph } from './fake-graph.ts';

const OUTSIDE_WINDOW = JSON.stringify({
  error: {
    message: '(#10) This message is sent outside of allowed window.',
    type: 'OAuthException',
    code: 10,
    error_subcode: 2018278,
    fbtrace_id: 'AbCdEf',
  },
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('messenger channel: Send API', () => {
  const graph = new FakeGraph();
  let channel: MessengerChannel;
  let config: MessengerChannelConfig;

  beforeAll(async () => {
    await graph.start();
    config = {
      id: 'fb-main',
      inbox: 'service',
      enabled: true,
      kind: 'messenger',
      pageId: '1234567890',
      pageAccessToken: 'EAAB-page-token',
      appSecret: 'secret',
      verifyToken: 'verify',
      graphBaseUrl: graph.url,
      graphApiVersion: 'v23.0',
    };
    channel = createMessengerChannel(config, { fetch: globalThis.fetch });
  });
  beforeEach(() => {
    graph.requests.length = 0;
    graph.replies.length = 0;
  });
  afterAll(async () => {
    await graph.stop();
  });

  it('declares the 24 h window, buttons and no templates', () => {
    expect(channel.capabilities).toMatchObject({
      messagingWindowHours: 24,
      supportsButtons: true,
      supportsTemplates: false,
    });
  });

  it('sends text as RESPONSE to /{version}/{page}/messages with the token in the Authorization header', async () => {
    const result = await channel.send({ type: 'text', address: '6543210987654321', text: 'Ja, morgen 9 Uhr.' });
    expect(result.providerMessageId).toBe('m_sent1');
    expect(graph.requests[0]?.path).toBe('/v23.0/1234567890/messages');
    expect(graph.requests[0]?.authorization).toBe('Bearer EAAB-page-token');
    expect(graph.json(0)).toEqual({
      recipient: { id: '6543210987654321' },
      messaging_type: 'RESPONSE',
      message: { text: 'Ja, morgen 9 Uhr.' },
    });
  });

  it('sends buttons as a button template with postback buttons', async () => {
    await channel.send({
      type: 'buttons',
      address: '6543210987654321',
      text: 'Datenschutzhinweis …',
      buttons: [
        { id: 'consent:agree', title: 'Einverstanden' },
        { id: 'consent:decline', title: 'Ablehnen' },
      ],
    });
    expect(graph.json(0).message).toEqual({
      attachment: {
        type: 'template',
        payload: {
          template_type: 'button',
          text: 'Datenschutzhinweis …',
          buttons: [
            { type: 'postback', title: 'Einverstanden', payload: 'consent:agree' },
            { type: 'postback', title: 'Ablehnen', payload: 'consent:decline' },
          ],
        },
      },
    });
  });

  it('refuses more than 3 buttons or a title over 20 characters without calling Meta', async () => {
    const four = [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` }));
    expect(await rejection(channel.send({ type: 'buttons', address: '1', text: 'x', buttons: four }))).toMatchObject({
      retryable: false,
    });
    const long = [{ id: 'a', title: 'x'.repeat(21) }];
    expect(await rejection(channel.send({ type: 'buttons', address: '1', text: 'x', buttons: long }))).toBeInstanceOf(
      ChannelApiError,
    );
    expect(graph.requests).toHaveLength(0);
  });

  it('uploads media as multipart filedata with the attachment type', async () => {
    await channel.send({
      type: 'media',
      address: '6543210987654321',
      mediaType: 'document',
      data: Buffer.from('%PDF-1.7'),
      mimeType: 'application/pdf',
      fileName: 'Angebot.pdf',
    });
    const request = graph.requests[0]!;
    expect(request.type).toMatch(/^multipart\/form-data; boundary=/);
    const body = request.body.toString('utf8');
    expect(body).toContain('"type":"file"');
    expect(body).toContain('filename="Angebot.pdf"');
    expect(body).toContain('%PDF-1.7');
  });

  it('outside the window, sends once more with MESSAGE_TAG HUMAN_AGENT', async () => {
    graph.replies.push({ status: 400, body: OUTSIDE_WINDOW });
    const result = await channel.send({ type: 'text', address: '6543210987654321', text: 'Nachfrage' });
    expect(result.providerMessageId).toMatch(/^m_sent/);
    expect(graph.requests).toHaveLength(2);
    expect(graph.json(1)).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  });

  it('when the tag is refused too, fails for good with a reason the agent understands', async () => {
    graph.replies.push({ status: 400, body: OUTSIDE_WINDOW }, { status: 400, body: OUTSIDE_WINDOW });
    const error = await rejection(channel.send({ type: 'text', address: '6543210987654321', text: 'Nachfrage' }));
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error).toMatchObject({ providerCode: '10', retryable: false });
    expect((error as ChannelApiError).reason).toContain('24h window');
    expect(graph.requests).toHaveLength(2);
  });

  it('maps rate limits (613, HTTP 429 with Retry-After) to retryable and an invalid recipient to permanent', async () => {
    graph.replies.push({
      status: 400,
      body: JSON.stringify({ error: { message: '(#613) Calls to this api have exceeded the rate limit.', code: 613 } }),
    });
    expect(await rejection(channel.send({ type: 'text', address: '1', text: 'x' }))).toMatchObject({
      providerCode: '613',
      retryable: true,
    });
    graph.replies.push({
      status: 429,
      body: JSON.stringify({ error: { message: 'Too many', code: 4 } }),
      headers: { 'retry-after': '20' },
    });
    expect(await rejection(channel.send({ type: 'text', address: '1', text: 'x' }))).toMatchObject({
      retryable: true,
      retryAfterMs: 20_000,
    });
    graph.replies.push({
      status: 400,
      body: JSON.stringify({
        error: { message: '(#100) No matching user found', code: 100, error_subcode: 2018001 },
      }),
    });
    expect(await rejection(channel.send({ type: 'text', address: '1', text: 'x' }))).toMatchObject({
      providerCode: '100',
      retryable: false,
      reason: 'No matching user found',
    });
  });

  it('reports no answer as ChannelNetworkError without the token', async () => {
    const offline = createMessengerChannel(
      { ...config, graphBaseUrl: 'http://127.0.0.1:9' },
      { fetch: globalThis.fetch },
    );
    const error = await rejection(offline.send({ type: 'text', address: '1', text: 'x' }));
    expect(error).toBeInstanceOf(ChannelNetworkError);
    expect((error as Error).message).not.toContain('EAAB');
  });

  it('downloads an attachment by URL, refusing plain-http URLs elsewhere', async () => {
    graph.files.set('/cdn/photo.jpg', Buffer.from('\xff\xd8\xff fake', 'latin1'));
    const ref = {
      providerMediaId: `${graph.url}/cdn/photo.jpg`,
      mimeType: undefined,
      fileName: undefined,
      sha256: undefined,
      size: undefined,
    };
    const media = await channel.downloadMedia(ref);
    expect(media.data.length).toBe(8);
    expect(media.mimeType).toBe('image/jpeg');
    const refused = await rejection(channel.downloadMedia({ ...ref, providerMediaId: 'http://10.0.0.1/internal' }));
    expect(refused).toMatchObject({ providerCode: 'invalid_media_url', retryable: false });
  });

  it('refuses attachment URLs that point to this machine or the private network, also after a redirect', async () => {
    const fetched: string[] = [];
    const redirects = new Map<string, string>([
      ['https://93.184.216.34/a', 'https://169.254.169.254/latest/meta-data'],
      ['https://93.184.216.34/loop1', 'https://93.184.216.34/loop2'],
      ['https://93.184.216.34/loop2', 'https://93.184.216.34/loop3'],
      ['https://93.184.216.34/loop3', 'https://93.184.216.34/loop4'],
      ['https://93.184.216.34/loop4', 'https://93.184.216.34/loop5'],
    ]);
    const stub = (async (input: string | URL) => {
      const url = String(input);
      fetched.push(url);
      const next = redirects.get(url);
      if (next) return new Response(null, { status: 302, headers: { location: next } });
      return new Response(Buffer.from('\xff\xd8\xff fake', 'latin1'), { headers: { 'content-type': 'image/jpeg' } });
    }) as typeof fetch;
    const guarded = createMessengerChannel(config, { fetch: stub });
    const ref = (url: string) => ({
      providerMediaId: url,
      mimeType: undefined,
      fileName: undefined,
      sha256: undefined,
      size: undefined,
    });
    for (const url of ['https://127.0.0.1/x', 'https://[::1]/x', 'https://localhost/x', 'https://10.1.2.3/x']) {
      expect(await rejection(guarded.downloadMedia(ref(url)))).toMatchObject({
        providerCode: 'invalid_media_url',
        retryable: false,
      });
    }
    expect(fetched).toEqual([]);
    expect(await rejection(guarded.downloadMedia(ref('https://93.184.216.34/a')))).toMatchObject({
      providerCode: 'invalid_media_url',
    });
    expect(fetched).not.toContain('https://169.254.169.254/latest/meta-data');
    expect(await rejection(guarded.downloadMedia(ref('https://93.184.216.34/loop1')))).toMatchObject({
      providerCode: 'too_many_redirects',
    });
    expect(fetched).not.toContain('https://93.184.216.34/loop5');
    expect((await guarded.downloadMedia(ref('https://93.184.216.34/photo.jpg'))).data.length).toBe(8);
  });
});
