import type { SparsamMigration } from './migration.ts';

/**
 * Delivery statuses that arrived before their message's provider id was recorded (the provider answers the send and
 * reports 'sent'/'delivered' at once; the webhook can commit before the send job does). Content-free: the keyed
 * hash of the provider id (never the id: a wamid holds the phone number), the status, the provider's time, and for
 * 'failed' the provider's code and reason. The send job applies them when it stores the provider id; the
 * retention sweep deletes what expired unmatched.
 */
export const parkedStatuses: SparsamMigration = {
  name: '011-parked-statuses',
  async up(db, t) {
    await db.schema
      .createTable('parked_statuses')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('provider_ref', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_at', t.millis, (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('error_reason', 'text')
      .addColumn('expires_at', t.millis, (c) => c.notNull())
      .addPrimaryKeyConstraint('parked_statuses_pk', ['channel_id', 'provider_ref', 'status'])
      .execute();
    await db.schema.createIndex('parked_statuses_expires').on('parked_statuses').column('expires_at').execute();
  },
};
