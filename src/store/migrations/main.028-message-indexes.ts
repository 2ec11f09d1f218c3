import type { SparsamMigration } from './migration.ts';

/**
 * Drops `messages_media_idx` (migration 003): no query looks messages up by `media_id` (media rows carry their
 * `message_id`), yet every message, most of them without a file, paid an entry in it, and erasing a conversation
 * deleted one entry per message (bench/privacy-erasure.ts). The table itself is unchanged: a rebuild clustered by
 * conversation (`WITHOUT ROWID`, primary key `(conversation_id, id)`) was measured and rejected, since every
 * secondary index then carries the two 36-character ids instead of an 8-byte rowid and an erasure rewrote about 40 %
 * more pages; time-ordered message ids (`newMessageId`) keep a conversation's rows together instead.
 */
export const messageIndexes: SparsamMigration = {
  name: '028-message-indexes',
  async up(db) {
    await db.schema.dropIndex('messages_media_idx').ifExists().execute();
  },
};
