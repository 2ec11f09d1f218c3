import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * Random bytes for values that are public once used (nonces, row ids), drawn from a pool that the system's CSPRNG
 * fills 4 KiB at a time: one call into OpenSSL per few hundred values instead of one per value (Node's randomUUID
 * caches the same way). Each byte is handed out once. Never for keys, tokens or secrets: those take `randomBytes` of
 * their own, so that no secret lingers in a shared buffer.
 */
export function publicRandomBytes(bytes: number): Buffer {
  if (bytes > 256) return randomBytes(bytes);
  if (used + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    used = 0;
  }
  const out = pool.subarray(used, used + bytes);
  used += bytes;
  return out;
}
