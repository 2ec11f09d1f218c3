import type { DataKeyOwnerType, DataKeyRecord } from './model.ts';

export type { DataKeyOwnerType };

/**
 * The separate key store (wrapped data keys and a little metadata). Only core/privacy/keys uses it; no other part
 * of sparsam ever reads a wrapped key.
 */
export interface KeyPort {
  findDataKey(ownerType: DataKeyOwnerType, ownerId: string): Promise<DataKeyRecord | undefined>;
  /** The keys of several owners of one type (the oldest of each, as {@link findDataKey}); owners without one are absent. */
  findDataKeys(ownerType: DataKeyOwnerType, ownerIds: readonly string[]): Promise<DataKeyRecord[]>;
  /**
   * {@link insertDataKeyIfAbsent} for many keys in one transaction: each is inserted unless its owner already has
   * one. Returns the ids of the rows inserted.
   */
  insertDataKeysIfAbsent(rows: readonly DataKeyRecord[]): Promise<Set<string>>;
  /** Inserts the key unless the owner already has one (unique per owner); true when this row was inserted. */
  insertDataKeyIfAbsent(row: DataKeyRecord): Promise<boolean>;
  /** Deletes every key of the owner; returns how many rows were deleted. */
  deleteDataKeys(ownerType: DataKeyOwnerType, ownerId: string): Promise<number>;
  /** Deletes every key of several owners of one type in one statement; returns how many rows were deleted. */
  deleteDataKeysMany(ownerType: DataKeyOwnerType, ownerIds: readonly string[]): Promise<number>;
  getMeta(key: string): Promise<string | undefined>;
  /** Sets several metadata values at once unless `key` of the first entry exists; true when written. */
  initMeta(values: Record<string, string>): Promise<boolean>;
  countDataKeys(): Promise<number>;
  /**
   * Re-wraps every data key and replaces metadata in ONE transaction: either all keys move to the new master key or
   * none does. `rewrap` receives each row and returns its new wrapped bytes and key-encryption-key id.
   */
  rewrapAll(
    rewrap: (row: DataKeyRecord) => { wrapped: Uint8Array; kekId: string },
    meta: Record<string, string>,
  ): Promise<number>;

  /**
   * Inserts the key unless the owner already has one, and only while the metadata `metaKey` still has `metaValue`
   * (one statement): a key wrapped under an epoch that has just ended is refused rather than stored. True when
   * inserted.
   */
  insertDataKeyIfMeta(row: DataKeyRecord, metaKey: string, metaValue: string): Promise<boolean>;
  /**
   * {@link insertDataKeyIfMeta} for many keys in ONE transaction: when `metaKey` still has `metaValue`, inserts each
   * key whose owner has none yet and returns the ids of the rows inserted; otherwise inserts nothing and returns
   * undefined.
   */
  insertDataKeysIfMeta(
    rows: readonly DataKeyRecord[],
    metaKey: string,
    metaValue: string,
  ): Promise<Set<string> | undefined>;
  /** Upserts several metadata values in one transaction. */
  setMeta(values: Record<string, string>): Promise<void>;
  /**
   * Compare-and-set: when `key` has the value `expected`, sets it to `next` and upserts `also`, in one transaction;
   * false (nothing written) when the current value differs.
   */
  compareAndSetMeta(key: string, expected: string, next: string, also: Record<string, string>): Promise<boolean>;
  /** Up to `limit` keys not wrapped under `kekId`, ordered by id, with ids after `afterId`. */
  listDataKeysNotUnder(kekId: string, afterId: string, limit: number): Promise<DataKeyRecord[]>;
  /** Replaces one key's wrapped bytes while it is still wrapped under `fromKekId`; true when replaced. */
  replaceWrapped(id: string, fromKekId: string, wrapped: Uint8Array, kekId: string): Promise<boolean>;
}
