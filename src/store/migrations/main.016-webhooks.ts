import type { SparsamMigration } from './migration.ts';

/**
 * Outgoing webhooks: the endpoints admins register (signing secrets sealed, never plain) and the delivery log (event
 * type, state, attempts, status code, duration, a content-free error; never the payload).
 */
export const webhooks: SparsamMigration = {
  name: '016-webhooks',
  async up(db, t) {
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text')
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('paused_reason', 'text')
      .addColumn('paused_at', t.millis)
      .addColumn('allow_private_target', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('include_content', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('legal_basis', 'text')
      .addColumn('legal_basis_note', 'text')
      .addColumn('secret_enc', t.blob, (c) => c.notNull())
      .addColumn('previous_secret_enc', t.blob)
      .addColumn('previous_secret_until', t.millis)
      .addColumn('failing_since', t.millis)
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_success_at', t.millis)
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('duration_ms', 'integer')
      .addColumn('error', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .addUniqueConstraint('webhook_deliveries_event', ['endpoint_id', 'event_id'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_endpoint')
      .on('webhook_deliveries')
      .columns(['endpoint_id', 'created_at'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_updated').on('webhook_deliveries').column('updated_at').execute();
  },
};
