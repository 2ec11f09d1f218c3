import type { SparsamMigration } from './migration.ts';

/**
 * The WhatsApp Business Account as sparsam manages it: message templates (synced from the Graph API, created from
 * the admin screen, their status and category following Meta's webhooks) and each channel's account health
 * (quality rating, messaging limit, violations, restrictions, bans). Content-free: templates are the business's own
 * texts, never a customer's; health holds Meta's enum values and dates only.
 *
 * `event_at` columns hold the webhook's `entry.time` (ms) of the last change applied, so that a redelivered or
 * late older event changes nothing.
 */
export const whatsappAccount: SparsamMigration = {
  name: '019-whatsapp-account',
  async up(db, t) {
    await db.schema
      .createTable('whatsapp_templates')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull())
      .addColumn('provider_id', 'text')
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('components', 'text', (c) => c.notNull())
      .addColumn('status_at', t.millis, (c) => c.notNull())
      .addColumn('category_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .addPrimaryKeyConstraint('whatsapp_templates_pk', ['channel_id', 'name', 'language'])
      .execute();
    await db.schema
      .createTable('channel_health')
      .addColumn('channel_id', 'text', (c) => c.primaryKey())
      .addColumn('quality_rating', 'text')
      .addColumn('quality_event', 'text')
      .addColumn('messaging_limit', 'text')
      .addColumn('quality_at', t.millis)
      .addColumn('capability', 'text')
      .addColumn('capability_at', t.millis)
      .addColumn('account_event', 'text')
      .addColumn('violation_type', 'text')
      .addColumn('ban_state', 'text')
      .addColumn('restrictions', 'text')
      .addColumn('account_at', t.millis)
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
  },
};
