import type { Kysely } from 'kysely';
import type { ChannelRow, ConversationRow, Database, MediaRow, MessageRow } from '../database.ts';
import type { SubjectRightsPort } from '../ports/compliance.port.ts';

/** Reads everything stored for one contact (subject access and portability), shared by both dialects. */
export class SubjectRightsStore implements SubjectRightsPort {
  constructor(private readonly db: Kysely<Database>) {}

  channel(id: string): Promise<Pick<ChannelRow, 'id' | 'kind' | 'inbox_id'> | undefined> {
    return this.db.selectFrom('channels').select(['id', 'kind', 'inbox_id']).where('id', '=', id).executeTakeFirst();
  }

  async labelPrefix(inboxId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('inboxes').select('label_prefix').where('id', '=', inboxId).executeTakeFirst();
    return row?.label_prefix;
  }

  conversationsOfContact(contactId: string): Promise<ConversationRow[]> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('contact_id', '=', contactId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  findConversation(id: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  messagesOfConversation(conversationId: string): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  mediaOfConversation(conversationId: string): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  findMessage(id: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateMessageBody(id: string, bodyEnc: Uint8Array, updatedAt: number): Promise<void> {
    await this.db
      .updateTable('messages')
      .set({ body_enc: bodyEnc, updated_at: updatedAt })
      .where('id', '=', id)
      .execute();
  }

  async staffNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'display_name'])
      .where('id', 'in', [...ids])
      .execute();
    return new Map(rows.map((r) => [r.id, r.display_name]));
  }
}
