import type { Kysely } from 'kysely';
import type {
  AssignmentPort,
  MembershipPort,
  MentionPort,
  MentionRecord,
  PresencePort,
  PresenceRecord,
} from '../../core/ports/teams.port.ts';
import type { Database } from '../database.ts';

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** Inbox memberships, token limits, availability, mentions and the assignment queries; both dialects. */
export class TeamsStore implements MembershipPort, PresencePort, MentionPort, AssignmentPort {
  constructor(private readonly db: Kysely<Database>) {}

  // ------------------------------------------------------------------------------------------ memberships

  async inboxIdsOfUser(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('inbox_members').select('inbox_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.inbox_id).sort();
  }

  async listMemberships(): Promise<{ inboxId: string; userId: string }[]> {
    const rows = await this.db.selectFrom('inbox_members').select(['inbox_id', 'user_id']).execute();
    return rows.map((r) => ({ inboxId: r.inbox_id, userId: r.user_id }));
  }

  async membersOfInbox(inboxId: string): Promise<{ userId: string; lastAssignedAt: number | null }[]> {
    const rows = await this.db
      .selectFrom('inbox_members')
      .select(['user_id', 'last_assigned_at'])
      .where('inbox_id', '=', inboxId)
      .execute();
    return rows.map((r) => ({ userId: r.user_id, lastAssignedAt: num(r.last_assigned_at) }));
  }

  setInboxesOfUser(
    userId: string,
    inboxIds: readonly string[],
    at: number,
  ): Promise<{ added: string[]; removed: string[] }> {
    return this.db.transaction().execute(async (tx) => {
      const current = new Set(
        (await tx.selectFrom('inbox_members').select('inbox_id').where('user_id', '=', userId).execute()).map(
          (r) => r.inbox_id,
        ),
      );
      const wanted = new Set(inboxIds);
      const added = [...wanted].filter((id) => !current.has(id)).sort();
      const removed = [...current].filter((id) => !wanted.has(id)).sort();
      if (removed.length > 0) {
        await tx.deleteFrom('inbox_members').where('user_id', '=', userId).where('inbox_id', 'in', removed).execute();
      }
      if (added.length > 0) {
        await tx
          .insertInto('inbox_members')
          .values(added.map((inbox_id) => ({ inbox_id, user_id: userId, created_at: at, last_assigned_at: null })))
          .execute();
      }
      return { added, removed };
    });
  }

  async markAssigned(inboxId: string, userId: string, at: number): Promise<void> {
    await this.db
      .updateTable('inbox_members')
      .set({ last_assigned_at: at })
      .where('inbox_id', '=', inboxId)
      .where('user_id', '=', userId)
      .execute();
  }

  async inboxIdsOfToken(tokenId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('api_token_inboxes')
      .select('inbox_id')
      .where('token_id', '=', tokenId)
      .execute();
    return rows.map((r) => r.inbox_id).sort();
  }

  async setInboxesOfToken(tokenId: string, inboxIds: readonly string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('api_token_inboxes').where('token_id', '=', tokenId).execute();
      const unique = [...new Set(inboxIds)];
      if (unique.length > 0) {
        await tx
          .insertInto('api_token_inboxes')
          .values(unique.map((inbox_id) => ({ token_id: tokenId, inbox_id })))
          .execute();
      }
    });
  }

  async listTokenInboxes(): Promise<{ tokenId: string; inboxId: string }[]> {
    const rows = await this.db.selectFrom('api_token_inboxes').select(['token_id', 'inbox_id']).execute();
    return rows.map((r) => ({ tokenId: r.token_id, inboxId: r.inbox_id }));
  }

  // -------------------------------------------------------------------------------------------- presence

  async getPresence(userId: string): Promise<PresenceRecord | undefined> {
    const row = await this.db.selectFrom('user_presence').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && toPresence(row);
  }

  async listPresence(): Promise<PresenceRecord[]> {
    return (await this.db.selectFrom('user_presence').selectAll().execute()).map(toPresence);
  }

  async putPresence(row: PresenceRecord): Promise<void> {
    await this.db
      .insertInto('user_presence')
      .values(row)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({
          status: row.status,
          last_seen_at: row.last_seen_at,
          last_active_at: row.last_active_at,
          changed_at: row.changed_at,
        }),
      )
      .execute();
  }

  // -------------------------------------------------------------------------------------------- mentions

  async insertMentions(rows: readonly MentionRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('mentions')
      .values([...rows])
      .execute();
  }

  async listMentions(userId: string, limit: number): Promise<MentionRecord[]> {
    const rows = await this.db
      .selectFrom('mentions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, created_at: Number(r.created_at), read_at: num(r.read_at) }));
  }

  async markMentionsRead(userId: string, ids: readonly string[] | undefined, at: number): Promise<number> {
    if (ids && ids.length === 0) return 0;
    let q = this.db
      .updateTable('mentions')
      .set({ read_at: at })
      .where('user_id', '=', userId)
      .where('read_at', 'is', null);
    if (ids) q = q.where('id', 'in', [...ids]);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // ------------------------------------------------------------------------------------------ assignment

  async unassignedOpen(inboxId: string, limit: number): Promise<{ id: string; inboxId: string }[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .select(['id', 'inbox_id'])
      .where('inbox_id', '=', inboxId)
      .where('state', '=', 'open')
      .where('assignee_id', 'is', null)
      .orderBy('last_activity_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, inboxId: r.inbox_id }));
  }

  async openCountsByAssignee(inboxId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('conversations')
      .select(['assignee_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('inbox_id', '=', inboxId)
      .where('state', '=', 'open')
      .where('assignee_id', 'is not', null)
      .groupBy('assignee_id')
      .execute();
    return new Map(rows.map((r) => [r.assignee_id!, Number(r.n)]));
  }

  async assignIfUnassigned(conversationId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('conversations')
      .set({ assignee_id: userId })
      .where('id', '=', conversationId)
      .where('state', '=', 'open')
      .where('assignee_id', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async unassignOpen(inboxId: string, userId: string): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('conversations')
        .select('id')
        .where('inbox_id', '=', inboxId)
        .where('state', '=', 'open')
        .where('assignee_id', '=', userId)
        .execute();
      const ids = rows.map((r) => r.id);
      if (ids.length > 0) {
        await tx
          .updateTable('conversations')
          .set({ assignee_id: null })
          .where('id', 'in', ids)
          .where('assignee_id', '=', userId)
          .execute();
      }
      return ids;
    });
  }
}

function toPresence(row: {
  user_id: string;
  status: 'online' | 'away' | 'offline';
  last_seen_at: number | string | null;
  last_active_at: number | string | null;
  changed_at: number | string;
}): PresenceRecord {
  return {
    user_id: row.user_id,
    status: row.status,
    last_seen_at: num(row.last_seen_at),
    last_active_at: num(row.last_active_at),
    changed_at: Number(row.changed_at),
  };
}
