import { randomBytes, randomUUID } from 'node:crypto';

/** Opaque row ids. UUIDv4 strings: they carry no time or content, so leaking one tells nothing about a person. */
export function newId(): string {
  return randomUUID();
}

/** A url-safe random token of `bytes` bytes of entropy (sessions, API tokens, CSRF, webhook secrets). */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
