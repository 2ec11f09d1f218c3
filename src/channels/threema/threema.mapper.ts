import type { DeliveryStatus, InboundEvent, InboundKind } from '../../core/channel/channel.port.ts';
import { AppError } from '../../shared/app-error.ts';
import { THREEMA_TYPE_DELIVERY_RECEIPT, THREEMA_TYPE_FILE, THREEMA_TYPE_TEXT } from './threema.crypto.ts';
import type { ThreemaCallback } from './threema.parser.ts';

/** Threema's typing indicator: a transient signal, not a message. */
const THREEMA_TYPE_TYPING = 0x90;

/**
 * Receipt status bytes (threema-gateway-rs `src/receive.rs` / threema-msgapi-sdk-python `DeliveryReceipt`):
 * 1 received, 2 read, 3 acknowledged (thumbs up), 4 declined (thumbs down). Acknowledging or declining needs the
 * message read, so both tick as read.
 */
const RECEIPT_STATUS: Record<number, DeliveryStatus> = { 1: 'delivered', 2: 'read', 3: 'read', 4: 'read' };

/** A file message's JSON (type 0x17): blob id, blob key, MIME type, name, size, caption. */
interface FileDescriptor {
  b: string;
  k: string;
  m: string;
  n?: string;
  s?: number;
  d?: string;
}

export interface ThreemaMapping {
  events: InboundEvent[];
  ignored: string[];
}

/**
 * Turns an opened message into core events: text (0x01) and file (0x17) become one message each, a delivery receipt
 * (0x80) one status per message id it names, a typing indicator nothing; other types arrive as `unsupported` so that
 * staff see that something came. `senderKeyChanged` marks the message whose box opened only with a new public key.
 * File messages carry `<blobId>:<blobKey>` as media id: it travels sealed with the message until the fetch job.
 *
 * @throws AppError('VALIDATION') for a payload that does not fit its type (bad UTF-8, bad JSON, wrong lengths).
 */
export function mapThreemaMessage(
  callback: ThreemaCallback,
  opened: { type: number; payload: Uint8Array },
  channelId: string,
  senderKeyChanged: boolean,
): ThreemaMapping {
  const base = {
    type: 'message' as const,
    channelId,
    providerMessageId: callback.messageId,
    address: callback.from,
    profileName: callback.nickname,
    sentAt: callback.date * 1000,
    buttonId: undefined,
    replyToProviderMessageId: undefined,
    extra: senderKeyChanged ? { senderKeyChanged: true } : undefined,
  };
  switch (opened.type) {
    case THREEMA_TYPE_TEXT:
      return { events: [{ ...base, kind: 'text', text: utf8(opened.payload, 'text'), media: undefined }], ignored: [] };
    case THREEMA_TYPE_FILE: {
      const file = fileDescriptor(opened.payload);
      return {
        events: [
          {
            ...base,
            kind: mediaKind(file.m),
            text: file.d && file.d.length > 0 ? file.d : undefined,
            media: {
              providerMediaId: `${file.b.toLowerCase()}:${file.k.toLowerCase()}`,
              mimeType: file.m,
              fileName: file.n,
              sha256: undefined,
              size: file.s,
            },
          },
        ],
        ignored: [],
      };
    }
    case THREEMA_TYPE_DELIVERY_RECEIPT: {
      const p = opened.payload;
      if (p.length < 9 || (p.length - 1) % 8 !== 0) throw invalid('delivery receipt');
      const status = RECEIPT_STATUS[p[0]!];
      if (!status) return { events: [], ignored: [`delivery receipt status ${p[0]} is not reported`] };
      const events: InboundEvent[] = [];
      for (let i = 1; i < p.length; i += 8) {
        events.push({
          type: 'status',
          channelId,
          providerMessageId: Buffer.from(p.subarray(i, i + 8)).toString('hex'),
          status,
          at: callback.date * 1000,
          error: undefined,
          pricingCategory: undefined,
        });
      }
      return { events, ignored: [] };
    }
    case THREEMA_TYPE_TYPING:
      return { events: [], ignored: ['typing indicator'] };
    default:
      return {
        events: [{ ...base, kind: 'unsupported', text: undefined, media: undefined }],
        ignored: [`message type 0x${opened.type.toString(16)} shown as unsupported`],
      };
  }
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(what);
  }
}

function fileDescriptor(payload: Uint8Array): FileDescriptor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8(payload, 'file message'));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalid('file message');
  }
  const f = parsed as Record<string, unknown>;
  if (!f || typeof f !== 'object') throw invalid('file message');
  if (typeof f.b !== 'string' || !/^[0-9a-fA-F]{32}$/.test(f.b)) throw invalid('file message');
  if (typeof f.k !== 'string' || !/^[0-9a-fA-F]{64}$/.test(f.k)) throw invalid('file message');
  const mime = typeof f.m === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(f.m) ? f.m : 'application/octet-stream';
  return {
    b: f.b,
    k: f.k,
    m: mime,
    n: typeof f.n === 'string' ? f.n.slice(0, 255) : undefined,
    s: typeof f.s === 'number' && Number.isInteger(f.s) && f.s >= 0 ? f.s : undefined,
    d: typeof f.d === 'string' ? f.d : undefined,
  };
}

function mediaKind(mime: string): InboundKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'document';
}

function invalid(what: string): AppError {
  return new AppError('VALIDATION', `the Threema ${what} is malformed`, { field: 'box' });
}
