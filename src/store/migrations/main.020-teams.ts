import { sql } from 'kysely';
import type { SparsamMigration } from './migration.ts';

/**
 * Teams: inbox memberships of staff (many to many, with the round-robin position of auto-assignment), the inboxes an
 * API token is limited to, agents' availability, and @mentions in internal notes (ids only; the note stays sealed).
 *
 * Upgrade default: every agent that exists when this runs becomes a member of every inbox that exists, so that a
 * running installation keeps working exactly as before (every agent saw every inbox); admins see every inbox anyway.
 * From then on admins choose the inboxes of each agent, and new agents get the inboxes chosen at invitation.
 */
export const teams: SparsamMigration = {
  name: '020-teams',
  async up(db, t) {
    await db.schema
      .createTable('inbox_members')
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('last_assigned_at', t.millis)
      .addPrimaryKeyConstraint('inbox_members_pk', ['inbox_id', 'user_id'])
      .execute();
    await db.schema.createIndex('inbox_members_user').on('inbox_members').column('user_id').execute();
    await db.schema
      .createTable('api_token_inboxes')
      .addColumn('token_id', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('api_token_inboxes_pk', ['token_id', 'inbox_id'])
      .execute();
    await db.schema
      .createTable('user_presence')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', t.millis)
      .addColumn('last_active_at', t.millis)
      .addColumn('changed_at', t.millis, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mentions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('inbox_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('author_id', 'text')
      .addColumn('created_at', t.millis, (c) => c.notNull())
      .addColumn('read_at', t.millis)
      .execute();
    await db.schema.createIndex('mentions_user').on('mentions').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('mentions_conversation').on('mentions').column('conversation_id').execute();
    // Nothing changes for a running installation: existing agents keep seeing every existing inbox.
    await sql`INSERT INTO inbox_members (inbox_id, user_id, created_at, last_assigned_at)
      SELECT inboxes.id, users.id, users.created_at, NULL FROM inboxes CROSS JOIN users WHERE users.role = 'agent'`.execute(
      db,
    );
  },
};
