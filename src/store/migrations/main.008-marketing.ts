import type { SparsamMigration } from './migration.ts';

/**
 * Automated messages and marketing. `automation_sends` remembers when a greeting or away message last went to a
 * conversation (ids and times only). `campaigns` and `campaign_recipients` record broadcasts by template name and
 * the ids of the contacts and queued messages: no address, no text.
 */
export const marketing: SparsamMigration = {
  name: '008-marketing',
  async up(db, t) {
    await db.schema
      .createTable('automation_sends')
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', t.millis, (c) => c.notNull())
      .addPrimaryKeyConstraint('automation_sends_pk', ['conversation_id', 'kind'])
      .execute();
    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('template_name', 'text', (c) => c.notNull())
      .addColumn('template_language', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('skipped', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('campaign_recipients')
      .addColumn('campaign_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_recipients_pk', ['campaign_id', 'contact_id'])
      .execute();
  },
};
