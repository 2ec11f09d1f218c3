import type { SparsamMigration } from './migration.ts';

/** Hash of "no previous entry": the chain's genesis. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * Privacy core: the audit chain's head and anchor, and indexes for the retention sweeper.
 *
 * `audit_chain` has two rows. 'head' is the last appended entry (seq, hash, MAC): appenders lock it first, which
 * serialises them on both dialects, and verify compares the log's end with it, so deleting the newest entries is
 * detected. 'anchor' is the last pruned entry: verify starts from it after audit retention removed older entries.
 */
export const privacy: SparsamMigration = {
  name: '002-privacy',
  async up(db, t) {
    await db.schema
      .createTable('audit_chain')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('seq', t.millis, (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('at', t.millis, (c) => c.notNull())
      .execute();
    await db
      .insertInto('audit_chain' as never)
      .values([
        { name: 'head', seq: 0, hash: AUDIT_GENESIS_HASH, mac: '', at: 0 },
        { name: 'anchor', seq: 0, hash: AUDIT_GENESIS_HASH, mac: '', at: 0 },
      ] as never)
      .execute();
    await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
    await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_id', 'seq']).execute();
    await db.schema
      .createIndex('conversations_inbox_erase_idx')
      .on('conversations')
      .columns(['inbox_id', 'state', 'erase_at'])
      .execute();
    await db.schema.createIndex('consent_contact_at_idx').on('consent_events').columns(['contact_id', 'at']).execute();
  },
};
