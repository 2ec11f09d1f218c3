import type { SparsamMigration } from './migration.ts';

/**
 * Compliance tools: the breach register (Art. 33 GDPR). The description is internal staff text and stored sealed;
 * affected conversations are named by id and pseudonym label only.
 */
export const compliance: SparsamMigration = {
  name: '007-compliance',
  async up(db, t) {
    await db.schema
      .createTable('breaches')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('description_enc', t.blob, (c) => c.notNull())
      .addColumn('risk', 'text', (c) => c.notNull())
      .addColumn('affected', 'text', (c) => c.notNull())
      .addColumn('discovered_at', t.millis, (c) => c.notNull())
      .addColumn('notified_at', t.millis)
      .addColumn('subjects_notified_at', t.millis)
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('breaches_discovered_idx').on('breaches').column('discovered_at').execute();
  },
};
