import type { Kysely } from 'kysely';
import type { ConversationRow, Database, MessageRow } from '../database.ts';
import type { TeamPort } from '../ports/team.port.ts';

/** Team features on conversations (assign, labels, read marks, internal notes), shared by both dialects. */
export class TeamStore implements TeamPort {
  constructor(private readonly db: Kysely<Database>) {}

  findConversation(id: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async updateConversation(
    id: string,
    patch: Partial<Pick<ConversationRow, 'assignee_id' | 'labels' | 'unread'>>,
  ): Promise<void> {
    await this.db.updateTable('conversations').set(patch).where('id', '=', id).execute();
  }
  async insertNote(row: MessageRow): Promise<void> {
    await this.db.insertInto('messages').values(row).execute();
  }
  async knownLabels(): Promise<string[]> {
    const rows = await this.db.selectFrom('conversations').select('labels').where('labels', '!=', '[]').execute();
    const all = new Set<string>();
    for (const r of rows) for (const l of JSON.parse(r.labels) as string[]) all.add(l);
    return [...all].sort((a, b) => a.localeCompare(b));
  }
}
