import type { Kysely } from 'kysely';
import type { CsatSurvey, CsatSurveyWrites } from '../../core/ports/csat.port.ts';
import type { CsatSurveyRow, Database } from '../database.ts';

const toSurvey = (r: CsatSurveyRow): CsatSurvey => ({
  id: r.id,
  conversationId: r.conversation_id,
  contactId: r.contact_id,
  channelId: r.channel_id,
  channelKind: r.channel_kind,
  inboxId: r.inbox_id,
  agentId: r.agent_id,
  sentAt: Number(r.sent_at),
});

/** Kysely implementation of {@link CsatSurveyWrites} over `csat_surveys`, shared by SQLite and PostgreSQL. */
export class CsatSurveyStore implements CsatSurveyWrites {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(s: CsatSurvey): Promise<void> {
    await this.db
      .insertInto('csat_surveys')
      .values({
        id: s.id,
        conversation_id: s.conversationId,
        contact_id: s.contactId,
        channel_id: s.channelId,
        channel_kind: s.channelKind,
        inbox_id: s.inboxId,
        agent_id: s.agentId,
        sent_at: s.sentAt,
      })
      .execute();
  }

  async take(id: string, to: { channelId: string; contactId: string }): Promise<CsatSurvey | undefined> {
    const row = await this.db
      .selectFrom('csat_surveys')
      .selectAll()
      .where('id', '=', id)
      .where('channel_id', '=', to.channelId)
      .where('contact_id', '=', to.contactId)
      .executeTakeFirst();
    if (!row) return undefined;
    // The delete decides: of two answers racing for the same question only one removes the row.
    const gone = await this.db.deleteFrom('csat_surveys').where('id', '=', id).executeTakeFirst();
    return Number(gone.numDeletedRows) === 1 ? toSurvey(row) : undefined;
  }

  async deleteSentBefore(cutoff: number): Promise<number> {
    const gone = await this.db.deleteFrom('csat_surveys').where('sent_at', '<', cutoff).executeTakeFirst();
    return Number(gone.numDeletedRows);
  }
}
