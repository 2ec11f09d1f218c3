import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { HOUR_MS, ManualClock } from '../../src/shared/clock.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { startWhatsAppSimulator } from '../support/instances.ts';
import { describeEachStore } from '../support/stores.ts';
import { Browser, createUser } from '../web/web-support.ts';
import { startWorld, type World } from './inbox-world.ts';

const GPS_PHOTO = readFileSync(new URL('../fixtures/images/jpg_gps_DSCN0010.jpg', import.meta.url));
const VOICE_WEBM = readFileSync(new URL('../fixtures/audio/voice-chromium.webm', import.meta.url));
const CUSTOMER = '4917612345678';
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

describeEachStore('agents send files through the WhatsApp simulator', (dialect) => {
  let w: World;
  let sim: WhatsAppSimulator;
  let clock: ManualClock;

  afterEach(async () => {
    await sim?.close();
    await w?.close();
  });

  /** A running sparsam and simulator, and one conversation whose customer agreed: its id. */
  async function conversationWithConsent(): Promise<string> {
    clock = new ManualClock(Date.now());
    sim = await startWhatsAppSimulator({
      statusDelayMs: 5,
      retryDelaysMs: [50, 100],
      now: () => clock.now().getTime(),
    });
    w = await startWorld(dialect, { clock, graphUrl: sim.url, eraseAfterCloseDays: 0 });
    // A port of its own (a port found free beforehand may be taken by a database connection meanwhile).
    await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = w.sparsam.http.server.address() as { port: number };
    sim.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/whatsapp/wa-main`);
    await sim.sendCustomerMessage({ from: CUSTOMER, name: 'Erika', text: 'Können Sie ein Foto schicken?' });
    await w.drain();
    const agree = sim.sentMessages()[0]!.buttons!.find((b) => b.id === CONSENT_AGREE_ID)!;
    await sim.sendCustomerMessage({ from: CUSTOMER, buttonReply: agree });
    await w.drain();
    const items = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    expect(items).toHaveLength(1);
    return items[0]!.id;
  }

  function upload(
    conversationId: string,
    data: Buffer,
    headers: Record<string, string> = {},
    token: string = w.agentToken,
  ) {
    return w.sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${conversationId}/attachments`,
      payload: data,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    });
  }

  const mediaRows = () => w.sparsam.store.db.selectFrom('media').selectAll().execute();
  const outbound = () =>
    w.sparsam.store.db.selectFrom('messages').select(['id', 'kind']).where('direction', '=', 'out').execute();

  it('a phone photo reaches the customer without GPS or EXIF, is sealed at rest, and gets sent, delivered, read', async () => {
    expect((await exifr.gps(GPS_PHOTO))?.latitude).toEqual(expect.any(Number));
    const id = await conversationWithConsent();
    const caption = 'Ihr Auto ist fertig – Grüße aus der Werkstatt';
    expect((await w.api('GET', `/api/v1/conversations/${id}`)).json().conversation.canSendFiles).toBe(true);

    const response = await upload(id, GPS_PHOTO, {
      'content-type': 'image/jpeg',
      'x-attachment-name': encodeURIComponent('IMG_2041 Hof.jpg'),
      'x-attachment-caption': encodeURIComponent(caption),
    });
    expect(response.statusCode).toBe(202);
    const message = response.json().message;
    expect(message).toMatchObject({ direction: 'out', kind: 'image', status: 'queued', text: caption });
    expect(message.media).toMatchObject({ mimeType: 'image/jpeg', state: 'stored' });

    // At rest: sealed with the conversation's key, no JPEG, no EXIF, no camera make anywhere in the row.
    const [row] = await mediaRows();
    expect(row).toMatchObject({ id: message.media.id, message_id: message.id, state: 'stored' });
    const sealed = Buffer.from(row!.data_enc!);
    expect(sealed.subarray(0, 3).equals(JPEG_MAGIC)).toBe(false);
    expect(sealed.includes('Exif')).toBe(false);
    expect(sealed.includes('NIKON')).toBe(false);
    const sealedMessage = await w.sparsam.store.db
      .selectFrom('messages')
      .select('body_enc')
      .where('id', '=', message.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(sealedMessage.body_enc!).includes('Werkstatt')).toBe(false);

    await w.drain();
    const sent = sim.sentMessages().find((m) => m.type === 'image');
    expect(sent?.to).toBe(CUSTOMER);
    expect(sent?.text).toBe(caption);
    const received = sim.uploadedMedia(sent!.mediaId!)!;
    expect(received.mimeType).toBe('image/jpeg');
    expect(received.data.subarray(0, 3).equals(JPEG_MAGIC)).toBe(true);
    expect(received.data.includes('Exif')).toBe(false);
    expect(await exifr.gps(received.data)).toBeUndefined();
    expect(await exifr.parse(received.data, { tiff: true, xmp: true, iptc: true })).toBeUndefined();

    const status = async () =>
      ((await w.api('GET', `/api/v1/conversations/${id}`)).json().messages as { id: string; status: string }[]).find(
        (m) => m.id === message.id,
      )?.status;
    // Sent at once; the simulator's status webhooks follow within milliseconds.
    expect(['sent', 'delivered', 'read']).toContain(await status());
    await sim.settle();
    await w.drain();
    expect(await status()).toBe('read');
    expect(sim.statuses.filter((s) => s.status && s.delivered).map((s) => s.status)).toEqual(
      expect.arrayContaining(['sent', 'delivered', 'read']),
    );

    if (dialect === 'sqlite') {
      // The data dir's files (WAL included) hold neither the caption, nor the camera, nor the file name.
      await w.sparsam.store.scrub();
      let checked = 0;
      for (const file of readdirSync(w.dataDir, { recursive: true, withFileTypes: true })) {
        if (!file.isFile()) continue;
        checked += 1;
        const raw = readFileSync(path.join(file.parentPath, file.name));
        for (const secret of ['Grüße aus der Werkstatt', 'NIKON', 'IMG_2041']) expect(raw.includes(secret)).toBe(false);
      }
      expect(checked).toBeGreaterThan(0);
    }

    // The simulator's phone page shows the photo in the customer's thread.
    const thread = (await (await fetch(`${sim.url}/phone/thread?number=${CUSTOMER}`)).json()) as {
      thread: { kind: string; text: string; mediaUrl?: string }[];
    };
    const entry = thread.thread.find((e) => e.mediaUrl);
    expect(entry).toMatchObject({ kind: 'image', text: caption });
    const shown = await fetch(`${sim.url}/${entry!.mediaUrl}`);
    expect(shown.headers.get('content-type')).toBe('image/jpeg');
    expect(shown.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await shown.arrayBuffer()).equals(received.data)).toBe(true);

    // The agent sees the cleaned file, as the customer got it.
    const file = await w.api('GET', `/api/v1/media/${message.media.id}`);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/jpeg');
    expect(file.rawPayload.equals(received.data)).toBe(true);
  });

  it("a voice note recorded in the browser (WebM/Opus) reaches WhatsApp as an Ogg/Opus voice message without the recorder's metadata", async () => {
    const id = await conversationWithConsent();
    const response = await upload(id, VOICE_WEBM, {
      'content-type': 'audio/webm',
      'x-attachment-name': 'voice.webm',
      'x-attachment-voice': '1',
    });
    expect(response.statusCode).toBe(202);
    const message = response.json().message;
    expect(message).toMatchObject({ kind: 'audio', media: { mimeType: 'audio/ogg', state: 'stored' } });
    await w.drain();
    const sent = sim.sentMessages().find((m) => m.type === 'audio');
    expect(sent?.voice).toBe(true);
    expect(sent?.body.audio).toEqual({ id: sent!.mediaId, voice: true });
    const received = sim.uploadedMedia(sent!.mediaId!)!;
    expect(received.mimeType).toBe('audio/ogg');
    expect(received.data.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(received.data.includes('OpusHead')).toBe(true);
    expect(received.data.includes('Chrome')).toBe(false);
    // The agent plays the same Ogg file in the thread.
    const file = await w.api('GET', `/api/v1/media/${message.media.id}`);
    expect(file.headers['content-type']).toBe('audio/ogg');
    expect(file.rawPayload.equals(received.data)).toBe(true);

    // An ordinary audio file (no voice header) goes out as audio without the voice flag; a photo is no voice note.
    const plain = await upload(id, VOICE_WEBM, { 'x-attachment-name': 'aufnahme.webm' });
    expect(plain.statusCode).toBe(202);
    await w.drain();
    expect(
      sim
        .sentMessages()
        .filter((m) => m.type === 'audio')
        .at(-1)?.body.audio,
    ).not.toHaveProperty('voice');
    const photo = await upload(id, GPS_PHOTO, { 'x-attachment-voice': '1' });
    expect(photo.statusCode).toBe(400);
    expect(photo.json().error).toMatchObject({ code: 'VALIDATION', details: { field: 'voice' } });
  });

  it('a PDF goes out as a document with the name of its real type', async () => {
    const id = await conversationWithConsent();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
    const response = await upload(id, pdf, { 'x-attachment-name': encodeURIComponent('Rechnung März.exe') });
    expect(response.statusCode).toBe(202);
    expect(response.json().message.kind).toBe('document');
    await w.drain();
    const sent = sim.sentMessages().find((m) => m.type === 'document');
    expect((sent?.body.document as { filename?: string }).filename).toBe('Rechnung März.pdf');
    expect(sim.uploadedMedia(sent!.mediaId!)?.data.equals(pdf)).toBe(true);
  });

  it('refuses HTML, executables and empty files with a 4xx and stores nothing', async () => {
    const id = await conversationWithConsent();
    const before = (await outbound()).length;
    const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(200)]);
    const refusedHtml = await upload(id, html, { 'content-type': 'image/jpeg' });
    expect(refusedHtml.statusCode).toBe(415);
    expect(refusedHtml.json().error.code).toBe('UNSUPPORTED_MEDIA');
    const refusedExe = await upload(id, exe, { 'x-attachment-name': 'setup.exe' });
    expect(refusedExe.statusCode).toBe(415);
    expect((await upload(id, Buffer.alloc(0))).statusCode).toBe(400);
    expect((await upload(id, GPS_PHOTO, { 'x-attachment-caption': '%E0%A4%A' })).statusCode).toBe(400);
    expect(await mediaRows()).toEqual([]);
    expect(await outbound()).toHaveLength(before);
    await w.drain();
    expect(sim.sentMessages().filter((m) => m.mediaId)).toEqual([]);
  });

  it("refuses an image over WhatsApp's 5 MB and an upload over 25 MB with 413, storing nothing", async () => {
    const id = await conversationWithConsent();
    // Noise does not compress: about 6 MB as PNG, over the Cloud API's 5 MB for images.
    const noise = await sharp(randomBytes(1450 * 1450 * 3), { raw: { width: 1450, height: 1450, channels: 3 } })
      .png()
      .toBuffer();
    const big = await upload(id, noise, { 'content-type': 'image/png' });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.message).toContain('5 MB');
    const huge = await upload(id, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(26 * 1024 * 1024)]));
    expect(huge.statusCode).toBe(413);
    expect(await mediaRows()).toEqual([]);
  });

  it('refuses a file outside the 24 hour window with 422 and stores nothing', async () => {
    const id = await conversationWithConsent();
    clock.advance(25 * HOUR_MS);
    const response = await upload(id, GPS_PHOTO, { 'content-type': 'image/jpeg' });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('WINDOW_CLOSED');
    expect(await mediaRows()).toEqual([]);
  });

  it('needs an inbox role, and the session CSRF token like every write', async () => {
    const id = await conversationWithConsent();
    expect((await upload(id, GPS_PHOTO, {}, w.dpoToken)).statusCode).toBe(403);
    expect((await upload(id, GPS_PHOTO, {}, '')).statusCode).toBe(401);
    await createUser(w.sparsam, 'agent@example.org', 'agent');
    const browser = new Browser(w.sparsam);
    expect((await browser.login('agent@example.org')).json().step).toBe('done');
    const url = `/api/v1/conversations/${id}/attachments`;
    const headers = { 'content-type': 'image/jpeg' };
    const forged = await browser.request('POST', url, GPS_PHOTO, { csrf: false, headers });
    expect(forged.statusCode).toBe(403);
    expect(await mediaRows()).toEqual([]);
    const own = await browser.request('POST', url, GPS_PHOTO, { headers });
    expect(own.statusCode).toBe(202);
    expect(own.json().message.author.name).toBe('agent');
    expect(await mediaRows()).toHaveLength(1);
  });

  it('erasing the conversation shreds the sent file with it', async () => {
    const id = await conversationWithConsent();
    const message = (await upload(id, GPS_PHOTO, { 'content-type': 'image/jpeg' })).json().message;
    await w.drain();
    expect(await mediaRows()).toHaveLength(1);
    const closed = await w.api('POST', `/api/v1/conversations/${id}/close`);
    expect(closed.json().conversation.erased).toBe(true);
    expect(await mediaRows()).toEqual([]);
    expect((await w.api('GET', `/api/v1/media/${message.media.id}`)).statusCode).toBe(404);
    expect(await w.sparsam.keys.existingDataKey('conversation', id)).toBeUndefined();
  });
});
