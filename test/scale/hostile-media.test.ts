import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WHATSAPP_MAX_MEDIA_BYTES } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.channel.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { startWorld, type World } from '../inbox/inbox-world.ts';
import { startWhatsAppSimulator } from '../support/instances.ts';

/**
 * Hostile files sent by a customer who has agreed, end to end: the WhatsApp simulator signs the webhook and serves
 * the bytes from its media endpoints, sparsam's media-fetch job downloads them through the channel and passes them
 * through the MediaSanitizer. Each file must be refused (media row `rejected` or `failed`, no bytes kept) or stored
 * re-encoded / as the type its bytes prove, sealed, and served to agents only with a harmless content type. No
 * marker of any file may appear in plain text in the data directory or the logs; the server keeps answering.
 */

function forcedGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? allFiles(file) : [file];
  });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A greyscale PNG of `width` × `height` whose pixel data is `rows` rows of zeros, deflated. */
function png(width: number, height: number, rows: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    // Each row: a filter byte and `width` zero bytes. Zeros deflate about 1000:1.
    pngChunk('IDAT', deflateSync(Buffer.alloc(rows * (width + 1)), { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A stored zip with one entry holding `text` (no compression: the marker is in the file as plain bytes). */
function storedZip(name: string, text: string): Buffer {
  const data = Buffer.from(text);
  const file = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(10, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(file.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(local.length + file.length + data.length, 16);
  return Buffer.concat([local, file, data, central, file, end]);
}

const CUSTOMER = '4917655550000';
/** Markers put into the hostile files: none may reach the disk or the logs in plain text. */
const MARKERS = {
  zip: 'POLYGLOT-ZIP-PAYLOAD-7f3a',
  svg: 'SVG-SCRIPT-PAYLOAD-91c2',
  html: 'HTML-SCRIPT-PAYLOAD-44b0',
  pdf: 'PDF-JAVASCRIPT-PAYLOAD-0d9e',
  exe: 'EXE-PAYLOAD-5e61',
} as const;

interface Outcome {
  state: string;
  mimeType: string;
  size: number;
  sealed: Buffer | null;
  mediaId: string;
}

describe('hostile media through the WhatsApp webhook and the media-fetch job [sqlite]', () => {
  let w: World;
  let sim: WhatsAppSimulator;
  let seq = 0;
  let heapBefore = 0;
  /** Messages sparsam had sent the customer before the first hostile file (the notice, the confirmation). */
  let sentBefore = 0;
  const gc = forcedGc();

  beforeAll(async () => {
    const clock = new ManualClock(Date.now());
    sim = await startWhatsAppSimulator({
      autoStatuses: false,
      retryDelaysMs: [50],
      now: () => clock.now().getTime(),
    });
    w = await startWorld('sqlite', { clock, graphUrl: sim.url });
    // A port of its own (a port found free beforehand may be taken by a database connection meanwhile).
    await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = w.sparsam.http.server.address() as { port: number };
    sim.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/whatsapp/wa-main`);
    // The customer writes and agrees: from now on files are fetched and kept (or refused).
    expect((await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo, ich schicke Ihnen Fotos' })).delivered).toBe(
      true,
    );
    await w.drain();
    const agree = sim.sentMessages()[0]!.buttons!.find((b) => b.id === CONSENT_AGREE_ID)!;
    expect((await sim.sendCustomerMessage({ from: CUSTOMER, buttonReply: agree })).delivered).toBe(true);
    await w.drain();
    sentBefore = sim.sentMessages().filter((m) => m.to === CUSTOMER).length;
    expect(sentBefore).toBeGreaterThanOrEqual(1);
    gc?.();
    heapBefore = process.memoryUsage().heapUsed;
  });

  afterAll(async () => {
    await sim?.close();
    await w?.close();
  });

  /** Sends one file as an image or a document message, runs the media-fetch job, and reads the media row. */
  async function send(
    kind: 'image' | 'document',
    data: Buffer,
    mimeType: string,
    fileName = 'datei.pdf',
  ): Promise<Outcome> {
    const id = `wamid.HOSTILE-MEDIA-${++seq}`;
    const file = kind === 'image' ? { image: { data, mimeType } } : { document: { data, mimeType, fileName } };
    const delivery = await sim.sendCustomerMessage({ from: CUSTOMER, id, ...file });
    expect(delivery.attempts.map((a) => a.status)).toEqual([200]);
    await w.drain();
    const message = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('provider_message_id', '=', new ProviderRefs(w.sparsam.keys.pepper).ref(id))
      .executeTakeFirstOrThrow();
    const row = await w.sparsam.store.db
      .selectFrom('media')
      .select(['id', 'state', 'mime_type', 'size', 'data_enc'])
      .where('message_id', '=', message.id)
      .executeTakeFirstOrThrow();
    return {
      state: row.state,
      mimeType: row.mime_type,
      size: Number(row.size),
      sealed: row.data_enc ? Buffer.from(row.data_enc) : null,
      mediaId: row.id,
    };
  }

  /** What an agent's browser gets for the file. */
  const served = (mediaId: string) => w.api('GET', `/api/v1/media/${mediaId}`);

  const expectRefused = async (outcome: Outcome, state: 'rejected' | 'failed' = 'rejected') => {
    expect(outcome).toMatchObject({ state, sealed: null, size: state === 'rejected' ? 0 : outcome.size });
    expect((await served(outcome.mediaId)).statusCode).toBe(404);
  };

  it('refuses a decompression bomb PNG, whether its size is only declared or really packed in', async () => {
    // 100,000 × 100,000 pixels declared, one row of data: 10 GP, refused from the header.
    const liar = png(100_000, 100_000, 1);
    expect(liar.length).toBeLessThan(200);
    await expectRefused(await send('image', liar, 'image/png'));
    // 8,200 × 8,200 greyscale zeros: 67 MB of pixels (over the 50 MP limit) in about 70 KB.
    const bomb = png(8_200, 8_200, 8_200);
    expect(bomb.length).toBeLessThan(200_000);
    await expectRefused(await send('image', bomb, 'image/jpeg'));
  });

  it('re-encodes a JPEG with a zip appended, which drops the zip', async () => {
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c03030' } })
      .jpeg()
      .toBuffer();
    const polyglot = Buffer.concat([photo, storedZip('payload.txt', MARKERS.zip)]);
    expect(polyglot.includes(MARKERS.zip)).toBe(true);
    const outcome = await send('image', polyglot, 'image/jpeg');
    expect(outcome).toMatchObject({ state: 'stored', mimeType: 'image/jpeg' });
    const response = await served(outcome.mediaId);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    const bytes = response.rawPayload;
    expect(bytes.includes(MARKERS.zip)).toBe(false);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe(false);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
  });

  it('refuses a truncated JPEG', async () => {
    const noise = Buffer.alloc(320 * 240 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
    const photo = await sharp(noise, { raw: { width: 320, height: 240, channels: 3 } })
      .jpeg()
      .toBuffer();
    await expectRefused(await send('image', photo.subarray(0, Math.floor(photo.length / 2)), 'image/jpeg'));
  });

  it('refuses HTML and SVG that claim to be JPEG photos, and an executable that claims to be a PDF', async () => {
    const svg = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert("${MARKERS.svg}")</script></svg>`;
    await expectRefused(await send('image', Buffer.from(svg), 'image/jpeg'));
    const html = `<!doctype html><html><body><script>fetch("/api/v1/conversations?${MARKERS.html}")</script></body></html>`;
    await expectRefused(await send('image', Buffer.from(html), 'image/jpeg'));
    await expectRefused(await send('document', Buffer.from(html), 'application/pdf', 'rechnung.pdf'));
    const exe = Buffer.concat([
      Buffer.from('4d5a90000300000004000000ffff0000b800000000000000400000000000000000000000', 'hex'),
      Buffer.alloc(28),
      Buffer.from([0x80, 0, 0, 0]),
      Buffer.alloc(64),
      Buffer.from('PE\0\0', 'latin1'),
      Buffer.from(MARKERS.exe),
    ]);
    await expectRefused(await send('document', exe, 'application/pdf', 'rechnung.pdf'));
  });

  it('keeps a PDF with JavaScript sealed and serves it only as a sandboxed PDF, whatever type it claimed', async () => {
    const pdf = Buffer.from(
      `%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n` +
        `2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n` +
        `3 0 obj << /S /JavaScript /JS (app.alert\\("${MARKERS.pdf}"\\)) >> endobj\n` +
        `trailer << /Root 1 0 R >>\n%%EOF\n`,
    );
    for (const claimed of ['application/pdf', 'text/html']) {
      const outcome = await send('document', pdf, claimed, 'rechnung.html');
      expect(outcome).toMatchObject({ state: 'stored', mimeType: 'application/pdf', size: pdf.length });
      // Sealed: the bytes in the database are not the file.
      expect(outcome.sealed!.includes(MARKERS.pdf)).toBe(false);
      const response = await served(outcome.mediaId);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/pdf');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(String(response.headers['content-security-policy'])).toContain('sandbox');
      expect(String(response.headers['content-security-policy'])).toContain("default-src 'none'");
      expect(response.rawPayload.equals(pdf)).toBe(true);
    }
  });

  it('stores a PNG that claims to be a JPEG as the PNG it is', async () => {
    const image = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#2040c0' } })
      .png()
      .toBuffer();
    const outcome = await send('image', image, 'image/jpeg');
    expect(outcome).toMatchObject({ state: 'stored', mimeType: 'image/png' });
    const response = await served(outcome.mediaId);
    expect(response.headers['content-type']).toBe('image/png');
    expect(await sharp(response.rawPayload).metadata()).toMatchObject({ format: 'png', width: 30, height: 20 });
  });

  it('does not download a file larger than the media limit', async () => {
    const huge = Buffer.alloc(WHATSAPP_MAX_MEDIA_BYTES + 1, 0x41);
    const outcome = await send('document', huge, 'application/pdf', 'gross.pdf');
    await expectRefused(outcome, 'failed');
    expect(outcome.sealed).toBeNull();
  }, 60_000);

  it('afterwards: no marker on disk or in the logs, no refusal told as an error, still serving, heap bounded', async () => {
    const files = allFiles(w.dataDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const marker of Object.values(MARKERS)) expect(bytes.includes(marker), `${marker} in ${file}`).toBe(false);
    }
    const logText = w.logs.join('');
    for (const marker of Object.values(MARKERS)) expect(logText).not.toContain(marker);
    expect(logText).not.toContain(CUSTOMER);
    // The inbox policy is `strip`: a refused file is not answered (the polite text-only reply is for `reject`), so the
    // customer got nothing because of the files.
    expect(sim.sentMessages().filter((m) => m.to === CUSTOMER)).toHaveLength(sentBefore);
    // Every media-fetch job finished (a refusal is a result, not a job failure to retry), and no job failed.
    const jobs = await w.sparsam.store.db.selectFrom('jobs').select(['queue', 'status']).execute();
    const fetches = jobs.filter((j) => j.queue === 'media-fetch');
    expect(fetches.length).toBeGreaterThanOrEqual(12);
    expect(fetches.every((j) => j.status === 'done')).toBe(true);
    expect(jobs.filter((j) => j.status === 'failed')).toEqual([]);
    expect((await w.sparsam.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const after = await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Noch da?' });
    expect(after.attempts.map((a) => a.status)).toEqual([200]);
    if (gc) {
      gc();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      console.info(`[hostile-media] heap growth after the hostile files: ${grownMb.toFixed(1)} MB`);
      expect(grownMb).toBeLessThan(64);
    }
  });
});
