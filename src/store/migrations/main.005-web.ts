import type { SparsamMigration } from './migration.ts';

/**
 * The browser inbox: quick replies (Textbausteine), one-time invitations for new staff, and installation-wide
 * settings (the 2FA requirement, inbox privacy overrides made in the admin UI).
 */
export const web: SparsamMigration = {
  name: '005-web',
  async up(db, t) {
    await db.schema
      .createTable('quick_replies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('shortcut', 'text', (c) => c.notNull().unique())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('invitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_by', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('expires_at', t.millis, (c) => c.notNull())
      .addColumn('used_at', t.millis)
      .execute();
    await db.schema.createIndex('invitations_user_idx').on('invitations').column('user_id').execute();

    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
  },
};
