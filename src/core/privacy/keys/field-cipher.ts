import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import { publicRandomBytes } from '../../../shared/public-random.ts';
import type { DataKey } from './data-key.ts';

/** Where a sealed value lives; bound into the ciphertext so that it cannot be moved to another row or column. */
export interface FieldAad {
  table: string;
  rowId: string;
  column: string;
}

/** Format version 1: [0x01][12-byte nonce][ciphertext][16-byte GCM tag]. */
export const FIELD_FORMAT_V1 = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a sealed value cannot be opened: wrong key (erased), wrong row, or altered bytes. */
export class SealedFieldError extends AppError {
  constructor(reason: string) {
    super('INTERNAL', `a sealed value cannot be opened: ${reason}`);
    this.name = 'SealedFieldError';
  }
}

function associatedData(version: number, key: DataKey, aad: FieldAad): Buffer {
  for (const part of [aad.table, aad.rowId, aad.column]) {
    if (!part || part.includes('\0'))
      throw new AppError('INTERNAL', 'sealed field: table, rowId and column are required');
  }
  // Length-free separation is safe here: no part may contain NUL, so the encoding is injective.
  return Buffer.from(`sparsam.field\0${version}\0${aad.table}\0${aad.rowId}\0${aad.column}\0${key.id}`, 'utf8');
}

/**
 * Encrypts one value with AES-256-GCM under a data key, with a fresh random 96-bit nonce. The associated data binds
 * the result to its table, row id, column and the data key's id, so a ciphertext copied to another row or column
 * fails to open.
 */
export function sealField(key: DataKey, plaintext: string | Uint8Array, aad: FieldAad): Uint8Array {
  const nonce = publicRandomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(FIELD_FORMAT_V1, key, aad));
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const body = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([Buffer.of(FIELD_FORMAT_V1), nonce, body, cipher.getAuthTag()]);
}

/** Decrypts a value made by {@link sealField}; throws {@link SealedFieldError} when key, place or bytes differ. */
export function openField(key: DataKey, sealed: Uint8Array, aad: FieldAad): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES) throw new SealedFieldError('too short');
  const version = bytes[0]!;
  if (version !== FIELD_FORMAT_V1) throw new SealedFieldError(`unknown format version ${version}`);
  const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const body = bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(version, key, aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new SealedFieldError('authentication failed (wrong key, wrong row or altered bytes)');
  }
}

/** {@link openField} as UTF-8 text. */
export function openFieldText(key: DataKey, sealed: Uint8Array, aad: FieldAad): string {
  return openField(key, sealed, aad).toString('utf8');
}
