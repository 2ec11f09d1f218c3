import type { SparsamMigration } from './migration.ts';

/**
 * Saved views: a staff member's named list filters (view, label, channel, sort), personal per user. No search text
 * is kept: a query may hold a customer's name or number, and this table is plain text in every backup.
 */
export const savedViews: SparsamMigration = {
  name: '026-saved-views',
  async up(db, t) {
    await db.schema
      .createTable('saved_views')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('view', 'text', (c) => c.notNull())
      .addColumn('label', 'text')
      .addColumn('channel_id', 'text')
      .addColumn('sort', 'text', (c) => c.notNull().defaultTo('activity'))
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addUniqueConstraint('saved_views_user_name', ['user_id', 'name'])
      .execute();
  },
};
