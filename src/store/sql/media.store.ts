import type { MediaRecord } from '../../core/ports/model.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import type { MediaPort } from '../../core/ports/media.port.ts';

/** Kysely implementation of {@link MediaPort}, shared by SQLite and PostgreSQL. */
export class MediaStore implements MediaPort {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: MediaRecord): Promise<void> {
    await this.db.insertInto('media').values(row).execute();
  }
  findById(id: string): Promise<MediaRecord | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async update(id: string, patch: Partial<Omit<MediaRecord, 'id'>>): Promise<void> {
    await this.db.updateTable('media').set(patch).where('id', '=', id).execute();
  }
  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('media').where('id', '=', id).execute();
  }
  async describe(ids: readonly string[]): Promise<Pick<MediaRecord, 'id' | 'mime_type' | 'size' | 'state'>[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('media')
      .select(['id', 'mime_type', 'size', 'state'])
      .where('id', 'in', [...ids])
      .execute();
  }
  async countByState(conversationId: string, state: MediaRecord['state']): Promise<number> {
    const row = await this.db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
