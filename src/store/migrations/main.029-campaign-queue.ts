import type { SparsamMigration } from './migration.ts';

/**
 * Broadcasts are queued in batches, each in its own transaction, and resume after a crash: `state` is 'queueing'
 * until the last batch is in ('queued' for every campaign written before, which were queued in one transaction),
 * `cursor` the id of the last contact of the channel looked at (contacts are walked in id order), and
 * `parameters_enc` the template's parameters sealed with a system data key, kept only while queueing (a resumed
 * broadcast needs them; they are set to null with the last batch). `contacts_channel_id_idx` serves the walk.
 */
export const campaignQueue: SparsamMigration = {
  name: '029-campaign-queue',
  async up(db, t) {
    await db.schema
      .alterTable('campaigns')
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('queued'))
      .execute();
    await db.schema.alterTable('campaigns').addColumn('cursor', 'text').execute();
    await db.schema.alterTable('campaigns').addColumn('parameters_enc', t.blob).execute();
    // The batches walk a channel's contacts in id order from the cursor.
    await db.schema.createIndex('contacts_channel_id_idx').on('contacts').columns(['channel_id', 'id']).execute();
  },
};
