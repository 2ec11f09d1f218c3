import type { Kysely } from 'kysely';
import type { ConversationRecord, MessageRecord } from '../../core/ports/model.ts';
import type { LabelEntry, TeamPort } from '../../core/ports/team.port.ts';
import type { Database } from '../database.ts';
import { countDaily, messageMetric } from './daily-counts.ts';
import { conversationPatch, labelPattern, labelsOf, messageRow, toConversation } from './records.ts';

/** Team features on conversations (assign, labels, read marks, internal notes), shared by both dialects. */
export class TeamStore implements TeamPort {
  constructor(private readonly db: Kysely<Database>) {}

  async findConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConversation(row);
  }
  async updateConversation(
    id: string,
    patch: Partial<Pick<ConversationRecord, 'assignee_id' | 'labels' | 'unread'>>,
  ): Promise<void> {
    await this.db.updateTable('conversations').set(conversationPatch(patch)).where('id', '=', id).execute();
  }
  async insertNote(row: MessageRecord): Promise<void> {
    await this.db.insertInto('messages').values(messageRow(row)).execute();
    await countDaily(this.db, [{ at: row.created_at, metric: messageMetric(row) }]);
  }
  async labelCatalogue(): Promise<LabelEntry[]> {
    const rows = await this.db.selectFrom('label_catalogue').select(['name', 'color']).execute();
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }
  async insertLabel(entry: LabelEntry, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('label_catalogue')
      .values({ name: entry.name, color: entry.color, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  async updateLabelColor(name: string, color: string | null): Promise<boolean> {
    const r = await this.db.updateTable('label_catalogue').set({ color }).where('name', '=', name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async deleteLabel(name: string): Promise<{ found: boolean; conversations: number }> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('label_catalogue').where('name', '=', name).executeTakeFirst();
      const rows = await trx
        .selectFrom('conversations')
        .select(['id', 'labels'])
        .where('labels', 'like', labelPattern(name))
        .execute();
      let conversations = 0;
      for (const r of rows) {
        const labels = labelsOf(r.labels);
        if (!labels.includes(name)) continue;
        await trx
          .updateTable('conversations')
          .set({ labels: JSON.stringify(labels.filter((l) => l !== name)) })
          .where('id', '=', r.id)
          .execute();
        conversations++;
      }
      return { found: Number(deleted.numDeletedRows) > 0, conversations };
    });
  }
  async conversationsWithLegacyLabels(catalogue: readonly string[]): Promise<{ id: string; labels: string[] }[]> {
    const known = new Set(catalogue);
    const rows = await this.db
      .selectFrom('conversations')
      .select(['id', 'labels'])
      .where('labels', '!=', '[]')
      .where('labels_legacy_enc', 'is', null)
      .execute();
    return rows
      .map((r) => ({ id: r.id, labels: labelsOf(r.labels) }))
      .filter((r) => r.labels.some((l) => !known.has(l)));
  }
  async sealLegacyLabels(id: string, keep: string[], sealed: Uint8Array): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ labels: JSON.stringify(keep), labels_legacy_enc: sealed })
      .where('id', '=', id)
      .execute();
  }
}
