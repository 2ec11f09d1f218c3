import type { SparsamMigration } from './migration.ts';

/**
 * Content-free facts for the reports, written when a message is stored or queued and when a conversation is closed:
 * what happened (kind), when (to the minute), in which inbox, over which kind of channel, by which agent, and a
 * duration where one applies. No conversation id, contact, address or text: erasing a conversation leaves the figures.
 */
export const reportFacts: SparsamMigration = {
  name: '022-report-facts',
  async up(db, t) {
    await db.schema
      .createTable('report_facts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('at', t.millis, (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('channel_kind', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('duration_ms', t.millis)
      .addColumn('score', 'integer')
      .execute();
    await db.schema.createIndex('report_facts_at').on('report_facts').column('at').execute();
  },
};
