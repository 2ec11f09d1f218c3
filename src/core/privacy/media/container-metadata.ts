/**
 * Metadata removal for the non-image containers sparsam accepts, done in place without re-encoding (no ffmpeg):
 *
 * - ISO base media files (mp4, 3gp, m4a): boxes that carry metadata — `udta` (user data: ©xyz GPS position,
 *   ©mak/©mod device, ©day date), `meta` (iTunes/Apple keys incl. com.apple.quicktime.location.ISO6709) and `uuid`
 *   (XMP) — are renamed to `free` and zero-filled, and the creation/modification times in `mvhd`/`tkhd`/`mdhd` are
 *   zeroed. Box sizes stay the same, so sample offsets (`stco`/`co64`) stay valid and the file still plays.
 * - MP3: leading ID3v2 tags and a trailing ID3v1 tag are cut off.
 *
 * Both return `null` when the container structure is broken (the caller refuses the file as corrupt).
 */

const CONTAINER_BOXES = new Set(['moov', 'trak', 'mdia', 'minf', 'edts', 'dinf', 'stbl', 'moof', 'traf', 'mvex']);
const METADATA_BOXES = new Set(['udta', 'meta', 'uuid', 'XMP_', 'ilst']);
const TIMED_HEADER_BOXES = new Set(['mvhd', 'tkhd', 'mdhd']);

/** Neutralises metadata boxes of an ISO BMFF file (a copy is returned; the input is not changed). */
export function neutralizeIsoBmffMetadata(input: Buffer): Buffer | null {
  const data = Buffer.from(input);
  return walkBoxes(data, 0, data.length, 0) ? data : null;
}

function walkBoxes(data: Buffer, start: number, end: number, depth: number): boolean {
  if (depth > 16) return false;
  let offset = start;
  while (offset < end) {
    if (end - offset < 8) return depth === 0 ? isZeroPadding(data, offset, end) : false;
    let size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1) {
      if (end - offset < 16) return false;
      const large = data.readBigUInt64BE(offset + 8);
      if (large > BigInt(end - offset)) return false;
      size = Number(large);
      header = 16;
    } else if (size === 0) {
      size = end - offset; // the box runs to the end of its parent (the last box of a file, usually mdat)
    }
    if (size < header || offset + size > end) return false;
    if (METADATA_BOXES.has(type)) {
      data.write('free', offset + 4, 'latin1');
      data.fill(0, offset + header, offset + size);
    } else if (TIMED_HEADER_BOXES.has(type)) {
      zeroTimes(data, offset + header, offset + size);
    } else if (CONTAINER_BOXES.has(type)) {
      if (!walkBoxes(data, offset + header, offset + size, depth + 1)) return false;
    }
    offset += size;
  }
  return true;
}

/** mvhd/tkhd/mdhd: version(1) flags(3) creation_time modification_time (4 bytes each in v0, 8 in v1). */
function zeroTimes(data: Buffer, start: number, end: number): void {
  if (end - start < 4) return;
  const version = data[start];
  const width = version === 1 ? 8 : 4;
  if (end - start < 4 + 2 * width) return;
  data.fill(0, start + 4, start + 4 + 2 * width);
}

function isZeroPadding(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (data[i] !== 0) return false;
  return true;
}

/** Removes ID3v2 tags at the start (several may follow each other) and an ID3v1 tag at the end of an MP3. */
export function stripId3(input: Buffer): Buffer | null {
  let start = 0;
  while (input.length - start >= 10 && input.toString('latin1', start, start + 3) === 'ID3') {
    const flags = input[start + 5]!;
    const sizeBytes = input.subarray(start + 6, start + 10);
    if (sizeBytes.some((b) => b > 0x7f)) return null; // sizes are "syncsafe": 7 bits per byte
    const size = (sizeBytes[0]! << 21) | (sizeBytes[1]! << 14) | (sizeBytes[2]! << 7) | sizeBytes[3]!;
    const total = 10 + size + (flags & 0x10 ? 10 : 0);
    if (start + total > input.length) return null;
    start += total;
  }
  let end = input.length;
  if (end - start >= 128 && input.toString('latin1', end - 128, end - 125) === 'TAG') end -= 128;
  return Buffer.from(input.subarray(start, end));
}
