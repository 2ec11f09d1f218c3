import type { SparsamMigration } from './migration.ts';

/** The key store's tables: wrapped data keys and a little metadata (master key check value). */
export const keystore: SparsamMigration = {
  name: '001-keystore',
  async up(db, t) {
    await db.schema
      .createTable('data_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_type', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('wrapped', t.blob, (c) => c.notNull())
      .addColumn('kek_id', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('data_keys_owner_idx').on('data_keys').columns(['owner_type', 'owner_id']).execute();
    await db.schema
      .createTable('keystore_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};
