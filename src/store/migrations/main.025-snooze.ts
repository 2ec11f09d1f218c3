import type { SparsamMigration } from './migration.ts';

/**
 * Snooze: an open conversation set aside until a time (`snoozed_until`, epoch ms; null when not snoozed). It stays
 * 'open' but leaves the open lists until it wakes: at that time (a job, and a sweep for any missed) or earlier when
 * the customer writes. The index serves the sweep and the "Snoozed" list.
 */
export const snooze: SparsamMigration = {
  name: '025-snooze',
  async up(db, t) {
    await db.schema.alterTable('conversations').addColumn('snoozed_until', t.millis).execute();
    await db.schema.createIndex('conversations_snoozed_until').on('conversations').column('snoozed_until').execute();
  },
};
