import type { SparsamMigration } from './migration.ts';

/**
 * Secrets of the configuration sealed into the key store on first start (a Threema gateway's private key), so that
 * they need not stay in the configuration file and never reach the main database or its backups. Each is sealed
 * (AES-256-GCM) under a data key of owner type `system`, which key rotation re-wraps like every other.
 */
export const keystoreSealedSecrets: SparsamMigration = {
  name: '004-sealed-secrets',
  async up(db, t) {
    await db.schema
      .createTable('sealed_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('sealed', t.blob, (c) => c.notNull())
      .addColumn('sealed_at', t.millis, (c) => c.notNull())
      .execute();
  },
};
