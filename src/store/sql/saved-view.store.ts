import type { Kysely } from 'kysely';
import type { SavedViewPort, SavedViewRecord } from '../../core/ports/saved-view.port.ts';
import type { Database, SavedViewRow } from '../database.ts';

function toRecord(row: SavedViewRow): SavedViewRecord {
  return {
    ...row,
    view: row.view as SavedViewRecord['view'],
    sort: row.sort === 'priority' ? 'priority' : 'activity',
    created_at: Number(row.created_at),
  };
}

/** {@link SavedViewPort} over Kysely, shared by SQLite and PostgreSQL. */
export class SavedViewStore implements SavedViewPort {
  constructor(private readonly db: Kysely<Database>) {}

  async listForUser(userId: string): Promise<SavedViewRecord[]> {
    const rows = await this.db
      .selectFrom('saved_views')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async insert(row: SavedViewRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('saved_views')
      .values(row)
      .onConflict((oc) => oc.columns(['user_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('saved_views')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
