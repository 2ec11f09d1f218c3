import type { SparsamMigration } from './migration.ts';

/**
 * Content-free daily counters for the statistics (conversations started, messages by kind, consent given and
 * withdrawn), incremented as rows are stored. They outlive erasure: a reply still counts after its conversation was
 * erased, a STOP after the contact was. A row holds a UTC day, a metric name and a count, nothing else. Rows are
 * only appended (the statistics add them up), so concurrent transactions never wait for or deadlock on a counter.
 */
export const dailyCounts: SparsamMigration = {
  name: '018-daily-counts',
  async up(db) {
    await db.schema
      .createTable('daily_counts')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('daily_counts_day').on('daily_counts').column('day').execute();
  },
};
