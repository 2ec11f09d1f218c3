import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HeifDecoder } from '../../src/core/privacy/media/heif-decoder.ts';
import { MediaSanitizer } from '../../src/core/privacy/media/media-sanitizer.ts';
import { hasTool, toolPath } from '../support/tools.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/images');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const MB = 1024 * 1024;
const sanitizer = new MediaSanitizer();
const work = mkdtempSync(path.join(tmpdir(), 'sparsam-media-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** The checks that read the output with exiftool; skipped, with one line for the run, where it is not installed. */
const itWithExiftool = it.skipIf(!hasTool('exiftool'));

/** Every tag exiftool finds, as "Group:Tag" keys (-G1 groups, -a duplicates, -u unknown tags too). */
function exiftoolTags(data: Buffer): Record<string, unknown> {
  const file = path.join(work, `probe-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, data);
  const out = execFileSync(toolPath('exiftool'), ['-j', '-a', '-u', '-G1', '-n', file], {
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  return (JSON.parse(out) as Record<string, unknown>[])[0]!;
}

/** Tags that would tell where, when or with what a photo was taken, or carry a second copy of the picture. */
const PERSONAL_TAG =
  /GPS|:Make$|:Model$|DateTimeOriginal|CreateDate|ModifyDate|DateCreated|SerialNumber|Software|Artist|Copyright|MakerNote|Thumbnail|PreviewImage|^XMP|^IPTC|^Photoshop|^ICC|Canon|Nikon|Apple|Orientation/i;

function personalTags(data: Buffer): string[] {
  // System:/File:/ExifTool: describe the probe file on disk (its mtime), not the image.
  return Object.keys(exiftoolTags(data)).filter(
    (key) => !/^(System|File|ExifTool):/.test(key) && PERSONAL_TAG.test(key),
  );
}

async function sanitizeOk(data: Buffer, claimedMime?: string) {
  const result = await sanitizer.sanitize(data, { policy: 'strip', maxBytes: 100 * MB, claimedMime });
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result;
}

describe('MediaSanitizer: camera photos keep no metadata', () => {
  const photos = [
    'jpg_gps_DSCN0010.jpg',
    'jpg_gps_DSCN0021.jpg',
    'jpg_orientation_landscape_6.jpg',
    'jpg_orientation_portrait_8.jpg',
    'jpg_xmp_BlueSquare.jpg',
    'jpg_Canon_40D.jpg',
  ];

  itWithExiftool.each(photos)(
    '%s: exiftool finds no GPS, camera, date, XMP, IPTC, maker notes or thumbnail',
    async (name) => {
      const original = fixture(name);
      // The fixture really carries personal metadata, so the check below can fail.
      expect(personalTags(original).length).toBeGreaterThan(0);
      const result = await sanitizeOk(original);
      expect(result.mimeType).toBe('image/jpeg');
      expect(result.kind).toBe('image');
      expect(personalTags(result.data)).toEqual([]);
    },
  );

  it.each(photos)('%s: exifr reads no EXIF, GPS, XMP, IPTC or thumbnail', async (name) => {
    const result = await sanitizeOk(fixture(name));
    const parsed = (await exifr.parse(result.data, {
      tiff: true,
      exif: true,
      gps: true,
      xmp: true,
      iptc: true,
      icc: true,
      interop: true,
      ifd1: true,
      makerNote: true,
      mergeOutput: false,
    })) as Record<string, unknown> | undefined;
    expect(parsed ?? {}).toEqual({});
    expect(await exifr.thumbnail(result.data)).toBeUndefined();
  });

  it('GPS fixtures: the position is in the original and gone from the output', async () => {
    const original = fixture('jpg_gps_DSCN0010.jpg');
    const gps = (await exifr.gps(original)) as { latitude: number } | undefined;
    expect(gps?.latitude).toBeTypeOf('number');
    const result = await sanitizeOk(original);
    expect(await exifr.gps(result.data)).toBeUndefined();
  });

  it.each([
    ['jpg_orientation_landscape_6.jpg', 6],
    ['jpg_orientation_portrait_8.jpg', 8],
  ])(
    '%s (orientation %i) comes out upright: stored width and height are swapped, no orientation tag',
    async (name, orientation) => {
      const original = fixture(name);
      const before = await sharp(original).metadata();
      expect(before.orientation).toBe(orientation);
      const result = await sanitizeOk(original);
      const after = await sharp(result.data).metadata();
      expect([after.width, after.height]).toEqual([before.height, before.width]);
      expect(after.orientation).toBeUndefined();
      expect([result.width, result.height]).toEqual([before.height, before.width]);
    },
  );

  it('orientation 6: the pixels are turned, not just the tag dropped (top row of the output is the original left column)', async () => {
    const original = fixture('jpg_orientation_landscape_6.jpg');
    const result = await sanitizeOk(original);
    // Rotating the original ourselves by its orientation must give (almost) the same picture.
    const expected = await sharp(original).rotate().resize(30, 40, { fit: 'fill' }).raw().toBuffer();
    const actual = await sharp(result.data).resize(30, 40, { fit: 'fill' }).raw().toBuffer();
    const unrotated = await sharp(original).resize(30, 40, { fit: 'fill' }).raw().toBuffer();
    const diff = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;
    expect(diff(actual, expected)).toBeLessThan(8);
    expect(diff(actual, unrotated)).toBeGreaterThan(diff(actual, expected) * 2);
  });

  it('an iPhone HEIC becomes a JPEG, upright', async () => {
    const result = await sanitizeOk(fixture('heic_IMG_5195.HEIC'), 'image/heic');
    expect(result.mimeType).toBe('image/jpeg');
    expect(result.data.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const meta = await sharp(result.data).metadata();
    expect(meta.height!).toBeGreaterThan(meta.width!); // a portrait photo stays portrait
  });

  itWithExiftool('an iPhone HEIC becomes a JPEG without Apple metadata, of the original size', async () => {
    const original = fixture('heic_IMG_5195.HEIC');
    expect(personalTags(original).length).toBeGreaterThan(0);
    const result = await sanitizeOk(original, 'image/heic');
    expect(personalTags(result.data)).toEqual([]);
    const tags = exiftoolTags(original);
    const meta = await sharp(result.data).metadata();
    expect(tags['File:ImageWidth']).toBeTypeOf('number');
    expect([meta.width, meta.height]).toEqual([tags['File:ImageWidth'], tags['File:ImageHeight']]);
  });
});

describe('MediaSanitizer: HEIC is decoded off the event loop', () => {
  it('other work keeps running while an iPhone photo is decoded', async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const started = performance.now();
    const result = await sanitizer.sanitize(fixture('heic_IMG_5195.HEIC'), { policy: 'strip', maxBytes: 100 * MB });
    const elapsed = performance.now() - started;
    clearInterval(interval);
    expect(result.ok).toBe(true);
    // A blocked event loop would tick (almost) never during the decode, which takes seconds.
    expect(ticks).toBeGreaterThan((elapsed / 10) * 0.3);
  });

  it('a decode that runs past the timeout is refused, and the next file gets a fresh decoder thread', async () => {
    const decoder = new HeifDecoder(300);
    try {
      const heic = fixture('heic_IMG_5195.HEIC');
      // Decoding 8.5 MP of HEVC in WebAssembly takes far longer than 300 ms: refused, the thread is replaced.
      expect(await decoder.decode(heic, 50_000_000)).toEqual({ ok: false, reason: 'corrupt' });
      // The new thread answers: the header-only size check refuses quickly and says why.
      expect(await decoder.decode(heic, 1000)).toEqual({ ok: false, reason: 'too-many-pixels' });
    } finally {
      await decoder.close();
    }
  });

  it('a file with a HEIC header and garbage inside is refused as corrupt', async () => {
    const fake = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypheic'),
      Buffer.alloc(12),
      Buffer.alloc(4000, 0x55),
    ]);
    expect(await sanitizer.sanitize(fake, { policy: 'strip', maxBytes: MB })).toEqual({ ok: false, reason: 'corrupt' });
  });
});

describe('MediaSanitizer: policies and refusals', () => {
  it("policy 'reject' refuses every file, even a clean one", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    expect(await sanitizer.sanitize(png, { policy: 'reject', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'rejected-by-policy',
    });
  });

  it("policy 'allow' keeps the original bytes after the same checks", async () => {
    const original = fixture('jpg_gps_DSCN0010.jpg');
    const result = await sanitizer.sanitize(original, { policy: 'allow', maxBytes: MB });
    expect(result.ok && result.data.equals(original)).toBe(true);
    expect(result.ok && result.stripped).toBe(false);
    const zip = zipBomb();
    expect(await sanitizer.sanitize(zip, { policy: 'allow', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'type-not-allowed',
    });
  });

  it('stillImages (files staff send): an animated GIF and a WebP become a still PNG of the first frame', async () => {
    const frames = Buffer.concat([Buffer.alloc(8 * 8 * 3, 0xff), Buffer.alloc(8 * 8 * 3, 0x00)]);
    const gif = await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } })
      .gif()
      .toBuffer();
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(2);
    const webp = await sharp(fixture('jpg_Canon_40D.jpg')).webp().toBuffer();
    for (const input of [gif, webp]) {
      const plain = await sanitizer.sanitize(input, { policy: 'strip', maxBytes: 5 * MB });
      expect(plain.ok && plain.mimeType).not.toBe('image/png');
      const still = await sanitizer.sanitize(input, { policy: 'strip', maxBytes: 5 * MB, stillImages: true });
      expect(still.ok).toBe(true);
      if (!still.ok) continue;
      expect(still.mimeType).toBe('image/png');
      expect(still.data.subarray(1, 4).toString('latin1')).toBe('PNG');
      const meta = await sharp(still.data, { animated: true }).metadata();
      expect(meta.pages ?? 1).toBe(1);
      expect(still.height).toBe(input === gif ? 8 : 68);
    }
  });

  it('a file over maxBytes is refused before it is parsed', async () => {
    const original = fixture('jpg_gps_DSCN0010.jpg');
    expect(await sanitizer.sanitize(original, { policy: 'strip', maxBytes: original.length - 1 })).toEqual({
      ok: false,
      reason: 'too-large',
    });
  });

  it('the type comes from the bytes: a PDF claiming to be a JPEG is handled as the PDF document it is', async () => {
    const pdf = minimalPdf();
    const result = await sanitizer.sanitize(pdf, { policy: 'strip', maxBytes: MB, claimedMime: 'image/jpeg' });
    expect(result).toMatchObject({ ok: true, mimeType: 'application/pdf', kind: 'document' });
  });

  it('a JPEG with a zip appended (polyglot) is re-encoded and the zip is gone', async () => {
    const polyglot = Buffer.concat([fixture('jpg_Canon_40D.jpg'), zipBomb()]);
    const result = await sanitizeOk(polyglot, 'image/jpeg');
    expect(result.mimeType).toBe('image/jpeg');
    expect(result.data.includes(Buffer.from('PK\x03\x04', 'latin1'))).toBe(false);
    expect(result.data.includes(Buffer.from('bomb.txt'))).toBe(false);
  });

  it('a zip bomb is refused as a type not allowed, without being unpacked', async () => {
    const bomb = zipBomb();
    const started = performance.now();
    expect(await sanitizer.sanitize(bomb, { policy: 'strip', maxBytes: MB, claimedMime: 'image/png' })).toEqual({
      ok: false,
      reason: 'type-not-allowed',
    });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a PNG declaring 100000 x 100000 pixels is refused before decoding', async () => {
    const started = performance.now();
    expect(await sanitizer.sanitize(hugePng(100_000, 100_000), { policy: 'strip', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'too-many-pixels',
    });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('the pixel limit is configurable and applies to real images', async () => {
    const small = new MediaSanitizer({ maxPixels: 100 * 100 });
    expect(await small.sanitize(fixture('jpg_gps_DSCN0010.jpg'), { policy: 'strip', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'too-many-pixels',
    });
  });

  it('garbage after a JPEG signature is refused as corrupt', async () => {
    const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]);
    expect(await sanitizer.sanitize(broken, { policy: 'strip', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'corrupt',
    });
    expect(await sanitizer.sanitize(Buffer.alloc(0), { policy: 'strip', maxBytes: MB })).toEqual({
      ok: false,
      reason: 'corrupt',
    });
  });

  it.each([
    ['HTML', Buffer.from('<!doctype html><script>alert(1)</script>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['an ELF executable', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)])],
    ['a Windows executable', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64)])],
  ])('%s is refused as a type not allowed', async (_name, data) => {
    expect(await sanitizer.sanitize(data, { policy: 'strip', maxBytes: MB, claimedMime: 'image/png' })).toEqual({
      ok: false,
      reason: 'type-not-allowed',
    });
  });

  it('a WebP announced as a sticker comes back as kind sticker, re-encoded as WebP', async () => {
    const webp = await sharp({ create: { width: 512, height: 512, channels: 4, background: '#f00' } })
      .webp()
      .toBuffer();
    const result = await sanitizer.sanitize(webp, { policy: 'strip', maxBytes: MB, sticker: true });
    expect(result).toMatchObject({ ok: true, kind: 'sticker', mimeType: 'image/webp' });
  });
});

describe('MediaSanitizer: audio and video containers', () => {
  it('MP4: location, device and dates are removed, the structure and size stay the same', async () => {
    const video = mp4WithMetadata();
    expect(video.includes(Buffer.from('+52.5200+013.4050/'))).toBe(true);
    const result = await sanitizeOk(video, 'video/mp4');
    expect(result).toMatchObject({ kind: 'video', mimeType: 'video/mp4', stripped: true });
    expect(result.data.length).toBe(video.length);
    expect(result.data.includes(Buffer.from('+52.5200+013.4050/'))).toBe(false);
    expect(result.data.includes(Buffer.from('iPhone'))).toBe(false);
    expect(result.data.includes(Buffer.from('mdat-payload'))).toBe(true);
  });

  itWithExiftool('MP4: exiftool finds no location, device or dates in the output', async () => {
    const result = await sanitizeOk(mp4WithMetadata(), 'video/mp4');
    const tags = exiftoolTags(result.data);
    expect(Object.keys(tags).filter((k) => /GPS|Location|Make|Model/i.test(k))).toEqual([]);
    const dated = Object.entries(tags).filter(
      ([k, v]) =>
        !/^(System|File|ExifTool):/.test(k) &&
        /CreateDate|ModifyDate/.test(k) &&
        v !== 0 &&
        v !== '0000:00:00 00:00:00',
    );
    expect(dated).toEqual([]);
  });

  it('MP3: the ID3 tag is cut off', async () => {
    const id3Body = Buffer.concat([Buffer.from('TIT2'), u32(12), Buffer.from([0, 0, 0]), Buffer.from('Secret song')]);
    const id3 = Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0]), syncsafe(id3Body.length), id3Body]);
    const frames = Buffer.concat(
      Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)])),
    );
    const result = await sanitizeOk(Buffer.concat([id3, frames]), 'audio/mpeg');
    expect(result).toMatchObject({ kind: 'audio', mimeType: 'audio/mpeg' });
    expect(result.data.includes(Buffer.from('Secret song'))).toBe(false);
    expect(result.data.equals(frames)).toBe(true);
  });

  it('an Ogg/Opus voice note is accepted as audio/ogg', async () => {
    const head = Buffer.concat([Buffer.from('OpusHead'), Buffer.from([1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
    const page = Buffer.concat([
      Buffer.from('OggS'),
      Buffer.from([0, 2]),
      Buffer.alloc(8),
      Buffer.from([1, 0, 0, 0]),
      Buffer.alloc(4),
      Buffer.alloc(4),
      Buffer.from([1, head.length]),
      head,
    ]);
    const result = await sanitizeOk(page, 'audio/ogg; codecs=opus');
    expect(result).toMatchObject({ kind: 'audio', mimeType: 'audio/ogg' });
  });
});

// ---- builders of hostile and synthetic files ----

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function syncsafe(n: number): Buffer {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

function box(type: string, ...children: Buffer[]): Buffer {
  const payload = Buffer.concat(children);
  return Buffer.concat([u32(8 + payload.length), Buffer.from(type, 'latin1'), payload]);
}

/** A small MP4 with an iPhone-like location (©xyz), make/model keys and creation times. */
function mp4WithMetadata(): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom'), u32(512), Buffer.from('isomiso2avc1mp41'));
  const mvhd = box(
    'mvhd',
    Buffer.from([0, 0, 0, 0]),
    u32(3_800_000_000),
    u32(3_800_000_001),
    u32(600),
    u32(0),
    Buffer.alloc(80),
  );
  const xyz = box('\xa9xyz', Buffer.from([0, 18, 0x15, 0xc7]), Buffer.from('+52.5200+013.4050/'));
  const mak = box('\xa9mak', Buffer.from([0, 5, 0x15, 0xc7]), Buffer.from('Apple'));
  const mod = box('\xa9mod', Buffer.from([0, 6, 0x15, 0xc7]), Buffer.from('iPhone'));
  const udta = box('udta', xyz, mak, mod);
  const tkhd = box('tkhd', Buffer.from([0, 0, 0, 3]), u32(3_800_000_000), u32(3_800_000_001), Buffer.alloc(72));
  const trak = box('trak', tkhd);
  const moov = box('moov', mvhd, trak, udta);
  const mdat = box('mdat', Buffer.from('mdat-payload'));
  return Buffer.concat([ftyp, moov, mdat]);
}

/** A zip whose one entry inflates to 200 MB of zeros (stored compressed in about 200 KB). */
let bombCache: Buffer | undefined;
function zipBomb(): Buffer {
  if (bombCache) return bombCache;
  const size = 200 * MB;
  const compressed = deflateRawSync(Buffer.alloc(size));
  const name = Buffer.from('bomb.txt');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(8, 8); // deflate
  header.writeUInt32LE(compressed.length, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(name.length, 26);
  bombCache = Buffer.concat([header, name, compressed]);
  return bombCache;
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32(data.length), typed, u32(crc32(typed))]);
}

/** A valid PNG header declaring width x height, with a tiny IDAT: decoding it would need gigabytes. */
function hugePng(width: number, height: number): Buffer {
  const ihdr = Buffer.concat([u32(width), u32(height), Buffer.from([8, 2, 0, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateRawSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function minimalPdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n' +
      'trailer<</Root 1 0 R>>\n%%EOF\n',
  );
}
