import type { SparsamMigration } from './migration.ts';

/**
 * Notifications: the browsers (devices) of each staff member that receive Web Push, and each member's choice of
 * events, channels and quiet hours. A push subscription's endpoint and keys are a capability (whoever holds them can
 * push to that browser) and the endpoint names the user's push service account, so the whole subscription is sealed
 * (`subscription_enc`); `endpoint_hash` (keyed hash) finds it again on unsubscribe. The VAPID key pair and the SMTP
 * settings live in `settings`, private key and password sealed.
 */
export const notifications: SparsamMigration = {
  name: '021-notifications',
  async up(db, t) {
    await db.schema
      .createTable('push_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('endpoint_hash', 'text', (c) => c.notNull().unique())
      .addColumn('subscription_enc', t.blob, (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('last_used_at', t.millis)
      .execute();
    await db.schema.createIndex('push_subscriptions_user_idx').on('push_subscriptions').column('user_id').execute();

    await db.schema
      .createTable('notification_prefs')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('prefs', 'text', (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
  },
};
