import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import { newId } from '../../../shared/ids.ts';
import { publicRandomBytes } from '../../../shared/public-random.ts';
import { LocalCacheSignals, type CacheSignals } from '../../../shared/cache-signals.ts';
import type { DataKeyRecord } from '../../ports/model.ts';
import type { KeyPort } from '../../ports/key.port.ts';
import type { DataKey } from './data-key.ts';
import type { EpochSecret, EpochSecretStore, EpochSecretsState } from './epoch-secrets.ts';

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

export interface NewOwnerOption {
  /**
   * The owner was created just now under a new random id that nobody else knows: it has no key yet, so the key store
   * is not asked for one before the new key is stored (should one exist after all, the stored one is used).
   */
  fresh?: boolean;
}

export interface KeyServiceOptions {
  /** Destruction of keys announced to (and by) the other instances; in-process only when omitted. */
  signals?: CacheSignals;
  cacheTtlMs?: number;
  /**
   * Key epochs: where the epoch secrets live (the epoch file). With it, data keys are wrapped under the current
   * epoch's key and contact lookup hashes use the epoch's pepper; both move to a new epoch each epoch and the old
   * epoch's secret is destroyed. Without it (tests of other parts), data keys are wrapped under the master key.
   */
  epochs?: EpochSecretStore;
}

/** keystore_meta keys. */
export const META_CHECK = 'master_check';
export const META_ROOT = 'root_secret';
export const META_KEK_ID = 'kek_id';
/** The current key epoch (a number); changes only by compare-and-set. */
export const META_EPOCH = 'epoch';
/** When the current epoch began (epoch millis). */
export const META_EPOCH_STARTED = 'epoch_started_at';
/** Key-check value of the current epoch's secret (an HMAC; reveals nothing of it). */
export const META_EPOCH_CHECK = 'epoch_check';
/** The highest epoch whose secret is destroyed. */
export const META_EPOCH_RETIRED = 'epoch_retired';
/** "1" once no data key is wrapped under the master key and no lookup hash uses the root pepper any more. */
export const META_LEGACY_RETIRED = 'legacy_retired';
/** The newest epoch's secret wrapped under the previous epoch's key: lets an instance one epoch behind catch up. */
export const META_EPOCH_LINK = 'epoch_link';

const EPOCH_KEK_PREFIX = 'epoch:';

/** The keys derived from one epoch's secret. */
interface EpochKeys {
  epoch: number;
  secret: Buffer;
  kek: Buffer;
  pepper: Buffer;
  check: string;
}

function deriveEpoch(s: EpochSecret): EpochKeys {
  return {
    epoch: s.epoch,
    secret: Buffer.from(s.secret),
    kek: hkdf(s.secret, `sparsam/epoch-kek/v1/${s.epoch}`),
    pepper: hkdf(s.secret, `sparsam/contact-pepper/v1/${s.epoch}`),
    check: createHmac('sha256', hkdf(s.secret, 'sparsam/epoch-check/v1'))
      .update(`sparsam epoch ${s.epoch}`)
      .digest('hex'),
  };
}

/** The kek_id of a data key wrapped under an epoch's key. */
export function epochKekId(epoch: number): string {
  return `${EPOCH_KEK_PREFIX}${epoch}`;
}

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
  const nonce = publicRandomBytes(NONCE_BYTES);
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
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    // A buffer of its own: the result of concat is a slice of Node's shared 8 KiB pool, and a cached key would keep
    // its whole slab alive (about 0.6 KiB per cached key, measured) and leave a copy of the key in a shared buffer.
    const own = Buffer.allocUnsafeSlow(plain.length);
    plain.copy(own);
    plain.fill(0);
    return own;
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
  readonly #epochStore: EpochSecretStore | undefined;
  /** The epochs whose secrets this instance holds (the current one, and the previous one during a transition). */
  readonly #epochs = new Map<number, EpochKeys>();
  #epoch: number | undefined;
  #legacyLive = true;
  #epochSync: Promise<void> | undefined;
  /** The run of {@link syncEpoch} after the one under way, for callers that came during it. */
  #epochSyncAgain: Promise<void> | undefined;

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
    this.#epochStore = options.epochs;
    this.#signals.subscribe((signal) => {
      if (signal.type === 'keys.epoch') {
        if (this.#ready) void this.syncEpoch().catch(() => undefined);
        return;
      }
      if (signal.type !== 'keys.destroyed') return;
      this.#generation++;
      for (const id of signal.ownerIds) this.#cache.delete(`${signal.ownerType}:${id}`);
    });
    this.#signals.onResync(() => {
      this.forgetCache();
      // A missed 'keys.epoch' signal: follow the key store's epoch again.
      if (this.#ready && this.#epochStore) void this.syncEpoch().catch(() => undefined);
    });
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

  /**
   * Metadata of the audit chain kept in the key store, outside the main database (the audit witness: a MAC'd copy of
   * the chain head, and the record of a detected rollback), so that restoring an older main database or deleting its
   * newest audit entries is found by the audit log's verify. Only keys starting with `audit.` are allowed.
   */
  readAuditMeta(key: `audit.${string}`): Promise<string | undefined> {
    return this.port.getMeta(key);
  }

  /** Upserts audit metadata (see {@link readAuditMeta}). */
  writeAuditMeta(values: Record<`audit.${string}`, string>): Promise<void> {
    return this.port.setMeta(values);
  }

  /** Writes audit metadata unless its first key exists (see {@link readAuditMeta}); true when written. */
  initAuditMeta(values: Record<`audit.${string}`, string>): Promise<boolean> {
    return this.port.initMeta(values);
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
    if (this.#epochStore) await this.#loadEpochs(this.#epochStore);
  }

  /** True when data keys are wrapped under key epochs (an epoch store was given). */
  get epochsEnabled(): boolean {
    return this.#epochStore !== undefined;
  }

  /** The current key epoch, or undefined without epochs. Available after {@link init}. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /**
   * The peppers of contact lookup hashes, the current one first. During an epoch transition the previous epoch's
   * pepper (or, before the first transition of a store created without epochs, the root pepper) follows it, so that
   * contacts not yet re-peppered are still found. Available after {@link init}.
   */
  get contactPeppers(): Buffer[] {
    if (!this.#epochStore) return [this.pepper];
    const current = this.#epochs.get(this.#epoch ?? -1);
    if (!current) throw new AppError('INTERNAL', 'KeyService.init() must be awaited before the peppers are used');
    const others = [...this.#epochs.values()]
      .filter((e) => e.epoch !== current.epoch && e.epoch < current.epoch)
      .sort((a, b) => b.epoch - a.epoch)
      .map((e) => e.pepper);
    return [current.pepper, ...others, ...(this.#legacyLive ? [this.pepper] : [])];
  }

  /** True when this instance still holds the secret of key epoch `epoch` (it is current or not yet retired). */
  holdsEpoch(epoch: number): boolean {
    return this.#epochs.has(epoch);
  }

  /** True while an epoch transition is unfinished: an older epoch (or the master-key wrapping) is still live. */
  get inTransition(): boolean {
    if (!this.#epochStore) return false;
    return this.#legacyLive || [...this.#epochs.keys()].some((n) => n < (this.#epoch ?? 0));
  }

  /** When the current epoch began (epoch millis), as recorded in the key store. */
  async epochStartedAt(): Promise<number | undefined> {
    const value = await this.port.getMeta(META_EPOCH_STARTED);
    return value === undefined ? undefined : Number(value);
  }

  async #loadEpochs(store: EpochSecretStore): Promise<void> {
    const file = store.read();
    let meta = await this.port.getMeta(META_EPOCH);
    if (meta === undefined) {
      // First start with key epochs: epoch 1 begins. Data keys wrapped under the master key (a store created
      // before key epochs) are re-wrapped by the first transition, which {@link KeyEpochService.resume} runs.
      const first: EpochSecret = file?.current ?? { epoch: 1, secret: randomBytes(32) };
      const keys = deriveEpoch(first);
      const noKeys = (await this.port.countDataKeys()) === 0;
      const recorded = await this.port.initMeta({
        [META_EPOCH]: String(first.epoch),
        [META_EPOCH_CHECK]: keys.check,
        [META_EPOCH_STARTED]: String(this.clock.now().getTime()),
        [META_EPOCH_RETIRED]: String(first.epoch - 1),
        // A new store has nothing wrapped under the master key and no root-peppered contacts to move.
        ...(noKeys ? { [META_LEGACY_RETIRED]: '1' } : {}),
      });
      // Only the instance that recorded the first epoch writes its secret: instances that share one epoch key file
      // (several on one PostgreSQL) and start at the same instant must not overwrite it with a secret that lost.
      if (recorded && !file) store.write({ current: first, kekId: this.#kekId });
      else if (!recorded) await this.#awaitEpochFile(store);
      meta = await this.port.getMeta(META_EPOCH);
    } else if (!file) {
      // The key store has its first epoch but the shared file is not there yet: an instance that started a moment
      // later than the one recording the epoch finds the record before the file. Wait for the file as above.
      await this.#awaitEpochFile(store);
    }
    await this.#reconcileEpochs(store, Number(meta));
  }

  /** Waits (up to 15 s) for the instance that recorded the first epoch to write its secret to the shared file. */
  async #awaitEpochFile(store: EpochSecretStore): Promise<void> {
    const check = await this.port.getMeta(META_EPOCH_CHECK);
    for (let attempt = 0; attempt < 150; attempt++) {
      let current: EpochSecret | undefined;
      try {
        current = store.read()?.current;
      } catch {
        current = undefined; // being replaced right now
      }
      if (current && deriveEpoch(current).check === check) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Not written (a separate file per instance): reconciling says what to do.
  }

  /** Brings this instance's epochs in line with the key store's current epoch (following the link if behind). */
  async #reconcileEpochs(store: EpochSecretStore, current: number): Promise<void> {
    const file = store.read();
    const held = new Map<number, EpochKeys>();
    for (const e of [file?.current, file?.previous]) if (e) held.set(e.epoch, deriveEpoch(e));
    for (const [n, e] of this.#epochs) if (!held.has(n)) held.set(n, e);
    if (!held.has(current)) {
      const link = await this.port.getMeta(META_EPOCH_LINK);
      const parsed = link ? (JSON.parse(link) as { epoch: number; wrapped: string }) : undefined;
      const before = parsed ? held.get(parsed.epoch - 1) : undefined;
      if (!parsed || parsed.epoch !== current || !before) {
        const newest = Math.max(...held.keys(), -1);
        throw new AppError(
          'CONFIG',
          newest > current
            ? `the key store is older than the epoch key file ${store.where} (epoch ${current} < ${newest}): ` +
                'a key store restored from a backup older than one key epoch cannot be opened'
            : `the epoch key file ${store.where} holds no secret of the key store's epoch ${current}: ` +
                'copy the epoch key file from a running instance (it is more than one epoch behind)',
        );
      }
      const secret = unwrap(
        before.kek,
        Buffer.from(parsed.wrapped, 'base64'),
        wrapAad('epoch-link', 'system', String(current)),
      );
      held.set(current, deriveEpoch({ epoch: current, secret }));
    }
    const check = await this.port.getMeta(META_EPOCH_CHECK);
    const expected = Buffer.from(held.get(current)!.check, 'hex');
    const stored = Buffer.from(check ?? '', 'hex');
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
      throw new AppError(
        'CONFIG',
        `the epoch key file ${store.where} does not belong to this key store (its epoch check value differs)`,
      );
    }
    const retired = Number((await this.port.getMeta(META_EPOCH_RETIRED)) ?? '0');
    this.#legacyLive = (await this.port.getMeta(META_LEGACY_RETIRED)) !== '1';
    this.#epochs.clear();
    for (const [n, e] of held) if (n > retired && n <= current) this.#epochs.set(n, e);
    this.#epoch = current;
    // The file is updated only when it is behind (an instance with its own file following the shared key store).
    const retiredInFile = file?.previous !== undefined && file.previous.epoch <= retired;
    if (!file || file.current.epoch < current || retiredInFile) {
      const previous = this.#epochs.get(current - 1);
      await this.#writeEpochFile(store, {
        current: { epoch: current, secret: this.#epochs.get(current)!.secret },
        ...(previous ? { previous: { epoch: previous.epoch, secret: previous.secret } } : {}),
        kekId: this.#kekId,
      });
    }
  }

  /**
   * Reads the key store's epoch again and follows it: a new epoch begun by another instance (or `sparsam keys
   * rotate`), or an epoch retired. A call while a run is under way gets one more run after it, shared by every
   * caller meanwhile: the run under way may have read the key store before the change the caller was told of (the
   * signal that an epoch was retired, arriving while this instance still follows the signal that it began).
   */
  syncEpoch(): Promise<void> {
    const store = this.#epochStore;
    if (!store) return Promise.resolve();
    const running = this.#epochSync;
    if (running) {
      this.#epochSyncAgain ??= running
        .catch(() => undefined)
        .then(() => {
          this.#epochSyncAgain = undefined;
          return this.syncEpoch();
        });
      return this.#epochSyncAgain;
    }
    this.#epochSync = (async () => {
      await this.init();
      const meta = await this.port.getMeta(META_EPOCH);
      await this.#reconcileEpochs(store, Number(meta));
    })().finally(() => {
      this.#epochSync = undefined;
    });
    return this.#epochSync;
  }

  /**
   * Begins the next key epoch: a new random epoch secret, recorded in the key store by compare-and-set (so that two
   * instances never begin two epochs at once) together with a link (the new secret wrapped under the current
   * epoch's key), then written to the epoch file beside the current one. Every instance moves to it on the
   * 'keys.epoch' signal or at its next key-store read. New data keys are wrapped under it from now on; existing ones
   * are moved by {@link rewrapStale}. Returns the epoch now current (another instance's when it won the race).
   */
  async beginEpoch(): Promise<number> {
    const store = this.#requireEpochs();
    await this.syncEpoch();
    const current = this.#epochs.get(this.#epoch!)!;
    const next = deriveEpoch({ epoch: current.epoch + 1, secret: randomBytes(32) });
    const link = wrap(current.kek, next.secret, wrapAad('epoch-link', 'system', String(next.epoch)));
    const won = await this.port.compareAndSetMeta(META_EPOCH, String(current.epoch), String(next.epoch), {
      [META_EPOCH_CHECK]: next.check,
      [META_EPOCH_STARTED]: String(this.clock.now().getTime()),
      [META_EPOCH_LINK]: JSON.stringify({ epoch: next.epoch, wrapped: link.toString('base64') }),
    });
    if (won) {
      this.#epochs.set(next.epoch, next);
      this.#epoch = next.epoch;
      await this.#writeEpochFile(store, {
        current: { epoch: next.epoch, secret: next.secret },
        previous: { epoch: current.epoch, secret: current.secret },
        kekId: this.#kekId,
      });
    } else {
      await this.syncEpoch();
    }
    await this.#signals.publish({ type: 'keys.epoch', epoch: this.#epoch! });
    return this.#epoch!;
  }

  /**
   * Re-wraps every data key not yet under the current epoch's key (page by page, each key on its own, so that the
   * key store stays available). Idempotent; returns the number of keys moved.
   */
  async rewrapStale(): Promise<number> {
    this.#requireEpochs();
    await this.syncEpoch();
    const epoch = this.#epochs.get(this.#epoch!)!;
    const target = epochKekId(epoch.epoch);
    let moved = 0;
    let after = '';
    for (;;) {
      const page = await this.port.listDataKeysNotUnder(target, after, 500);
      for (const row of page) {
        const aad = wrapAad(row.id, row.owner_type, row.owner_id);
        const secret = (await this.#unwrapRow(row)).key;
        if (await this.port.replaceWrapped(row.id, row.kek_id, wrap(epoch.kek, secret, aad), target)) moved++;
      }
      if (page.length < 500) break;
      after = page[page.length - 1]!.id;
    }
    return moved;
  }

  /**
   * Ends the transition: records that every epoch before the current one is retired (and, when `legacyDone`, that
   * nothing uses the master-key wrapping or the root pepper any more), drops their secrets from memory and rewrites
   * the epoch file with the current secret only. Call only after {@link rewrapStale} and re-peppering succeeded.
   */
  async retirePrevious(legacyDone: boolean): Promise<void> {
    const store = this.#requireEpochs();
    const current = this.#epoch!;
    await this.port.setMeta({
      [META_EPOCH_RETIRED]: String(current - 1),
      ...(legacyDone ? { [META_LEGACY_RETIRED]: '1' } : {}),
    });
    await this.syncEpoch();
    if (this.#epoch !== current) return;
    const keys = this.#epochs.get(current)!;
    await this.#writeEpochFile(store, { current: { epoch: current, secret: keys.secret }, kekId: this.#kekId });
    await this.#signals.publish({ type: 'keys.epoch', epoch: current });
  }

  /**
   * Tries to open a wrapped data key from any copy of a key store (the attack a backup allows) with the secrets this
   * instance holds today. Returns true when it opens. Used to prove that erasure reached old copies.
   */
  canOpenWrapped(row: DataKeyRecord): boolean {
    const aad = wrapAad(row.id, row.owner_type, row.owner_id);
    const keks = [...[...this.#epochs.values()].map((e) => e.kek), this.#kek];
    for (const kek of keks) {
      try {
        unwrap(kek, row.wrapped, aad);
        return true;
      } catch {
        // Not this one.
      }
    }
    return false;
  }

  /**
   * Writes the epoch file, sealed under this instance's master key, but only while the key store still has that
   * master key: after `sparsam keys rotate --master` by another process, a file sealed under the old key could not
   * be opened after a restart, so this instance refuses and asks for the restart instead.
   */
  async #writeEpochFile(store: EpochSecretStore, state: EpochSecretsState): Promise<void> {
    const check = await this.port.getMeta(META_CHECK);
    if (check !== masterCheckValue(this.#master)) {
      throw new AppError(
        'CONFIG',
        'the master key was rotated by another process: restart this instance with the new master key',
      );
    }
    store.write(state);
  }

  #requireEpochs(): EpochSecretStore {
    if (!this.#epochStore || this.#epoch === undefined) {
      throw new AppError('INTERNAL', 'key epochs are not enabled (no epoch store) or init() was not awaited');
    }
    return this.#epochStore;
  }

  /**
   * The data key of a conversation or contact, created (random 32 bytes, wrapped, stored) on first use and cached
   * unwrapped in memory. Two callers (or two instances) asking at once for a new owner get the same key.
   */
  async dataKeyFor(
    ownerType: 'conversation' | 'contact' | 'system',
    ownerId: string,
    options: NewOwnerOption = {},
  ): Promise<DataKey> {
    if (!ownerId) throw new AppError('INTERNAL', 'dataKeyFor: owner id is required');
    const cacheKey = `${ownerType}:${ownerId}`;
    const cached = this.#cached(cacheKey);
    if (cached) return cached;
    let pending = this.#pending.get(cacheKey);
    if (!pending) {
      pending = this.#load(ownerType, ownerId, options.fresh === true).finally(() => this.#pending.delete(cacheKey));
      this.#pending.set(cacheKey, pending);
    }
    return pending;
  }

  /**
   * {@link dataKeyFor} for many owners of one type (a broadcast batch's new conversations): the keys that exist are
   * read with one query and the missing ones are created in ONE key-store transaction, instead of one durable commit
   * each. The guarantees are those of {@link dataKeyFor}: a new key is stored only while the key store's epoch is
   * the one it is wrapped under (see {@link #createManyUnderEpoch}); a caller asking for one of these owners
   * meanwhile, here or on another instance, gets the same key; a key read before a cache signal dropped keys is
   * returned but not cached. Returns the keys by owner id.
   */
  async dataKeysFor(
    ownerType: 'conversation' | 'contact' | 'system',
    ownerIds: readonly string[],
  ): Promise<Map<string, DataKey>> {
    const keys = new Map<string, DataKey>();
    const waiting: Promise<unknown>[] = [];
    const wanted: string[] = [];
    for (const ownerId of new Set(ownerIds)) {
      if (!ownerId) throw new AppError('INTERNAL', 'dataKeysFor: owner ids are required');
      const cacheKey = `${ownerType}:${ownerId}`;
      const cached = this.#cached(cacheKey);
      if (cached) {
        keys.set(ownerId, cached);
        continue;
      }
      const pending = this.#pending.get(cacheKey);
      if (pending) waiting.push(pending.then((key) => keys.set(ownerId, key)));
      else wanted.push(ownerId);
    }
    if (wanted.length > 0) {
      const batch = this.#loadMany(ownerType, wanted);
      for (const ownerId of wanted) {
        const cacheKey = `${ownerType}:${ownerId}`;
        // Registered before the first await, so that a dataKeyFor of one of these owners joins this batch.
        const one = batch.then((loaded) => loaded.get(ownerId)!).finally(() => this.#pending.delete(cacheKey));
        this.#pending.set(cacheKey, one);
        waiting.push(one.then((key) => keys.set(ownerId, key)));
      }
    }
    await Promise.all(waiting);
    return keys;
  }

  /** The existing data key of an owner, or undefined when it has none (never created, or destroyed). */
  async existingDataKey(ownerType: 'conversation' | 'contact', ownerId: string): Promise<DataKey | undefined> {
    const cached = this.#cached(`${ownerType}:${ownerId}`);
    if (cached) return cached;
    await this.init();
    const generation = this.#generation;
    const row = await this.port.findDataKey(ownerType, ownerId);
    return row ? this.#remember(await this.#unwrapRow(row), generation) : undefined;
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

  async #load(ownerType: 'conversation' | 'contact' | 'system', ownerId: string, fresh: boolean): Promise<DataKey> {
    await this.init();
    const generation = this.#generation;
    let row = fresh ? undefined : await this.port.findDataKey(ownerType, ownerId);
    if (!row && this.#epochStore) row = await this.#createUnderEpoch(ownerType, ownerId);
    if (!row) {
      const candidate = this.#newRecord(ownerType, ownerId, this.#kek, this.#kekId);
      row = (await this.port.insertDataKeyIfAbsent(candidate))
        ? candidate
        : await this.port.findDataKey(ownerType, ownerId);
      if (!row) throw new AppError('INTERNAL', 'a new data key was not stored');
    }
    return this.#remember(await this.#unwrapRow(row), generation);
  }

  async #loadMany(
    ownerType: 'conversation' | 'contact' | 'system',
    ownerIds: readonly string[],
  ): Promise<Map<string, DataKey>> {
    await this.init();
    const generation = this.#generation;
    const rows = new Map((await this.port.findDataKeys(ownerType, ownerIds)).map((row) => [row.owner_id, row]));
    const missing = ownerIds.filter((id) => !rows.has(id));
    if (missing.length > 0) {
      const created = this.#epochStore
        ? await this.#createManyUnderEpoch(ownerType, missing)
        : await this.#createManyUnderMaster(ownerType, missing);
      for (const row of created) rows.set(row.owner_id, row);
    }
    const keys = new Map<string, DataKey>();
    for (const ownerId of ownerIds) {
      const row = rows.get(ownerId);
      if (!row) throw new AppError('INTERNAL', 'a new data key was not stored');
      keys.set(ownerId, this.#remember(await this.#unwrapRow(row), generation));
    }
    return keys;
  }

  /** A new random data key of an owner, wrapped under `kek` (not stored). */
  #newRecord(ownerType: DataKeyRecord['owner_type'], ownerId: string, kek: Buffer, kekId: string): DataKeyRecord {
    const id = newId();
    return {
      id,
      owner_type: ownerType,
      owner_id: ownerId,
      wrapped: wrap(kek, randomBytes(DATA_KEY_BYTES), wrapAad(id, ownerType, ownerId)),
      kek_id: kekId,
      created_at: this.clock.now().getTime(),
    };
  }

  /** New data keys under the master key (no key epochs), in one transaction; another caller's key wins. */
  async #createManyUnderMaster(
    ownerType: DataKeyRecord['owner_type'],
    ownerIds: readonly string[],
  ): Promise<DataKeyRecord[]> {
    const candidates = ownerIds.map((ownerId) => this.#newRecord(ownerType, ownerId, this.#kek, this.#kekId));
    const inserted = await this.port.insertDataKeysIfAbsent(candidates);
    const stored = candidates.filter((c) => inserted.has(c.id));
    const lost = candidates.filter((c) => !inserted.has(c.id)).map((c) => c.owner_id);
    return lost.length > 0 ? [...stored, ...(await this.port.findDataKeys(ownerType, lost))] : stored;
  }

  /**
   * {@link #createUnderEpoch} for many owners: the new keys are wrapped under the current epoch and stored in one
   * transaction only while the key store's epoch is still that one. The owners whose key another caller stored
   * first get that key; when an epoch began meanwhile (nothing stored), this instance follows it and wraps the
   * remaining keys again, so that no key is ever stored under an epoch that is about to be retired.
   */
  async #createManyUnderEpoch(
    ownerType: DataKeyRecord['owner_type'],
    ownerIds: readonly string[],
  ): Promise<DataKeyRecord[]> {
    const stored: DataKeyRecord[] = [];
    let missing = ownerIds;
    for (let attempt = 0; attempt < 5; attempt++) {
      const epoch = this.#epochs.get(this.#epoch!)!;
      const candidates = missing.map((ownerId) =>
        this.#newRecord(ownerType, ownerId, epoch.kek, epochKekId(epoch.epoch)),
      );
      let inserted: Set<string> | undefined;
      try {
        inserted = await this.port.insertDataKeysIfMeta(candidates, META_EPOCH, String(epoch.epoch));
      } catch (error) {
        // SQLite: another process changed the key store between this transaction's read and its write.
        if (attempt === 4) throw error;
      }
      for (const c of candidates) if (inserted?.has(c.id)) stored.push(c);
      missing = candidates.filter((c) => !inserted?.has(c.id)).map((c) => c.owner_id);
      if (missing.length === 0) return stored;
      const found = await this.port.findDataKeys(ownerType, missing);
      stored.push(...found);
      const foundOwners = new Set(found.map((row) => row.owner_id));
      missing = missing.filter((id) => !foundOwners.has(id));
      if (missing.length === 0) return stored;
      await this.syncEpoch();
    }
    throw new AppError('INTERNAL', 'new data keys could not be stored: the key epoch kept changing');
  }

  /**
   * A new data key wrapped under the current epoch, stored only while the key store's epoch is still that one: when
   * an epoch began meanwhile, this instance follows it and wraps again, so that no key is ever stored under an
   * epoch that is about to be retired.
   */
  async #createUnderEpoch(
    ownerType: 'conversation' | 'contact' | 'system',
    ownerId: string,
  ): Promise<DataKeyRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const epoch = this.#epochs.get(this.#epoch!)!;
      const candidate = this.#newRecord(ownerType, ownerId, epoch.kek, epochKekId(epoch.epoch));
      try {
        // Stored: the candidate is the owner's key. Not stored: another caller's key won, or an epoch began.
        if (await this.port.insertDataKeyIfMeta(candidate, META_EPOCH, String(epoch.epoch))) return candidate;
      } catch (error) {
        // SQLite: another process changed the key store between this transaction's read and its write.
        if (attempt === 4) throw error;
      }
      const row = await this.port.findDataKey(ownerType, ownerId);
      if (row) return row;
      await this.syncEpoch();
    }
    throw new AppError('INTERNAL', 'a new data key could not be stored: the key epoch kept changing');
  }

  async #unwrapRow(row: DataKeyRecord): Promise<DataKey> {
    let kek = this.#kek;
    if (row.kek_id.startsWith(EPOCH_KEK_PREFIX)) {
      const n = Number(row.kek_id.slice(EPOCH_KEK_PREFIX.length));
      if (!this.#epochs.has(n)) await this.syncEpoch();
      const epoch = this.#epochs.get(n);
      if (!epoch) {
        throw new AppError('INTERNAL', `a data key is wrapped under key epoch ${n}, whose secret this instance lacks`);
      }
      kek = epoch.kek;
    }
    const key = unwrap(kek, row.wrapped, wrapAad(row.id, row.owner_type, row.owner_id));
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
   * Master key rotation: re-wraps the root secret and every data key still wrapped under the master key (keys under
   * an epoch's key do not depend on it) under `next` in one key-store transaction, records the new key-check value
   * and re-seals the epoch file under `next`. Content is not touched. From then on this service uses `next`; the old
   * master key is refused.
   */
  async rotateMaster(next: Buffer): Promise<{ rewrapped: number }> {
    if (next.length !== DATA_KEY_BYTES) throw new AppError('VALIDATION', 'the new master key must be 32 bytes');
    await this.init();
    if (timingSafeEqual(next, this.#master)) {
      throw new AppError('VALIDATION', 'the new master key is the same as the current one');
    }
    const nextKek = hkdf(next, 'sparsam/kek/v1');
    const nextKekId = kekIdOf(next);
    const epochState = this.#epochStore?.read();
    const rootWrapped = await this.port.getMeta(META_ROOT);
    const root = unwrap(this.#kek, Buffer.from(rootWrapped ?? '', 'base64'), wrapAad('root', 'system', 'root'));
    let rewrapped = 0;
    await this.port.rewrapAll(
      (row) => {
        // Keys wrapped under an epoch's key do not depend on the master key: they stay as they are.
        if (row.kek_id.startsWith(EPOCH_KEK_PREFIX)) return { wrapped: row.wrapped, kekId: row.kek_id };
        rewrapped++;
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
    // The epoch file is sealed under the master key: seal it under the new one.
    if (epochState && this.#epochStore?.useMaster) {
      this.#epochStore.useMaster(next);
      this.#epochStore.write({ ...epochState, kekId: nextKekId });
    }
    return { rewrapped };
  }
}
