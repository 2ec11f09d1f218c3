import type { SparsamMigration } from './migration.ts';

/**
 * Hardening of accountability and erasure.
 *
 * `audit_set_aside`: audit entries found beyond the chain head (written into the database by something other than
 * sparsam, or left over from a rolled-back head) are moved here by the next append, so that they neither block the
 * append at their sequence number nor show up in the audit screen; `sparsam audit verify` reports them.
 */
export const security: SparsamMigration = {
  name: '017-security',
  async up(db, t) {
    await db.schema
      .createTable('audit_set_aside')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('seq', t.millis, (c) => c.notNull())
      .addColumn('at', t.millis, (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('set_aside_at', t.millis, (c) => c.notNull())
      .execute();
  },
};
