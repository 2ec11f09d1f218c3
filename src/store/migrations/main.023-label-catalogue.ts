import type { SparsamMigration } from './migration.ts';

/**
 * Labels become a list the admins keep (name and an optional colour); agents only pick from it. Free-text labels
 * chosen before may hold personal data (a name, a phone number), so they leave the plain `labels` column: at start
 * the team service seals them with the conversation's data key into `labels_legacy_enc` (erased with the
 * conversation by crypto-shredding) and the freed pages are scrubbed. Users get `password_reset_at`: an admin's
 * reset, shown to the user once at the next sign-in.
 */
export const labelCatalogue: SparsamMigration = {
  name: '023-label-catalogue',
  async up(db, t) {
    await db.schema
      .createTable('label_catalogue')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('color', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.alterTable('conversations').addColumn('labels_legacy_enc', t.blob).execute();
    await db.schema.alterTable('users').addColumn('password_reset_at', t.millis).execute();
  },
};
