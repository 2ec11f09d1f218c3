import { randomInt } from 'node:crypto';

/**
 * Turns a WebM file with one Opus audio track (what Chromium's and Firefox's MediaRecorder write for
 * `audio/webm;codecs=opus`) into an Ogg/Opus file (RFC 7845), the only format WhatsApp takes as a voice note
 * (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/audio-messages/: "Voice
 * messages require .ogg files encoded with the OPUS codec").
 *
 * A remux, not a transcode: the Opus packets are copied byte for byte from the WebM's SimpleBlocks (or Blocks in
 * BlockGroups) into Ogg pages; no audio is decoded and no binary is run. Nothing of the WebM's metadata is copied
 * (muxing and writing application, dates, titles, tags, cues): the Ogg file holds the OpusHead taken from the
 * track's CodecPrivate, an OpusTags header with the vendor string "sparsam" and no comments, and the audio.
 *
 * Refused (null): anything that is not an EBML document of type webm with exactly one track, an A_OPUS audio track
 * with a valid OpusHead; laced blocks (MediaRecorder writes none); malformed element sizes; no audio at all; more
 * audio than `maxSeconds`.
 */
export function webmOpusToOgg(input: Buffer, options: WebmToOggOptions = {}): OggOpusResult | null {
  const demuxed = demuxWebmOpus(input);
  if (!demuxed) return null;
  const maxSamples = (options.maxSeconds ?? DEFAULT_MAX_SECONDS) * OPUS_RATE;
  let total = 0;
  const durations: number[] = [];
  for (const packet of demuxed.packets) {
    const samples = opusPacketSamples(packet);
    if (samples === null) return null;
    total += samples;
    if (total - demuxed.preSkip > maxSamples) return null;
    durations.push(samples);
  }
  const serial = options.serial ?? randomInt(0, 2 ** 32 - 1);
  const pages: Buffer[] = [];
  let sequence = 0;
  pages.push(oggPage([demuxed.opusHead], { serial, sequence: sequence++, granule: 0n, bos: true }));
  pages.push(oggPage([opusTags()], { serial, sequence: sequence++, granule: 0n }));
  let granule = 0n;
  let pending: Buffer[] = [];
  let segments = 0;
  let bytes = 0;
  for (let i = 0; i < demuxed.packets.length; i++) {
    const packet = demuxed.packets[i]!;
    const laces = Math.floor(packet.length / 255) + 1;
    if (pending.length > 0 && (segments + laces > 255 || bytes + packet.length > PAGE_TARGET_BYTES)) {
      pages.push(oggPage(pending, { serial, sequence: sequence++, granule }));
      pending = [];
      segments = 0;
      bytes = 0;
    }
    pending.push(packet);
    segments += laces;
    bytes += packet.length;
    granule += BigInt(durations[i]!);
  }
  pages.push(oggPage(pending, { serial, sequence: sequence++, granule, eos: true }));
  return {
    data: Buffer.concat(pages),
    durationSeconds: Math.max(0, total - demuxed.preSkip) / OPUS_RATE,
    channels: demuxed.opusHead[9]!,
  };
}

export interface WebmToOggOptions {
  /** Longest audio accepted, seconds (default 30 minutes). */
  maxSeconds?: number;
  /** The Ogg stream's serial number (random by default; fixed in tests). */
  serial?: number;
}

export interface OggOpusResult {
  data: Buffer;
  /** Playing time (without the encoder's pre-skip), seconds. */
  durationSeconds: number;
  channels: number;
}

/** True for an Ogg file whose first stream is Opus (its first page holds an OpusHead). */
export function isOggOpus(data: Buffer): boolean {
  if (data.length < 28 + 8 || data.toString('latin1', 0, 4) !== 'OggS') return false;
  const start = 27 + data[26]!;
  return data.toString('latin1', start, start + 8) === 'OpusHead';
}

/** The longest voice note accepted by default: 30 minutes (16 MB of WhatsApp audio holds far more at voice bitrates). */
export const DEFAULT_MAX_SECONDS = 30 * 60;

/** Opus granule positions always count 48 kHz samples, whatever the input rate (RFC 7845 §4). */
const OPUS_RATE = 48_000;
/** Pages of about 4 KB, as libogg writes them (a page may hold up to 255 lacing values, ~64 KB). */
const PAGE_TARGET_BYTES = 4096;
const VENDOR = 'sparsam';

// Matroska element ids (https://www.matroska.org/technical/elements.html), with their length marker bits.
const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  Audio: 0xe1,
  Cluster: 0x1f43b675,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
} as const;

/**
 * Master elements whose children the scan walks into. The scan is linear: entering a master element just means
 * reading on inside it, so Segments and Clusters of unknown size (a live recording's) need no special case.
 */
const WALK_INTO = new Set<number>([ID.Segment, ID.Tracks, ID.TrackEntry, ID.Audio, ID.Cluster, ID.BlockGroup]);

interface Track {
  number?: number;
  type?: number;
  codec?: string;
  codecPrivate?: Buffer;
}

interface Demuxed {
  opusHead: Buffer;
  preSkip: number;
  packets: Buffer[];
}

/** Reads the Opus packets of a WebM's single audio track, in file order; null when the file is not one. */
export function demuxWebmOpus(data: Buffer): Demuxed | null {
  const tracks: Track[] = [];
  const blocks: { track: number; payload: Buffer }[] = [];
  let docType: string | undefined;
  let offset = 0;
  let first = true;
  while (offset < data.length) {
    const id = readId(data, offset);
    if (!id) return null;
    const size = readSize(data, offset + id.length);
    if (!size) return null;
    const start = offset + id.length + size.length;
    if (first && id.value !== ID.EBML) return null;
    first = false;
    if (size.value === null) {
      // Unknown size: only a live Segment or Cluster may have one; read on inside it.
      if (id.value !== ID.Segment && id.value !== ID.Cluster) return null;
      offset = start;
      continue;
    }
    const end = start + size.value;
    if (end > data.length) {
      // A recording cut short ends inside its last block: keep what came before it.
      if (id.value === ID.SimpleBlock || id.value === ID.BlockGroup || id.value === ID.Block) break;
      if (!WALK_INTO.has(id.value)) return null;
    }
    if (id.value === ID.EBML) {
      docType = readEbmlDocType(data.subarray(start, end));
      offset = end;
      continue;
    }
    if (WALK_INTO.has(id.value)) {
      if (id.value === ID.TrackEntry) tracks.push({});
      offset = start;
      continue;
    }
    const body = data.subarray(start, end);
    const track = tracks[tracks.length - 1];
    switch (id.value) {
      case ID.TrackNumber:
        if (track) track.number = readUInt(body);
        break;
      case ID.TrackType:
        if (track) track.type = readUInt(body);
        break;
      case ID.CodecID:
        if (track) track.codec = body.toString('latin1').replace(/\0+$/, '');
        break;
      case ID.CodecPrivate:
        if (track) track.codecPrivate = Buffer.from(body);
        break;
      case ID.SimpleBlock:
      case ID.Block: {
        const block = readBlock(body);
        if (!block) return null;
        blocks.push(block);
        break;
      }
    }
    offset = end;
  }
  if (docType !== 'webm' || tracks.length !== 1) return null;
  const [track] = tracks as [Track];
  if (track.type !== 2 || track.codec !== 'A_OPUS' || track.number === undefined || !track.codecPrivate) return null;
  const head = track.codecPrivate;
  if (head.length < 19 || head.toString('latin1', 0, 8) !== 'OpusHead' || (head[8]! & 0xf0) !== 0) return null;
  const channels = head[9]!;
  if (channels === 0 || (head[18] === 0 && channels > 2)) return null;
  const packets = blocks.filter((b) => b.track === track.number).map((b) => b.payload);
  if (packets.length === 0 || packets.length !== blocks.length) return null;
  return { opusHead: head, preSkip: head.readUInt16LE(10), packets };
}

function readEbmlDocType(header: Buffer): string | undefined {
  let offset = 0;
  while (offset < header.length) {
    const id = readId(header, offset);
    const size = id ? readSize(header, offset + id.length) : null;
    if (!id || !size || size.value === null) return undefined;
    const start = offset + id.length + size.length;
    if (start + size.value > header.length) return undefined;
    if (id.value === ID.DocType) return header.toString('latin1', start, start + size.value).replace(/\0+$/, '');
    offset = start + size.value;
  }
  return undefined;
}

/** A (Simple)Block: track number (a size-like vint), 16-bit relative timecode, flags, then the frame. */
function readBlock(body: Buffer): { track: number; payload: Buffer } | null {
  const track = readSize(body, 0);
  if (!track || track.value === null || body.length < track.length + 3) return null;
  const flags = body[track.length + 2]!;
  if ((flags & 0x06) !== 0) return null; // lacing: MediaRecorder writes one frame per block
  const payload = body.subarray(track.length + 3);
  if (payload.length === 0) return null;
  return { track: track.value, payload: Buffer.from(payload) };
}

/** An element id: 1–4 bytes, the length marker kept (as the specification writes ids). */
function readId(data: Buffer, offset: number): { value: number; length: number } | null {
  const first = data[offset];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (length > 4 || offset + length > data.length) return null;
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + data[offset + i]!;
  return { value, length };
}

/** A data size: 1–8 bytes, marker removed; all value bits set means "unknown" (null). */
function readSize(data: Buffer, offset: number): { value: number | null; length: number } | null {
  const first = data[offset];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (offset + length > data.length) return null;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = data[offset + i]!;
    if (byte !== 0xff) allOnes = false;
    value = value * 256 + byte;
  }
  if (allOnes) return { value: null, length };
  if (!Number.isSafeInteger(value)) return null;
  return { value, length };
}

function readUInt(body: Buffer): number {
  let value = 0;
  for (const byte of body) value = value * 256 + byte;
  return value;
}

/**
 * The number of 48 kHz samples an Opus packet holds, from its TOC byte (RFC 6716 §3.1): the frame duration from the
 * configuration number, times the frame count (1, 2, or the count in the second byte for code 3). Null for a
 * packet that breaks the rules (no frames, more than 120 ms).
 */
export function opusPacketSamples(packet: Buffer): number | null {
  const toc = packet[0];
  if (toc === undefined) return null;
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12)
    frameSamples = [480, 960, 1920, 2880][config % 4]!; // SILK: 10, 20, 40, 60 ms
  else if (config < 16)
    frameSamples = [480, 960][config % 2]!; // hybrid: 10, 20 ms
  else frameSamples = [120, 240, 480, 960][config % 4]!; // CELT: 2.5, 5, 10, 20 ms
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.length < 2) return null;
    frames = packet[1]! & 0x3f;
  }
  const samples = frames * frameSamples;
  if (frames === 0 || samples > 5760) return null;
  return samples;
}

/** OpusTags (RFC 7845 §5.2) with the vendor string only: no comments, so no metadata. */
function opusTags(): Buffer {
  const vendor = Buffer.from(VENDOR, 'utf8');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  return tags;
}

/** One Ogg page (RFC 3533) holding whole packets; every packet here ends on the page it starts on. */
function oggPage(
  packets: Buffer[],
  page: { serial: number; sequence: number; granule: bigint; bos?: boolean; eos?: boolean },
): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    for (let left = packet.length; ; left -= 255) {
      if (left >= 255) lacing.push(255);
      else {
        lacing.push(left);
        break;
      }
    }
  }
  if (lacing.length > 255) throw new Error('an Ogg page holds at most 255 lacing values');
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // version
  header[5] = (page.bos ? 0x02 : 0) | (page.eos ? 0x04 : 0);
  header.writeBigUInt64LE(page.granule, 6);
  header.writeUInt32LE(page.serial >>> 0, 14);
  header.writeUInt32LE(page.sequence, 18);
  header.writeUInt32LE(0, 22); // CRC, filled in below
  header[26] = lacing.length;
  Buffer.from(lacing).copy(header, 27);
  const out = Buffer.concat([header, ...packets]);
  out.writeUInt32LE(oggCrc(out), 22);
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor (RFC 3533 §6). */
export function oggCrc(data: Buffer): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc >>> 0;
}
