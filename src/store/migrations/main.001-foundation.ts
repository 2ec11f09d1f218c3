import type { SparsamMigration } from './migration.ts';

/** The base tables: inboxes, channels, contacts, conversations, messages, media, consent, audit, users, jobs. */
export const foundation: SparsamMigration = {
  name: '001-foundation',
  async up(db, t) {
    await db.schema
      .createTable('inboxes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('label_prefix', 'text', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull())
      .addColumn('next_seq', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('channels')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull().references('inboxes.id'))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('secrets_enc', t.blob)
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('contacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('lookup_hash', 'text', (c) => c.notNull())
      .addColumn('label_seq', 'integer', (c) => c.notNull())
      .addColumn('address_enc', t.blob, (c) => c.notNull())
      .addColumn('profile_name_enc', t.blob)
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('last_inbound_at', t.millis)
      .addUniqueConstraint('contacts_channel_lookup_uq', ['channel_id', 'lookup_hash'])
      .execute();

    await db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('label_seq', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('assignee_id', 'text')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('unread', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('last_activity_at', t.millis, (c) => c.notNull())
      .addColumn('last_inbound_at', t.millis)
      .addColumn('consent_requested_at', t.millis)
      .addColumn('closed_at', t.millis)
      .addColumn('erase_at', t.millis)
      .execute();
    await db.schema.createIndex('conversations_contact_idx').on('conversations').column('contact_id').execute();
    await db.schema
      .createIndex('conversations_inbox_state_idx')
      .on('conversations')
      .columns(['inbox_id', 'state', 'last_activity_at'])
      .execute();

    await db.schema
      .createTable('messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('provider_message_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('body_enc', t.blob)
      .addColumn('media_id', 'text')
      .addColumn('author_id', 'text')
      .addColumn('error_code', 'text')
      .addColumn('error_reason', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .addUniqueConstraint('messages_channel_provider_uq', ['channel_id', 'provider_message_id'])
      .execute();
    await db.schema
      .createIndex('messages_conversation_idx')
      .on('messages')
      .columns(['conversation_id', 'created_at'])
      .execute();

    await db.schema
      .createTable('media')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('mime_type', 'text', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('data_enc', t.blob)
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('media_conversation_idx').on('media').column('conversation_id').execute();

    await db.schema
      .createTable('consent_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('notice_version', 'text')
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('evidence_message_id', 'text')
      .addColumn('evidence_enc', t.blob)
      .addColumn('at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('consent_contact_idx')
      .on('consent_events')
      .columns(['contact_id', 'purpose', 'at'])
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('seq', t.millis, (c) => c.primaryKey())
      .addColumn('at', t.millis, (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull())
      .addColumn('totp_secret_enc', t.blob)
      .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('recovery_codes', 'text')
      .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', t.millis)
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('second_factor_done', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('expires_at', t.millis, (c) => c.notNull())
      .addColumn('last_seen_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('last_used_at', t.millis)
      .addColumn('revoked_at', t.millis)
      .execute();

    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', 'text', (c) => c.unique())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('run_at', t.millis, (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', t.millis)
      .addColumn('last_error', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('updated_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['queue', 'status', 'run_at']).execute();
  },
};
