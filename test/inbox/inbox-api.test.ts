import { readFileSync } from 'node:fs';
import exifr from 'exifr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { DAY_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import {
  buttonReply,
  changedNumber,
  editMessage,
  imageMessage,
  revokeMessage,
  startWorld,
  statusUpdate,
  textMessage,
  type World,
} from './inbox-world.ts';

const GPS_PHOTO = '/work/shared/fixtures/images/jpg_gps_DSCN0010.jpg';

/** The /api/v1 routes this module registers, with a request each. */
const ROUTES: { method: 'GET' | 'POST'; url: string; body?: unknown }[] = [
  { method: 'GET', url: '/api/v1/conversations' },
  { method: 'GET', url: '/api/v1/conversations/c1' },
  { method: 'POST', url: '/api/v1/conversations/c1/messages', body: { text: 'x' } },
  { method: 'POST', url: '/api/v1/conversations/c1/close' },
  { method: 'POST', url: '/api/v1/conversations/c1/attachments', body: { file: 'x' } },
  { method: 'GET', url: '/api/v1/media/m1' },
  { method: 'GET', url: '/api/v1/channels/wa-main/templates' },
];

describe('inbox API access', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld('sqlite');
  });
  afterAll(async () => {
    await w.close();
  });

  it('answers 401 without credentials on every route it registers', async () => {
    for (const r of ROUTES) {
      const res = await w.api(r.method, r.url, r.body, '');
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
    }
    const wrong = await w.api('GET', '/api/v1/conversations', undefined, 'spt_not-a-token');
    expect(wrong.statusCode).toBe(401);
  });

  it('refuses the data protection officer on conversations and media with 403', async () => {
    for (const r of ROUTES) {
      const res = await w.api(r.method, r.url, r.body, w.dpoToken);
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
    }
  });

  it('validates bodies and queries with a clear 400', async () => {
    const view = await w.api('GET', '/api/v1/conversations?view=everything');
    expect(view.statusCode).toBe(400);
    expect(view.json().error.code).toBe('VALIDATION');
    const body = await w.api('POST', '/api/v1/conversations/c1/messages', { text: '' });
    expect(body.statusCode).toBe(400);
    const both = await w.api('POST', '/api/v1/conversations/c1/messages', { text: 'a', extra: 1 });
    expect(both.statusCode).toBe(400);
  });

  it('serves the OpenAPI document without login, documented as open, and to every role', async () => {
    const anonymous = await w.api('GET', '/api/v1/openapi.json', undefined, '');
    expect(anonymous.statusCode).toBe(200);
    const doc = anonymous.json();
    expect(doc.openapi).toBe('3.1.0');
    const self = doc.paths['/api/v1/openapi.json'].get;
    expect(self.security).toEqual([]);
    expect(Object.keys(self.responses)).not.toContain('401');
    expect(doc.paths['/api/v1/conversations'].get.security).not.toEqual([]);
    const dpo = await w.api('GET', '/api/v1/openapi.json', undefined, w.dpoToken);
    expect(dpo.statusCode).toBe(200);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await w.api('GET', '/api/v1/openapi.json', undefined, w.dpoToken);
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/conversations',
        '/api/v1/conversations/{id}',
        '/api/v1/conversations/{id}/messages',
        '/api/v1/conversations/{id}/close',
        '/api/v1/conversations/{id}/attachments',
        '/api/v1/media/{id}',
        '/api/v1/channels/{id}/templates',
      ]),
    );
    const post = doc.paths['/api/v1/conversations/{id}/messages'].post;
    expect(post.responses['422'].description).toMatch(/WINDOW_CLOSED/);
    expect(JSON.stringify(post.requestBody)).toContain('"template"');
    const attach = doc.paths['/api/v1/conversations/{id}/attachments'].post;
    expect(Object.keys(attach.requestBody.content)).toEqual(['application/octet-stream']);
    expect(attach.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      'path:id',
      'header:x-attachment-name',
      'header:x-attachment-caption',
      'header:x-attachment-voice',
    ]);
    expect(Object.keys(attach.responses)).toEqual(expect.arrayContaining(['202', '413', '415', '422']));
    const list = doc.paths['/api/v1/conversations'].get;
    expect(list.parameters.find((p: { name: string }) => p.name === 'view').schema.enum).toEqual([
      'mine',
      'unassigned',
      'all',
      'closed',
      'snoozed',
    ]);
  });

  it('lists the templates configured for a channel', async () => {
    const res = await w.api('GET', '/api/v1/channels/wa-main/templates');
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([
      {
        name: 'appointment_reminder',
        language: 'de',
        category: 'UTILITY',
        body: 'Guten Tag, Ihr Termin ist am {{1}} um {{2}}.',
      },
    ]);
    expect((await w.api('GET', '/api/v1/channels/nope/templates')).statusCode).toBe(404);
  });
});

describeEachStore('inbox messages and media', (dialect) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(dialect, { eraseAfterCloseDays: 7 });
  });
  afterAll(async () => {
    await w.close();
  });

  const ids = async () =>
    ((await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[]).map((c) => c.id);

  /** A customer writes and agrees; returns the id of their new conversation. */
  async function openConversation(from: string, n: string): Promise<string> {
    const before = new Set(await ids());
    await w.webhook(textMessage(w.clock, `wamid.${n}a`, 'Hallo', from));
    await w.webhook(buttonReply(w.clock, `wamid.${n}b`, CONSENT_AGREE_ID, 'Zustimmen', from));
    await w.drain();
    const added = (await ids()).filter((id) => !before.has(id));
    expect(added).toHaveLength(1);
    return added[0]!;
  }

  const messages = async (id: string) =>
    (await w.api('GET', `/api/v1/conversations/${id}`)).json().messages as {
      id: string;
      text: string | null;
      status: string;
      edited: boolean;
      deleted: boolean;
      error: { code: string; reason: string } | null;
      media: { id: string; mimeType: string; state: string; url: string } | null;
    }[];

  it('stores a photo without its GPS position and serves it only to staff, uncached', async () => {
    const id = await openConversation('491700000001', 'P');
    w.graph.media.set('media-photo-1', { data: readFileSync(GPS_PHOTO), mime: 'image/jpeg' });
    expect((await w.webhook(imageMessage(w.clock, 'wamid.P3', 'media-photo-1', '491700000001'))).statusCode).toBe(200);
    await w.drain();
    const photo = (await messages(id)).find((m) => m.media)!;
    expect(photo.text).toBe('Kratzer an der Tür');
    expect(photo.media!.state).toBe('stored');
    const file = await w.api('GET', photo.media!.url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['cache-control']).toBe('no-store, private');
    expect(file.headers['content-type']).toBe('image/jpeg');
    const bytes = file.rawPayload;
    expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
    // The original carries a GPS position; the stored copy has none, and no EXIF block at all.
    expect((await exifr.gps(readFileSync(GPS_PHOTO)))?.latitude).toEqual(expect.any(Number));
    expect(await exifr.gps(bytes)).toBeUndefined();
    expect(bytes.includes(Buffer.from('Exif\0\0'))).toBe(false);
    const views = await w.sparsam.audit.list({ action: 'media.view' });
    expect(views.length).toBeGreaterThanOrEqual(1);
  });

  it('applies edits and revokes of the customer', async () => {
    const id = await openConversation('491700000002', 'E');
    await w.webhook(textMessage(w.clock, 'wamid.E3', 'Termin am Montag', '491700000002'));
    await w.webhook(editMessage(w.clock, 'wamid.E4', 'wamid.E3', 'Termin am Dienstag', '491700000002'));
    let edited = (await messages(id)).find((m) => m.text === 'Termin am Dienstag');
    expect(edited?.edited).toBe(true);
    await w.webhook(revokeMessage(w.clock, 'wamid.E5', 'wamid.E3', '491700000002'));
    edited = (await messages(id)).find((m) => m.id === edited!.id);
    expect(edited?.deleted).toBe(true);
    expect(edited?.text).toBeNull();
  });

  it("shows a failed delivery with the provider's code and reason, and keeps it failed", async () => {
    const id = await openConversation('491700000003', 'F');
    const sent = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Ihr Auto ist fertig.' });
    await w.drain();
    const wamid = w.graph.sends.at(-1)!.id;
    await w.webhook(
      statusUpdate(w.clock, wamid, 'failed', '491700000003', {
        code: 131047,
        title: 'Re-engagement message',
        details: 'Message failed to send because more than 24 hours have passed since the customer last replied.',
      }),
    );
    await w.webhook(statusUpdate(w.clock, wamid, 'delivered', '491700000003'));
    const m = (await messages(id)).find((x) => x.id === sent.json().message.id)!;
    expect(m.status).toBe('failed');
    expect(m.error?.code).toBe('131047');
    expect(m.error?.reason).toMatch(/24 hours/);
  });

  it('follows a customer who changed their number: replies go to the new number, same conversation', async () => {
    const id = await openConversation('491700000006', 'N');
    const res = await w.webhook(changedNumber(w.clock, 'wamid.N3', '491700000006', '491700000099'));
    expect(res.statusCode).toBe(200);
    await w.webhook(textMessage(w.clock, 'wamid.N4', 'Neue Nummer, gleiche Frage', '491700000099'));
    const texts = (await messages(id)).map((m) => m.text);
    expect(texts).toContain('Neue Nummer, gleiche Frage');
    await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Angekommen.' });
    await w.drain();
    expect(w.graph.sends.at(-1)!.to).toBe('491700000099');
    expect(await w.sparsam.audit.list({ action: 'contact.address_changed' })).toHaveLength(1);
  });

  it('refuses a template with the wrong number of parameters or an unknown name', async () => {
    const id = await openConversation('491700000004', 'T');
    const few = await w.api('POST', `/api/v1/conversations/${id}/messages`, {
      template: { name: 'appointment_reminder', language: 'de', parameters: ['24.11.'] },
    });
    expect(few.statusCode).toBe(400);
    expect(few.json().error.message).toMatch(/needs 2 parameter/);
    const unknown = await w.api('POST', `/api/v1/conversations/${id}/messages`, {
      template: { name: 'nope', language: 'de', parameters: [] },
    });
    expect(unknown.statusCode).toBe(400);
  });

  it("refuses a reply longer than the channel's limit with 422 TEXT_TOO_LONG instead of cutting it", async () => {
    const id = await openConversation('491700000009', 'L');
    const conversation = (await w.api('GET', `/api/v1/conversations/${id}`)).json().conversation;
    expect(conversation.maxTextChars).toBe(4096);
    const before = (await messages(id)).length;
    const long = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'ä'.repeat(10_000) });
    expect(long.statusCode).toBe(422);
    expect(long.json().error.code).toBe('TEXT_TOO_LONG');
    expect(long.json().error.message).toContain('at most 4096 characters');
    expect(long.json().error.message).toContain('10000');
    expect((await messages(id)).length).toBe(before);
    // Exactly the limit, counted in characters (an emoji is one), goes out whole.
    const full = '😀'.repeat(4096);
    const ok = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: full });
    expect(ok.statusCode).toBeLessThan(300);
    await w.drain();
    const sent = (await messages(id)).at(-1)!;
    expect(sent.text).toBe(full);
  });

  it('keeps a closed conversation for eraseAfterCloseDays, then the sweeper erases it', async () => {
    const id = await openConversation('491700000005', 'C');
    const closed = await w.api('POST', `/api/v1/conversations/${id}/close`);
    expect(closed.json().conversation.erased).toBe(false);
    const eraseAt = Date.parse(closed.json().conversation.eraseAt);
    expect(eraseAt - w.clock.now().getTime()).toBe(7 * DAY_MS);
    const closedList = (await w.api('GET', '/api/v1/conversations?view=closed')).json().items as { id: string }[];
    expect(closedList.map((c) => c.id)).toContain(id);
    expect((await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Noch was' })).statusCode).toBe(409);
    w.clock.advance(6 * DAY_MS);
    await w.sparsam.retention.sweep();
    expect((await w.api('GET', `/api/v1/conversations/${id}`)).statusCode).toBe(200);
    w.clock.advance(1 * DAY_MS + 1000);
    await w.sparsam.retention.sweep();
    expect((await w.api('GET', `/api/v1/conversations/${id}`)).statusCode).toBe(404);
  });
});
