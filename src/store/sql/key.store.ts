import type { DataKeyRecord } from '../../core/ports/model.ts';
import type { Kysely } from 'kysely';
import type { KeystoreDatabase } from '../database.ts';
import type { DataKeyOwnerType, KeyPort } from '../../core/ports/key.port.ts';

const REWRAP_PAGE = 1000;
/** Owners per statement of the batched key reads and inserts (well below both dialects' bound-parameter limits). */
const KEY_BATCH = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** KeyPort over the key store database (`store.keys`): its own SQLite file or the `sparsam_keys` schema. */
export class KeyStore implements KeyPort {
  constructor(private readonly db: Kysely<KeystoreDatabase>) {}

  findDataKey(ownerType: DataKeyOwnerType, ownerId: string): Promise<DataKeyRecord | undefined> {
    return this.db
      .selectFrom('data_keys')
      .selectAll()
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
  }

  async findDataKeys(ownerType: DataKeyOwnerType, ownerIds: readonly string[]): Promise<DataKeyRecord[]> {
    const found = new Map<string, DataKeyRecord>();
    for (const ids of chunks(ownerIds, KEY_BATCH)) {
      const rows = await this.db
        .selectFrom('data_keys')
        .selectAll()
        .where('owner_type', '=', ownerType)
        .where('owner_id', 'in', ids)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      // The oldest key of an owner, as findDataKey returns it.
      for (const row of rows) if (!found.has(row.owner_id)) found.set(row.owner_id, row);
    }
    return [...found.values()];
  }

  insertDataKeysIfAbsent(rows: readonly DataKeyRecord[]): Promise<Set<string>> {
    return this.db.transaction().execute((tx) => insertAbsent(tx, rows));
  }

  async insertDataKeyIfAbsent(row: DataKeyRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('data_keys')
      .values(row)
      .onConflict((oc) => oc.columns(['owner_type', 'owner_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async deleteDataKeys(ownerType: DataKeyOwnerType, ownerId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('data_keys')
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteDataKeysMany(ownerType: DataKeyOwnerType, ownerIds: readonly string[]): Promise<number> {
    if (ownerIds.length === 0) return 0;
    const result = await this.db
      .deleteFrom('data_keys')
      .where('owner_type', '=', ownerType)
      .where('owner_id', 'in', [...ownerIds])
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('keystore_meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async initMeta(values: Record<string, string>): Promise<boolean> {
    const entries = Object.entries(values);
    if (entries.length === 0) return false;
    return this.db.transaction().execute(async (tx) => {
      const first = await tx
        .insertInto('keystore_meta')
        .values({ key: entries[0]![0], value: entries[0]![1] })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      if (Number(first.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
      for (const [key, value] of entries.slice(1)) {
        await tx
          .insertInto('keystore_meta')
          .values({ key, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      }
      return true;
    });
  }

  async countDataKeys(): Promise<number> {
    const row = await this.db
      .selectFrom('data_keys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  rewrapAll(
    rewrap: (row: DataKeyRecord) => { wrapped: Uint8Array; kekId: string },
    meta: Record<string, string>,
  ): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      let count = 0;
      let after = '';
      for (;;) {
        const page = await tx
          .selectFrom('data_keys')
          .selectAll()
          .where('id', '>', after)
          .orderBy('id')
          .limit(REWRAP_PAGE)
          .execute();
        for (const row of page) {
          const next = rewrap(row);
          await tx
            .updateTable('data_keys')
            .set({ wrapped: next.wrapped, kek_id: next.kekId })
            .where('id', '=', row.id)
            .execute();
          count++;
        }
        if (page.length < REWRAP_PAGE) break;
        after = page[page.length - 1]!.id;
      }
      for (const [key, value] of Object.entries(meta)) {
        await tx
          .insertInto('keystore_meta')
          .values({ key, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      }
      return count;
    });
  }

  insertDataKeyIfMeta(row: DataKeyRecord, metaKey: string, metaValue: string): Promise<boolean> {
    // One transaction: on SQLite the write lock makes the check and the insert atomic (a concurrent change of the
    // metadata by another process makes the commit fail); on PostgreSQL the epoch owner waits a grace period after
    // changing the metadata and sweeps twice, which covers an insert that read the metadata just before the change.
    return this.db.transaction().execute(async (tx) => {
      const meta = await tx.selectFrom('keystore_meta').select('value').where('key', '=', metaKey).executeTakeFirst();
      if (meta?.value !== metaValue) return false;
      const result = await tx
        .insertInto('data_keys')
        .values(row)
        .onConflict((oc) => oc.columns(['owner_type', 'owner_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  insertDataKeysIfMeta(
    rows: readonly DataKeyRecord[],
    metaKey: string,
    metaValue: string,
  ): Promise<Set<string> | undefined> {
    // The same transaction as insertDataKeyIfMeta, for many keys: the check is read once, inside the transaction
    // that writes all of them, so that the same reasoning holds for each (on PostgreSQL the transaction is a few
    // multi-row statements, far shorter than the epoch owner's grace period).
    return this.db.transaction().execute(async (tx) => {
      const meta = await tx.selectFrom('keystore_meta').select('value').where('key', '=', metaKey).executeTakeFirst();
      if (meta?.value !== metaValue) return undefined;
      return insertAbsent(tx, rows);
    });
  }

  async setMeta(values: Record<string, string>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const [key, value] of Object.entries(values)) {
        await tx
          .insertInto('keystore_meta')
          .values({ key, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      }
    });
  }

  compareAndSetMeta(key: string, expected: string, next: string, also: Record<string, string>): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('keystore_meta')
        .set({ value: next })
        .where('key', '=', key)
        .where('value', '=', expected)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      for (const [k, value] of Object.entries(also)) {
        await tx
          .insertInto('keystore_meta')
          .values({ key: k, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      }
      return true;
    });
  }

  listDataKeysNotUnder(kekId: string, afterId: string, limit: number): Promise<DataKeyRecord[]> {
    return this.db
      .selectFrom('data_keys')
      .selectAll()
      .where('kek_id', '!=', kekId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async replaceWrapped(id: string, fromKekId: string, wrapped: Uint8Array, kekId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('data_keys')
      .set({ wrapped, kek_id: kekId })
      .where('id', '=', id)
      .where('kek_id', '=', fromKekId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

/** Inserts the keys of owners without one (multi-row statements); returns the ids of the rows inserted. */
async function insertAbsent(tx: Kysely<KeystoreDatabase>, rows: readonly DataKeyRecord[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  // In owner order: two transactions inserting keys of the same owners wait for each other in one order (PostgreSQL
  // waits on the other's uncommitted row of a unique owner), never in a cycle.
  const sorted = [...rows].sort((a, b) => (a.owner_id < b.owner_id ? -1 : a.owner_id > b.owner_id ? 1 : 0));
  for (const part of chunks(sorted, KEY_BATCH)) {
    const result = await tx
      .insertInto('data_keys')
      .values(part)
      .onConflict((oc) => oc.columns(['owner_type', 'owner_id']).doNothing())
      .returning('id')
      .execute();
    for (const row of result) inserted.add(row.id);
  }
  return inserted;
}
