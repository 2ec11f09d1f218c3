import type { SparsamMigration } from './migration.ts';

/**
 * Satisfaction questions waiting for their answer: which conversation and contact were asked (so that erasing either
 * removes the question and a late tap counts nothing), over which channel, in which inbox, whose conversation it was
 * (agent id) and when it was sent. No text, no address. A row is deleted by the answer (the score itself goes to
 * `report_facts` as kind 'csat', linked to nothing personal), by erasure, or 7 days after it was sent.
 */
export const csatSurveys: SparsamMigration = {
  name: '027-csat',
  async up(db, t) {
    await db.schema
      .createTable('csat_surveys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('channel_kind', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('sent_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('csat_surveys_conversation').on('csat_surveys').column('conversation_id').execute();
    await db.schema.createIndex('csat_surveys_contact').on('csat_surveys').column('contact_id').execute();
    await db.schema.createIndex('csat_surveys_sent').on('csat_surveys').column('sent_at').execute();
  },
};
