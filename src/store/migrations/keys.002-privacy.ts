import type { SparsamMigration } from './migration.ts';

/**
 * One data key per owner: two instances creating the key of the same new conversation at once must end up with the
 * same key (the loser's insert is ignored and it reads the winner's key).
 */
export const keystorePrivacy: SparsamMigration = {
  name: '002-privacy',
  async up(db) {
    await db.schema.dropIndex('data_keys_owner_idx').execute();
    await db.schema
      .createIndex('data_keys_owner_uq')
      .on('data_keys')
      .columns(['owner_type', 'owner_id'])
      .unique()
      .execute();
  },
};
