import type { SparsamMigration } from './migration.ts';

/**
 * The last TOTP time step each user has used, so that a code used once is refused at every instance sharing the
 * database (a per-process memory let a code used at one instance be replayed at another). Ids and a step number
 * only.
 */
export const totpSteps: SparsamMigration = {
  name: '009-totp-steps',
  async up(db) {
    await db.schema
      .createTable('totp_used_steps')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('step', 'integer', (c) => c.notNull())
      .execute();
  },
};
