import type { Kysely } from 'kysely';
import type { ChannelRecord, ConversationRecord, MediaRecord, MessageRecord } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { toConversation, toMessage } from './records.ts';
import type { SubjectRightsPort } from '../../core/ports/compliance.port.ts';

/** Reads everything stored for one contact (subject access and portability), shared by both dialects. */
export class SubjectRightsStore implements SubjectRightsPort {
  constructor(private readonly db: Kysely<Database>) {}

  channel(id: string): Promise<Pick<ChannelRecord, 'id' | 'kind' | 'inbox_id'> | undefined> {
    return this.db.selectFrom('channels').select(['id', 'kind', 'inbox_id']).where('id', '=', id).executeTakeFirst();
  }

  async labelPrefix(inboxId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('inboxes').select('label_prefix').where('id', '=', inboxId).executeTakeFirst();
    return row?.label_prefix;
  }

  async conversationsOfContact(contactId: string): Promise<ConversationRecord[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('contact_id', '=', contactId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toConversation);
  }

  async findConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConversation(row);
  }

  async messagesOfConversation(conversationId: string): Promise<MessageRecord[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toMessage);
  }

  mediaOfConversation(conversationId: string): Promise<MediaRecord[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async findMessage(id: string): Promise<MessageRecord | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
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
