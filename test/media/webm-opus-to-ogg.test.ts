import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaSanitizer } from '../../src/core/privacy/media/media-sanitizer.ts';
import { oggCrc, opusPacketSamples, webmOpusToOgg } from '../../src/core/privacy/media/webm-opus-to-ogg.ts';

const WEBM = readFileSync(path.join(import.meta.dirname, '../fixtures/audio/voice-chromium.webm'));

interface Page {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  crcOk: boolean;
  packets: Buffer[];
}

/** An independent reader of Ogg pages (RFC 3533), checking each page's CRC on the bytes as written. */
function readPages(data: Buffer): Page[] {
  const pages: Page[] = [];
  let offset = 0;
  while (offset < data.length) {
    expect(data.toString('latin1', offset, offset + 4)).toBe('OggS');
    const count = data[offset + 26]!;
    const lacing = [...data.subarray(offset + 27, offset + 27 + count)];
    const bodyLength = lacing.reduce((a, b) => a + b, 0);
    const end = offset + 27 + count + bodyLength;
    const page = Buffer.from(data.subarray(offset, end));
    const stored = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let at = offset + 27 + count;
    let current: Buffer[] = [];
    for (const l of lacing) {
      current.push(data.subarray(at, at + l));
      at += l;
      if (l < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
    expect(current).toEqual([]); // the remux never continues a packet on the next page
    pages.push({
      flags: data[offset + 5]!,
      granule: data.readBigUInt64LE(offset + 6),
      serial: data.readUInt32LE(offset + 14),
      sequence: data.readUInt32LE(offset + 18),
      crcOk: oggCrc(page) === stored,
      packets,
    });
    offset = end;
  }
  return pages;
}

describe('WebM/Opus → Ogg/Opus remux', () => {
  it("turns Chromium's MediaRecorder output into valid Ogg pages with OpusHead, a bare OpusTags and rising granules", () => {
    const result = webmOpusToOgg(WEBM, { serial: 0x1234 });
    expect(result).not.toBeNull();
    const pages = readPages(result!.data);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const [i, p] of pages.entries()) {
      expect(p.crcOk).toBe(true);
      expect(p.sequence).toBe(i);
      expect(p.serial).toBe(0x1234);
    }
    expect(pages[0]!.flags).toBe(0x02); // beginning of stream
    expect(pages.at(-1)!.flags & 0x04).toBe(0x04); // end of stream
    const head = pages[0]!.packets[0]!;
    expect(head.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(head[8]).toBe(1);
    expect(pages[0]!.packets).toHaveLength(1);
    const tags = pages[1]!.packets[0]!;
    expect(tags.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(tags.readUInt32LE(8)).toBe('sparsam'.length);
    expect(tags.toString('utf8', 12, 19)).toBe('sparsam');
    expect(tags.readUInt32LE(19)).toBe(0); // no comments
    expect(pages[1]!.granule).toBe(0n);
    let previous = 0n;
    let samples = 0;
    for (const p of pages.slice(2)) {
      expect(p.granule).toBeGreaterThan(previous);
      previous = p.granule;
      for (const packet of p.packets) samples += opusPacketSamples(packet)!;
      expect(p.granule).toBe(BigInt(samples));
    }
    // About the 2 s recorded (MediaRecorder stops at the next packet boundary).
    expect(result!.durationSeconds).toBeGreaterThan(1.5);
    expect(result!.durationSeconds).toBeLessThan(2.6);
    expect(result!.channels).toBeGreaterThanOrEqual(1);
  });

  it('copies the Opus packets byte for byte and none of the WebM metadata', () => {
    const result = webmOpusToOgg(WEBM)!;
    const audio = readPages(result.data)
      .slice(2)
      .flatMap((p) => p.packets);
    expect(audio.length).toBeGreaterThan(25); // 2 s in packets of 60 ms (Chromium) or 20 ms
    for (const packet of audio.slice(0, 20)) expect(WEBM.includes(packet)).toBe(true);
    expect(WEBM.includes(Buffer.from('Chrome'))).toBe(true);
    expect(result.data.includes(Buffer.from('Chrome'))).toBe(false);
  });

  it('refuses what is not a single Opus track in WebM, and audio longer than allowed', () => {
    expect(webmOpusToOgg(Buffer.from('not a webm file at all'))).toBeNull();
    expect(webmOpusToOgg(WEBM.subarray(0, 60))).toBeNull(); // header only, no audio
    const otherCodec = Buffer.from(WEBM);
    otherCodec.write('A_VORB', otherCodec.indexOf('A_OPUS'), 'latin1');
    expect(webmOpusToOgg(otherCodec)).toBeNull();
    expect(webmOpusToOgg(WEBM, { maxSeconds: 1 })).toBeNull();
  });

  it('the sanitizer refuses a WebM whose track is video, and one that is cut before any audio', async () => {
    const video = Buffer.from(WEBM);
    const trackType = video.indexOf(Buffer.from([0x83, 0x81, 0x02])); // TrackType = 2 (audio)
    expect(trackType).toBeGreaterThan(0);
    video[trackType + 2] = 0x01; // video
    const sanitizer = new MediaSanitizer();
    const firstCluster = WEBM.indexOf(Buffer.from([0x1f, 0x43, 0xb6, 0x75]));
    for (const bytes of [video, WEBM.subarray(0, firstCluster)]) {
      const result = await sanitizer.sanitize(bytes, { policy: 'allow', maxBytes: 16 * 1024 * 1024 });
      expect(result).toEqual({ ok: false, reason: 'type-not-allowed' });
    }
  });

  it('keeps the packets before a block cut off at the end of an interrupted upload', () => {
    const whole = webmOpusToOgg(WEBM)!;
    const cut = webmOpusToOgg(WEBM.subarray(0, WEBM.length - 5))!;
    expect(cut).not.toBeNull();
    expect(cut.durationSeconds).toBeLessThan(whole.durationSeconds);
  });

  it('the sanitizer sends a WebM voice recording on as audio/ogg, and the result passes the sanitizer again', async () => {
    const sanitizer = new MediaSanitizer();
    const result = await sanitizer.sanitize(WEBM, { policy: 'strip', maxBytes: 16 * 1024 * 1024 });
    expect(result).toMatchObject({ ok: true, mimeType: 'audio/ogg', kind: 'audio', stripped: true });
    if (!result.ok) return;
    expect(result.data.subarray(0, 4).toString('latin1')).toBe('OggS');
    const again = await sanitizer.sanitize(result.data, { policy: 'strip', maxBytes: 16 * 1024 * 1024 });
    expect(again).toMatchObject({ ok: true, mimeType: 'audio/ogg', kind: 'audio' });
  });
});
