import type { Kysely } from 'kysely';
import type { ConversationRecord, MessageRecord } from '../../core/ports/model.ts';
import type { TeamPort } from '../../core/ports/team.port.ts';
import type { Database } from '../database.ts';
import { countDaily, messageMetric } from './daily-counts.ts';
import { conversationPatch, labelsOf, messageRow, toConversation } from './records.ts';

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
  async knownLabels(inboxIds?: readonly string[]): Promise<string[]> {
    let query = this.db.selectFrom('conversations').select('labels').where('labels', '!=', '[]');
    if (inboxIds) query = query.where('inbox_id', 'in', [...inboxIds]);
    const rows = await query.execute();
    const all = new Set<string>();
    for (const r of rows) for (const l of labelsOf(r.labels)) all.add(l);
    return [...all].sort((a, b) => a.localeCompare(b));
  }
}
