import type { SparsamMigration } from './migration.ts';

/**
 * Customers' public keys pinned per channel (Threema E2E): the first key seen for a Threema ID is kept, a later
 * different one is a reported change. Keyed by a keyed hash of channel and address, never the address itself; the
 * key is public material (Threema publishes it), `changes` counts the changes seen.
 */
export const publicKeyPins: SparsamMigration = {
  name: '014-public-key-pins',
  async up(db, t) {
    await db.schema
      .createTable('public_key_pins')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('address_ref', 'text', (c) => c.notNull())
      .addColumn('public_key', t.blob, (c) => c.notNull())
      .addColumn('pinned_at', t.millis, (c) => c.notNull())
      .addColumn('changes', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('public_key_pins_pk', ['channel_id', 'address_ref'])
      .execute();
  },
};
