import { AppError } from '../../shared/app-error.ts';
import { NONCE_BYTES } from './threema.crypto.ts';
import { THREEMA_ID } from './threema.client.ts';

/** One callback of the Threema Gateway (E2E mode), its fields checked but the box still sealed. */
export interface ThreemaCallback {
  /** The customer's Threema ID (personal data). */
  from: string;
  to: string;
  /** The gateway's id of this message: 8 bytes as 16 hex characters. */
  messageId: string;
  /** When the customer sent it, epoch seconds. */
  date: number;
  nonce: Uint8Array;
  box: Uint8Array;
  /** The nickname the customer chose in the app (personal data), when sent. */
  nickname: string | undefined;
}

/** Threema's boxes are at most 7812 bytes (8 KB minus headers); a little room above it before refusing. */
const MAX_BOX_HEX = 2 * 16 * 1024;

/**
 * Checks the fields of a callback whose MAC already verified (https://gateway.threema.ch/en/developer/api,
 * "Incoming messages and delivery receipts": from, to, messageId, date, nonce, box, mac, nickname).
 *
 * @throws AppError('VALIDATION') naming the field, never its value; 'to' must be this channel's gateway ID.
 */
export function parseThreemaCallback(get: (name: string) => string | undefined, gatewayId: string): ThreemaCallback {
  const from = get('from') ?? '';
  if (!THREEMA_ID.test(from)) throw invalid('from');
  const to = get('to') ?? '';
  if (to !== gatewayId) {
    throw new AppError('VALIDATION', "this callback is for another gateway ID than the channel's", { field: 'to' });
  }
  const messageId = get('messageId') ?? '';
  if (!/^[0-9a-fA-F]{16}$/.test(messageId)) throw invalid('messageId');
  const date = get('date') ?? '';
  if (!/^\d{1,12}$/.test(date)) throw invalid('date');
  const nonce = get('nonce') ?? '';
  if (nonce.length !== NONCE_BYTES * 2 || !/^[0-9a-fA-F]+$/.test(nonce)) throw invalid('nonce');
  const box = get('box') ?? '';
  if (box.length === 0 || box.length % 2 !== 0 || box.length > MAX_BOX_HEX || !/^[0-9a-fA-F]+$/.test(box)) {
    throw invalid('box');
  }
  const nickname = get('nickname')?.trim();
  return {
    from,
    to,
    messageId: messageId.toLowerCase(),
    date: Number(date),
    nonce: Uint8Array.from(Buffer.from(nonce, 'hex')),
    box: Uint8Array.from(Buffer.from(box, 'hex')),
    nickname: nickname ? nickname.slice(0, 64) : undefined,
  };
}

function invalid(field: string): AppError {
  return new AppError('VALIDATION', `not a Threema Gateway callback: ${field} is missing or malformed`, { field });
}
