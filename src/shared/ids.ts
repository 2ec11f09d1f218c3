import { randomBytes, randomUUID } from 'node:crypto';
import { publicRandomBytes } from './public-random.ts';

/** Opaque row ids. UUIDv4 strings: they carry no time or content, so leaking one tells nothing about a person. */
export function newId(): string {
  return randomUUID();
}

let lastMessageMs = 0;

/**
 * Ids of message rows: UUIDv7 strings (RFC 9562: 48 bits of Unix milliseconds, then 74 random bits), so that the
 * messages written one after another sit next to each other in the primary-key index. Erasing a conversation then
 * rewrites a few hundred index pages instead of one page per message (bench/privacy-erasure.ts). Still opaque to
 * every reader (nothing parses them); the only thing one tells is its creation time, which the row's `created_at`
 * beside it tells anyway, and it holds no content. Within one millisecond the order is random; callers that need an
 * order sort by `created_at` first.
 */
export function newMessageId(): string {
  const ms = Math.max(Date.now(), lastMessageMs);
  lastMessageMs = ms;
  const b = publicRandomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A url-safe random token of `bytes` bytes of entropy (sessions, API tokens, CSRF, webhook secrets). */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Ids of rows written in bulk that hold no personal data (jobs, report facts): time-ordered like message ids, so that
 * a group commit appends its rows to one page of the primary-key index instead of touching a random page per row.
 */
export const newTimeOrderedId = newMessageId;
