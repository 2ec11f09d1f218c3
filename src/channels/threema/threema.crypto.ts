import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type naclType from 'tweetnacl';

/**
 * Threema's end-to-end message format as the Gateway SDKs build it (threema-msgapi-sdk-python `threema/gateway/e2e.py`,
 * threema-gateway-rs `src/crypto.rs`): one type byte, the type's payload, then 1-255 bytes of PKCS#7-style padding
 * (each padding byte holds the padding's length), encrypted with NaCl `crypto_box` (Curve25519, XSalsa20-Poly1305)
 * under a random 24-byte nonce. tweetnacl is the audited, dependency-free NaCl port; Node's crypto has no crypto_box.
 */

export const THREEMA_TYPE_TEXT = 0x01;
export const THREEMA_TYPE_FILE = 0x17;
export const THREEMA_TYPE_DELIVERY_RECEIPT = 0x80;

/** tweetnacl is loaded with the first Threema message or key, so that installations without Threema never load it. */
const require = createRequire(import.meta.url);
let naclModule: typeof naclType | undefined;
function nacl(): typeof naclType {
  return (naclModule ??= require('tweetnacl') as typeof naclType);
}

/** NaCl's crypto_box nonce and key sizes (nacl.box.nonceLength, nacl.box.secretKeyLength). */
export const NONCE_BYTES = 24;
export const KEY_BYTES = 32;
/** Padded plaintexts are at least this long, so that a short text does not reveal its length. */
export const MIN_PADDED_BYTES = 32;

/** The nonces of the blobs of a file message: fixed, since every blob has a fresh random key. */
export const FILE_BLOB_NONCE = Uint8Array.from([...new Array<number>(23).fill(0), 1]);
export const THUMBNAIL_BLOB_NONCE = Uint8Array.from([...new Array<number>(23).fill(0), 2]);

/** The public key that belongs to a private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return nacl().box.keyPair.fromSecretKey(privateKey).publicKey;
}

/** A fresh key pair (tests and the simulator play the customer's app with it). */
export function newKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  return nacl().box.keyPair();
}

/**
 * Adds random padding: 1-255 bytes, at least enough for {@link MIN_PADDED_BYTES}. Every padding byte holds its count.
 */
export function pad(data: Uint8Array): Uint8Array {
  let amount = randomInt(1, 256);
  if (data.length + amount < MIN_PADDED_BYTES) amount = MIN_PADDED_BYTES - data.length;
  const out = new Uint8Array(data.length + amount);
  out.set(data, 0);
  out.fill(amount, data.length);
  return out;
}

/** Removes the padding; undefined when it is not well-formed (empty, longer than the data, or bytes that differ). */
export function unpad(data: Uint8Array): Uint8Array | undefined {
  if (data.length === 0) return undefined;
  const amount = data[data.length - 1]!;
  if (amount === 0 || amount >= data.length) return undefined;
  for (let i = data.length - amount; i < data.length; i++) if (data[i] !== amount) return undefined;
  return data.subarray(0, data.length - amount);
}

/** Encrypts one message (type byte + payload, padded) to `recipientPublic`; a new random nonce each time. */
export function sealMessage(
  type: number,
  payload: Uint8Array,
  recipientPublic: Uint8Array,
  senderSecret: Uint8Array,
): { nonce: Uint8Array; box: Uint8Array } {
  const plain = new Uint8Array(payload.length + 1);
  plain[0] = type;
  plain.set(payload, 1);
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  return { nonce, box: nacl().box(pad(plain), nonce, recipientPublic, senderSecret) };
}

/**
 * Opens one message from `senderPublic`: undefined when the box does not open with these keys or its padding or
 * type byte are missing.
 */
export function openMessage(
  box: Uint8Array,
  nonce: Uint8Array,
  senderPublic: Uint8Array,
  recipientSecret: Uint8Array,
): { type: number; payload: Uint8Array } | undefined {
  if (nonce.length !== NONCE_BYTES || senderPublic.length !== KEY_BYTES) return undefined;
  const plain = nacl().box.open(box, nonce, senderPublic, recipientSecret);
  if (!plain) return undefined;
  const data = unpad(plain);
  if (!data || data.length < 1) return undefined;
  return { type: data[0]!, payload: data.subarray(1) };
}

/** Encrypts a blob (file or thumbnail) with its own key (NaCl secretbox). */
export function sealBlob(data: Uint8Array, key: Uint8Array, nonce = FILE_BLOB_NONCE): Uint8Array {
  return nacl().secretbox(data, nonce, key);
}

/** Decrypts a blob; undefined when it does not open with this key. */
export function openBlob(data: Uint8Array, key: Uint8Array, nonce = FILE_BLOB_NONCE): Uint8Array | undefined {
  if (key.length !== nacl().secretbox.keyLength) return undefined;
  return nacl().secretbox.open(data, nonce, key) ?? undefined;
}

/** A random key for one blob. */
export function newBlobKey(): Uint8Array {
  return new Uint8Array(randomBytes(nacl().secretbox.keyLength));
}
