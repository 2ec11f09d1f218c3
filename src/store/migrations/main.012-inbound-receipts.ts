import type { SparsamMigration } from './migration.ts';

/**
 * Inbound events that change state without leaving a message row (a customer's number change), remembered by the
 * keyed hash of their provider id so that a redelivery, which a provider may send days later and in any order, has
 * no second effect. Content-free: channel, keyed hash (never the id: a wamid holds the phone number), expiry; the
 * retention sweep deletes what expired.
 */
export const inboundReceipts: SparsamMigration = {
  name: '012-inbound-receipts',
  async up(db, t) {
    await db.schema
      .createTable('inbound_receipts')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('provider_ref', 'text', (c) => c.notNull())
      .addColumn('received_at', t.millis, (c) => c.notNull())
      .addColumn('expires_at', t.millis, (c) => c.notNull())
      .addPrimaryKeyConstraint('inbound_receipts_pk', ['channel_id', 'provider_ref'])
      .execute();
    await db.schema.createIndex('inbound_receipts_expires').on('inbound_receipts').column('expires_at').execute();
  },
};
