import type { SparsamMigration } from './migration.ts';

/** A conversation's priority ('normal' or 'high'), set by staff; sorts high ones first where asked. */
export const conversationPriority: SparsamMigration = {
  name: '024-priority',
  async up(db) {
    await db.schema
      .alterTable('conversations')
      .addColumn('priority', 'text', (c) => c.notNull().defaultTo('normal'))
      .execute();
  },
};
