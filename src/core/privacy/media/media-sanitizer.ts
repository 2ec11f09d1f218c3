import type { fileTypeFromBuffer } from 'file-type';
import type sharp from 'sharp';
import { neutralizeIsoBmffMetadata, stripId3 } from './container-metadata.ts';
import { HeifDecoder } from './heif-decoder.ts';
import { webmOpusToOgg } from './webm-opus-to-ogg.ts';

/**
 * sharp (libvips) and file-type are loaded when the first file arrives, not at start: together they hold about
 * 25 MiB of resident memory that a sparsam without media never needs.
 */
let sharpModule: Promise<typeof sharp> | undefined;
const loadSharp = (): Promise<typeof sharp> => (sharpModule ??= import('sharp').then((m) => m.default));
let fileTypeModule: Promise<typeof fileTypeFromBuffer> | undefined;
const loadFileType = (): Promise<typeof fileTypeFromBuffer> =>
  (fileTypeModule ??= import('file-type').then((m) => m.fileTypeFromBuffer));

/** What an inbox does with media customers send (config `inboxes[].media`). */
export type MediaPolicy = 'strip' | 'reject' | 'allow';

export type MediaKind = 'image' | 'document' | 'audio' | 'video' | 'sticker';

export type MediaRefusal = 'rejected-by-policy' | 'too-large' | 'type-not-allowed' | 'corrupt' | 'too-many-pixels';

export interface SanitizeOptions {
  policy: MediaPolicy;
  /** What the provider or sender claimed. Recorded nowhere and never trusted: the type comes from the bytes. */
  claimedMime?: string | undefined;
  /** Largest input (and output) accepted, in bytes. */
  maxBytes: number;
  /** The provider announced a sticker: a WebP image is then returned with kind `sticker`. */
  sticker?: boolean | undefined;
  /**
   * Return still JPEG or PNG images only: WebP and GIF become a PNG of their first frame. For files staff send:
   * WhatsApp sends images as JPEG or PNG only (WebP is for stickers, GIF not at all).
   */
  stillImages?: boolean | undefined;
}

export type SanitizedMedia = {
  ok: true;
  data: Buffer;
  /** The MIME type of `data`, from its magic bytes (after conversion, e.g. HEIC → image/jpeg). */
  mimeType: string;
  kind: MediaKind;
  /** True when metadata was removed (policy `strip`); false when the original bytes were kept (policy `allow`). */
  stripped: boolean;
  /** Pixel size of images after orientation; undefined for other kinds. */
  width?: number;
  height?: number;
};

export type SanitizeResult = SanitizedMedia | { ok: false; reason: MediaRefusal };

export interface MediaSanitizerOptions {
  /** Largest image accepted, in pixels (width × height); default 50 MP (a 48 MP phone photo passes). */
  maxPixels?: number;
  /** Longest time sharp (or the HEIF decoder thread) may spend on one image; default 20 s. */
  timeoutSeconds?: number;
  /** Largest HEIC/HEIF input decoded (libheif in a worker thread), bytes; default 40 MB. */
  maxHeifBytes?: number;
}

interface ImageFormat {
  /** sharp's output format for the re-encoded image. */
  output: 'jpeg' | 'png' | 'webp' | 'gif';
  mimeType: string;
  animated: boolean;
}

/** Images: decoded and re-encoded. HEIC/HEIF/AVIF become JPEG (browsers cannot show HEIC). */
const IMAGE_TYPES: Readonly<Record<string, ImageFormat>> = {
  jpg: { output: 'jpeg', mimeType: 'image/jpeg', animated: false },
  png: { output: 'png', mimeType: 'image/png', animated: false },
  webp: { output: 'webp', mimeType: 'image/webp', animated: true },
  gif: { output: 'gif', mimeType: 'image/gif', animated: true },
  heic: { output: 'jpeg', mimeType: 'image/jpeg', animated: false },
  avif: { output: 'jpeg', mimeType: 'image/jpeg', animated: false },
};

/** What WebP and GIF become with the option `stillImages`. */
const STILL_PNG: ImageFormat = { output: 'png', mimeType: 'image/png', animated: false };

const ZIP_LOCAL_HEADER = 0x04034b50;

interface OtherFormat {
  mimeType: string;
  kind: 'document' | 'audio' | 'video';
  clean: ((data: Buffer) => Buffer | null) | undefined;
  /** `clean` converts to another container (the type is `mimeType` only after it): applied under every policy. */
  converts?: boolean;
}

/**
 * Everything else sparsam accepts, by detected extension: the formats WhatsApp itself sends (voice notes as
 * Ogg/Opus, AMR from old phones, MP3/M4A/AAC audio, MP4/3GP video) and PDF. Everything not in this list (zip, office
 * files, executables, HTML, SVG, text …) is refused: an agent's browser never receives a file type it could run.
 *
 * WebM is taken only as a recording of one Opus audio track (what a browser's MediaRecorder makes of a voice note)
 * and always leaves as Ogg/Opus (webm-opus-to-ogg.ts: a remux without the WebM's metadata), the only container
 * WhatsApp plays as a voice note; WebM video and other codecs are refused.
 *
 * Metadata: MP4/3GP/M4A boxes are neutralised in place and MP3 ID3 tags cut (container-metadata.ts). Ogg comment
 * headers, AMR (which has none) and PDF document information are kept as sent: removing them needs a re-encoder or a
 * PDF writer sparsam does not ship.
 */
const OTHER_TYPES: Readonly<Record<string, OtherFormat>> = {
  pdf: { mimeType: 'application/pdf', kind: 'document', clean: undefined },
  ogg: { mimeType: 'audio/ogg', kind: 'audio', clean: undefined },
  oga: { mimeType: 'audio/ogg', kind: 'audio', clean: undefined },
  opus: { mimeType: 'audio/ogg', kind: 'audio', clean: undefined },
  mp3: { mimeType: 'audio/mpeg', kind: 'audio', clean: stripId3 },
  m4a: { mimeType: 'audio/mp4', kind: 'audio', clean: neutralizeIsoBmffMetadata },
  aac: { mimeType: 'audio/aac', kind: 'audio', clean: undefined },
  amr: { mimeType: 'audio/amr', kind: 'audio', clean: undefined },
  webm: { mimeType: 'audio/ogg', kind: 'audio', clean: (data) => webmOpusToOgg(data)?.data ?? null, converts: true },
  mp4: { mimeType: 'video/mp4', kind: 'video', clean: neutralizeIsoBmffMetadata },
  '3gp': { mimeType: 'video/3gpp', kind: 'video', clean: neutralizeIsoBmffMetadata },
};

/** The extensions (as detected from magic bytes) sparsam accepts, for documentation and the admin UI. */
export const ALLOWED_MEDIA_TYPES: readonly string[] = Object.freeze([
  ...Object.keys(IMAGE_TYPES),
  ...Object.keys(OTHER_TYPES),
]);

/**
 * Makes customer media safe to store and show: the type is detected from the bytes (file-type), never from a name or
 * a claimed MIME type; images are decoded with sharp, turned upright by their EXIF orientation and re-encoded
 * without any metadata (EXIF with GPS, camera make and model, dates, maker notes and thumbnails, XMP, IPTC, ICC);
 * decompression bombs are refused before decoding by a pixel limit; other formats only from an allow-list.
 *
 * - policy `reject`: every file is refused (`rejected-by-policy`); the inbox answers the customer politely that it
 *   takes text only.
 * - policy `strip` (default): as above.
 * - policy `allow`: the same checks (type allow-list, size, pixel limit, the image must decode), but the original
 *   bytes are kept, metadata included — for inboxes whose purpose needs the originals (insurance claims, evidence).
 *
 * Polyglots: the type of the first bytes wins. A JPEG with a zip appended is decoded as a JPEG and re-encoded, which
 * drops the appended zip; a PDF sent as "image/jpeg" is handled as the PDF it is (kind `document`); a zip is refused.
 * Never throws for bad input: every refusal is a result.
 */
export class MediaSanitizer {
  private readonly maxPixels: number;
  private readonly timeoutSeconds: number;
  private readonly maxHeifBytes: number;
  private readonly heif: HeifDecoder;

  constructor(options: MediaSanitizerOptions = {}) {
    this.maxPixels = options.maxPixels ?? 50_000_000;
    this.timeoutSeconds = options.timeoutSeconds ?? 20;
    this.maxHeifBytes = options.maxHeifBytes ?? 40 * 1024 * 1024;
    this.heif = new HeifDecoder(this.timeoutSeconds * 1000);
  }

  async sanitize(data: Buffer, options: SanitizeOptions): Promise<SanitizeResult> {
    if (options.policy === 'reject') return refuse('rejected-by-policy');
    if (data.length > options.maxBytes) return refuse('too-large');
    if (data.length === 0) return refuse('corrupt');
    // No allowed type is zip-based: refuse zips before file-type looks inside them (it inflates some entries to
    // tell office files apart, which a crafted zip bomb could abuse).
    if (data.length >= 4 && data.readUInt32LE(0) === ZIP_LOCAL_HEADER) return refuse('type-not-allowed');
    let detected: Awaited<ReturnType<typeof fileTypeFromBuffer>>;
    try {
      detected = await (await loadFileType())(data);
    } catch {
      return refuse('type-not-allowed');
    }
    if (!detected) return refuse('type-not-allowed');
    const found = IMAGE_TYPES[detected.ext];
    const image = found && options.stillImages && found.animated ? STILL_PNG : found;
    if (image) return this.image(data, detected.ext, image, options);
    const other = OTHER_TYPES[detected.ext];
    if (!other) return refuse('type-not-allowed');
    if ((options.policy === 'allow' && !other.converts) || !other.clean) {
      return { ok: true, data, mimeType: other.mimeType, kind: other.kind, stripped: false };
    }
    const cleaned = other.clean(data);
    // A WebM that is not a single Opus track (video, another codec) is a type sparsam does not take.
    if (!cleaned) return refuse(other.converts ? 'type-not-allowed' : 'corrupt');
    if (cleaned.length > options.maxBytes) return refuse('too-large');
    return { ok: true, data: cleaned, mimeType: other.mimeType, kind: other.kind, stripped: true };
  }

  private async image(
    data: Buffer,
    ext: string,
    format: ImageFormat,
    options: SanitizeOptions,
  ): Promise<SanitizeResult> {
    const kind: MediaKind = options.sticker && ext === 'webp' ? 'sticker' : 'image';
    const vips = await loadSharp();
    let pipeline: sharp.Sharp;
    if (ext === 'heic') {
      if (data.length > this.maxHeifBytes) return refuse('too-large');
      const decoded = await this.heif.decode(data, this.maxPixels);
      if (!decoded.ok) return decoded;
      pipeline = vips(decoded.pixels, {
        raw: { width: decoded.width, height: decoded.height, channels: 4 },
        limitInputPixels: this.maxPixels,
      });
    } else {
      pipeline = vips(data, {
        limitInputPixels: this.maxPixels,
        animated: format.animated,
        failOn: 'error',
      });
      // Reading the header first refuses huge declared dimensions before any pixel is decoded.
      try {
        const meta = await vips(data, { limitInputPixels: false, animated: format.animated }).metadata();
        const frameHeight = meta.pageHeight ?? meta.height ?? 0;
        const pages = format.animated ? (meta.pages ?? 1) : 1;
        if ((meta.width ?? 0) * frameHeight * pages > this.maxPixels) return refuse('too-many-pixels');
      } catch {
        return refuse('corrupt');
      }
      if (!format.animated) pipeline = pipeline.rotate();
    }
    pipeline = pipeline.timeout({ seconds: this.timeoutSeconds });
    switch (format.output) {
      case 'jpeg':
        pipeline = pipeline.jpeg({ quality: 88, chromaSubsampling: '4:2:0' });
        break;
      case 'png':
        pipeline = pipeline.png();
        break;
      case 'webp':
        pipeline = pipeline.webp({ quality: 88 });
        break;
      case 'gif':
        pipeline = pipeline.gif();
        break;
    }
    let output: { data: Buffer; info: sharp.OutputInfo };
    try {
      // No withMetadata()/keepExif()/keepIccProfile(): sharp writes none of the input's metadata.
      output = await pipeline.toBuffer({ resolveWithObject: true });
    } catch (error) {
      return refuse(/pixel limit/i.test(error instanceof Error ? error.message : '') ? 'too-many-pixels' : 'corrupt');
    }
    if (options.policy === 'allow' && ext !== 'heic' && ext !== 'avif') {
      return {
        ok: true,
        data,
        mimeType: format.mimeType,
        kind,
        stripped: false,
        width: output.info.width,
        height: output.info.height,
      };
    }
    if (output.data.length > options.maxBytes) return refuse('too-large');
    return {
      ok: true,
      data: output.data,
      mimeType: format.mimeType,
      kind,
      stripped: true,
      width: output.info.width,
      height: format.animated ? (output.info.pageHeight ?? output.info.height) : output.info.height,
    };
  }
}

function refuse(reason: MediaRefusal): { ok: false; reason: MediaRefusal } {
  return { ok: false, reason };
}
