import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import { newId } from '../../../shared/ids.ts';
import { LocalCacheSignals, type CacheSignals } from '../../../shared/cache-signals.ts';
import type { DataKeyRecord } from '../../ports/model.ts';
import type { KeyPort } from '../../ports/key.port.ts';
import type { DataKey } from './data-key.ts';

export type { DataKey } from './data-key.ts';

const WRAP_VERSION = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
/** Unwrapped keys kept in memory at most; the oldest are dropped first (they are re-read on demand). */
const CACHE_LIMIT = 10_000;
/**
 * How long an unwrapped key is served from memory before the key store is asked again. The cache signals drop a
 * destroyed key at once on every instance; this bound is the second line of defence should one ever be missed.
 */
export const KEY_CACHE_TTL_MS = 5 * 60_000;

export interface KeyServiceOptions {
  /** Destruction of keys announced to (and by) the other instances; in-process only when omitted. */
  signals?: CacheSignals;
  cacheTtlMs?: number;
}

/** keystore_meta keys. */
export const META_CHECK = 'master_check';
export const META_ROOT = 'root_secret';
export const META_KEK_ID = 'kek_id';

function hkdf(ikm: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}

/** The master key's key-check value: an HMAC under an HKDF sub-key, safe to store (reveals nothing of the key). */
export function masterCheckValue(master: Buffer): string {
  return createHmac('sha256', hkdf(master, 'sparsam/key-check/v1')).update('sparsam master key check').digest('hex');
}

function kekIdOf(master: Buffer): string {
  return masterCheckValue(master).slice(0, 16);
}

function wrapAad(purpose: string, ownerType: string, ownerId: string): Buffer {
  return Buffer.from(`sparsam.wrap\0${WRAP_VERSION}\0${purpose}\0${ownerType}\0${ownerId}`, 'utf8');
}

function wrap(kek: Buffer, secret: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([Buffer.of(WRAP_VERSION), nonce, body, cipher.getAuthTag()]);
}

function unwrap(kek: Buffer, wrapped: Uint8Array, aad: Buffer): Buffer {
  const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (bytes.length !== 1 + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES || bytes[0] !== WRAP_VERSION) {
    throw new AppError('INTERNAL', 'a wrapped key in the key store has an unknown format');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(1, 1 + NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new AppError('INTERNAL', 'a wrapped key in the key store cannot be unwrapped (wrong master key or altered)');
  }
}

function wrongMasterKey(): AppError {
  return new AppError(
    'CONFIG',
    'the master key does not match the key store (its key-check value differs): start sparsam with the master key ' +
      'this data was created with (SPARSAM_MASTER_KEY or <dataDir>/master.key; after an interrupted ' +
      '`sparsam keys rotate`, try <dataDir>/master.key.new)',
  );
}

/**
 * Envelope encryption and crypto-shredding. Every conversation and contact has its own random 32-byte data key,
 * wrapped with AES-256-GCM under a key-encryption key derived (HKDF-SHA256) from the master key and stored only in
 * the separate key store. Destroying the wrapped key makes every ciphertext of its owner unreadable for good, in the
 * live database and in every backup of it.
 *
 * The pepper (pseudonym lookups) and the audit MAC key are HKDF sub-keys of a random root secret that is itself
 * wrapped under the master key in the key store: rotating the master key re-wraps the root secret and the data keys
 * but keeps the pepper and the audit MAC key, so that pseudonyms and the audit chain survive a rotation.
 *
 * {@link init} checks the master key against the key store's key-check value and refuses a wrong key with a clear
 * error; every other method calls it on first use.
 *
 * Unwrapped keys are cached in memory for {@link KEY_CACHE_TTL_MS} at most. With several instances on one database,
 * {@link destroy} publishes a 'keys.destroyed' cache signal so that every instance forgets the key at once; while
 * the signals may be missed (the listening connection is down) the cache is bypassed, and a reconnect empties it.
 */
export class KeyService {
  #master: Buffer;
  #kek: Buffer;
  #kekId: string;
  #pepper: Buffer | undefined;
  #auditMacKey: Buffer | undefined;
  #ready: Promise<void> | undefined;
  readonly #cache = new Map<string, { key: DataKey; at: number }>();
  readonly #pending = new Map<string, Promise<DataKey>>();
  readonly #signals: CacheSignals;
  readonly #ttlMs: number;
  /** Bumped whenever cached keys are dropped: a key read before that must not be cached after it. */
  #generation = 0;

  constructor(
    private readonly port: KeyPort,
    master: Buffer,
    private readonly clock: Clock,
    options: KeyServiceOptions = {},
  ) {
    if (master.length !== DATA_KEY_BYTES) throw new AppError('CONFIG', 'the master key must be 32 bytes');
    this.#master = Buffer.from(master);
    this.#kek = hkdf(this.#master, 'sparsam/kek/v1');
    this.#kekId = kekIdOf(this.#master);
    this.#signals = options.signals ?? new LocalCacheSignals();
    this.#ttlMs = options.cacheTtlMs ?? KEY_CACHE_TTL_MS;
    this.#signals.subscribe((signal) => {
      if (signal.type !== 'keys.destroyed') return;
      this.#generation++;
      for (const id of signal.ownerIds) this.#cache.delete(`${signal.ownerType}:${id}`);
    });
    this.#signals.onResync(() => this.forgetCache());
  }

  /** Secret for pseudonym lookups (HMAC-SHA256). Available after {@link init}. */
  get pepper(): Buffer {
    if (!this.#pepper) throw new AppError('INTERNAL', 'KeyService.init() must be awaited before the pepper is used');
    return this.#pepper;
  }

  /** Key of the audit log's HMAC. Available after {@link init}. */
  get auditMacKey(): Buffer {
    if (!this.#auditMacKey) {
      throw new AppError('INTERNAL', 'KeyService.init() must be awaited before the audit MAC key is used');
    }
    return this.#auditMacKey;
  }

  /** Id of the current master key (a prefix of its key-check value), stored beside each wrapped key. */
  get kekId(): string {
    return this.#kekId;
  }

  /**
   * Checks the master key against the key store (first start: records its key-check value and creates the root
   * secret) and derives the pepper and the audit MAC key. Idempotent; concurrent callers share one run.
   */
  init(): Promise<void> {
    this.#ready ??= this.#init().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    let check = await this.port.getMeta(META_CHECK);
    if (check === undefined) {
      if ((await this.port.countDataKeys()) > 0) {
        throw new AppError('CONFIG', 'the key store holds data keys but no key-check value: it is damaged');
      }
      const root = randomBytes(32);
      await this.port.initMeta({
        [META_CHECK]: masterCheckValue(this.#master),
        [META_ROOT]: wrap(this.#kek, root, wrapAad('root', 'system', 'root')).toString('base64'),
        [META_KEK_ID]: this.#kekId,
      });
      check = await this.port.getMeta(META_CHECK);
    }
    const expected = Buffer.from(masterCheckValue(this.#master), 'hex');
    const stored = Buffer.from(check ?? '', 'hex');
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) throw wrongMasterKey();
    const rootWrapped = await this.port.getMeta(META_ROOT);
    if (!rootWrapped) throw new AppError('CONFIG', 'the key store has no root secret: it is damaged');
    const root = unwrap(this.#kek, Buffer.from(rootWrapped, 'base64'), wrapAad('root', 'system', 'root'));
    this.#pepper = hkdf(root, 'sparsam/pepper/v1');
    this.#auditMacKey = hkdf(root, 'sparsam/audit-mac/v1');
  }

  /**
   * The data key of a conversation or contact, created (random 32 bytes, wrapped, stored) on first use and cached
   * unwrapped in memory. Two callers (or two instances) asking at once for a new owner get the same key.
   */
  async dataKeyFor(ownerType: 'conversation' | 'contact', ownerId: string): Promise<DataKey> {
    if (!ownerId) throw new AppError('INTERNAL', 'dataKeyFor: owner id is required');
    const cacheKey = `${ownerType}:${ownerId}`;
    const cached = this.#cached(cacheKey);
    if (cached) return cached;
    let pending = this.#pending.get(cacheKey);
    if (!pending) {
      pending = this.#load(ownerType, ownerId).finally(() => this.#pending.delete(cacheKey));
      this.#pending.set(cacheKey, pending);
    }
    return pending;
  }

  /** The existing data key of an owner, or undefined when it has none (never created, or destroyed). */
  async existingDataKey(ownerType: 'conversation' | 'contact', ownerId: string): Promise<DataKey | undefined> {
    const cached = this.#cached(`${ownerType}:${ownerId}`);
    if (cached) return cached;
    await this.init();
    const generation = this.#generation;
    const row = await this.port.findDataKey(ownerType, ownerId);
    return row ? this.#remember(this.#unwrapRow(row), generation) : undefined;
  }

  /** A cached key still within its time to live, while no cache signal can have been missed. */
  #cached(cacheKey: string): DataKey | undefined {
    const hit = this.#cache.get(cacheKey);
    if (!hit) return undefined;
    const age = this.clock.now().getTime() - hit.at;
    if (this.#signals.live && age >= 0 && age < this.#ttlMs) return hit.key;
    this.#cache.delete(cacheKey);
    return undefined;
  }

  async #load(ownerType: 'conversation' | 'contact', ownerId: string): Promise<DataKey> {
    await this.init();
    const generation = this.#generation;
    let row = await this.port.findDataKey(ownerType, ownerId);
    if (!row) {
      const id = newId();
      const secret = randomBytes(DATA_KEY_BYTES);
      const candidate: DataKeyRecord = {
        id,
        owner_type: ownerType,
        owner_id: ownerId,
        wrapped: wrap(this.#kek, secret, wrapAad(id, ownerType, ownerId)),
        kek_id: this.#kekId,
        created_at: this.clock.now().getTime(),
      };
      await this.port.insertDataKeyIfAbsent(candidate);
      row = await this.port.findDataKey(ownerType, ownerId);
      if (!row) throw new AppError('INTERNAL', 'a new data key was not stored');
    }
    return this.#remember(this.#unwrapRow(row), generation);
  }

  #unwrapRow(row: DataKeyRecord): DataKey {
    const key = unwrap(this.#kek, row.wrapped, wrapAad(row.id, row.owner_type, row.owner_id));
    return { id: row.id, ownerType: row.owner_type, ownerId: row.owner_id, key };
  }

  /** Caches a key read from the key store, unless keys were dropped since the read began (it may be destroyed). */
  #remember(key: DataKey, generation: number): DataKey {
    if (generation !== this.#generation || !this.#signals.live) return key;
    const cacheKey = `${key.ownerType}:${key.ownerId}`;
    this.#cache.delete(cacheKey);
    this.#cache.set(cacheKey, { key, at: this.clock.now().getTime() });
    if (this.#cache.size > CACHE_LIMIT) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return key;
  }

  /**
   * Crypto-shredding: deletes the owner's wrapped data key from the key store and drops it from the cache of this
   * and (through the cache signals) every other instance. Every ciphertext sealed with it is unreadable afterwards.
   * Returns the number of keys destroyed (0 when none existed; the signal goes out all the same, so that a repeated
   * erasure after a crash between the two steps still reaches the other instances).
   */
  async destroy(ownerType: 'conversation' | 'contact', ownerId: string): Promise<number> {
    const cacheKey = `${ownerType}:${ownerId}`;
    this.#cache.delete(cacheKey);
    await this.#pending.get(cacheKey)?.catch(() => undefined);
    this.#cache.delete(cacheKey);
    const destroyed = await this.port.deleteDataKeys(ownerType, ownerId);
    await this.#signals.publish({ type: 'keys.destroyed', ownerType, ownerIds: [ownerId] });
    return destroyed;
  }

  /** {@link destroy} for several owners of one type at once (one key-store statement); returns keys destroyed. */
  async destroyMany(ownerType: 'conversation' | 'contact', ownerIds: readonly string[]): Promise<number> {
    for (const id of ownerIds) {
      const cacheKey = `${ownerType}:${id}`;
      this.#cache.delete(cacheKey);
      await this.#pending.get(cacheKey)?.catch(() => undefined);
      this.#cache.delete(cacheKey);
    }
    const destroyed = await this.port.deleteDataKeysMany(ownerType, ownerIds);
    if (ownerIds.length > 0)
      await this.#signals.publish({ type: 'keys.destroyed', ownerType, ownerIds: [...ownerIds] });
    return destroyed;
  }

  /** Drops every unwrapped key from memory (they are re-read from the key store on demand). */
  forgetCache(): void {
    this.#generation++;
    this.#cache.clear();
  }

  /**
   * Master key rotation: re-wraps the root secret and every data key under `next` in one key-store transaction and
   * records the new key-check value. Content is not touched. From then on this service uses `next`; the old master
   * key is refused.
   */
  async rotateMaster(next: Buffer): Promise<{ rewrapped: number }> {
    if (next.length !== DATA_KEY_BYTES) throw new AppError('VALIDATION', 'the new master key must be 32 bytes');
    await this.init();
    if (timingSafeEqual(next, this.#master)) {
      throw new AppError('VALIDATION', 'the new master key is the same as the current one');
    }
    const nextKek = hkdf(next, 'sparsam/kek/v1');
    const nextKekId = kekIdOf(next);
    const rootWrapped = await this.port.getMeta(META_ROOT);
    const root = unwrap(this.#kek, Buffer.from(rootWrapped ?? '', 'base64'), wrapAad('root', 'system', 'root'));
    const rewrapped = await this.port.rewrapAll(
      (row) => {
        const aad = wrapAad(row.id, row.owner_type, row.owner_id);
        return { wrapped: wrap(nextKek, unwrap(this.#kek, row.wrapped, aad), aad), kekId: nextKekId };
      },
      {
        [META_CHECK]: masterCheckValue(next),
        [META_ROOT]: wrap(nextKek, root, wrapAad('root', 'system', 'root')).toString('base64'),
        [META_KEK_ID]: nextKekId,
      },
    );
    this.#master = Buffer.from(next);
    this.#kek = nextKek;
    this.#kekId = nextKekId;
    return { rewrapped };
  }
}
