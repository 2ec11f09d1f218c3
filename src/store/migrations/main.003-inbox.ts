import { sql } from 'kysely';
import type { SparsamMigration } from './migration.ts';

/**
 * Inbox core columns:
 * - messages.edited / messages.deleted: the customer edited or revoked a message (the content of a revoked message
 *   is dropped, the row stays so that the conversation shows "deleted");
 * - messages.handled: 0 while the follow-up steps of an inbound message (consent grant, erasure) are not done yet, so
 *   that a provider's retry after a crash finishes them instead of skipping a duplicate;
 * - conversations.notice_version: the hash of the exact privacy notice text sent to this conversation, recorded
 *   with the consent when the customer agrees;
 * - one current (open or pending) conversation per contact, enforced by a partial unique index so that two
 *   webhooks racing on PostgreSQL cannot open two conversations for the same customer.
 */
export const inbox: SparsamMigration = {
  name: '003-inbox',
  async up(db) {
    await db.schema
      .alterTable('messages')
      .addColumn('edited', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('messages')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('messages')
      .addColumn('handled', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.alterTable('conversations').addColumn('notice_version', 'text').execute();
    await db.schema
      .createIndex('conversations_current_uq')
      .on('conversations')
      .column('contact_id')
      .unique()
      .where(sql.ref('state'), 'in', sql`('open', 'pending_consent')`)
      .execute();
    await db.schema.createIndex('messages_media_idx').on('messages').column('media_id').execute();
  },
};
