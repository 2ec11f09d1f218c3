import type { Kysely } from 'kysely';
import type {
  ConversationFacts,
  NotifiableUser,
  NotificationPort,
  NotificationPrefs,
  PushSubscriptionRecord,
} from '../../core/ports/notification.port.ts';
import type { Database, UserRow } from '../database.ts';

function staffOf(row: Pick<UserRow, 'id' | 'email' | 'role' | 'language' | 'disabled'>): NotifiableUser {
  return { id: row.id, email: row.email, role: row.role, language: row.language, disabled: row.disabled === 1 };
}

function subscriptionOf(row: Database['push_subscriptions']): PushSubscriptionRecord {
  return { ...row, subscription_enc: new Uint8Array(row.subscription_enc) };
}

/** Notification preferences, push subscriptions and the notification settings (migration 021, `settings`). */
export class NotificationStore implements NotificationPort {
  constructor(private readonly db: Kysely<Database>) {}

  async getPrefs(userId: string): Promise<NotificationPrefs | undefined> {
    const row = await this.db
      .selectFrom('notification_prefs')
      .select('prefs')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.prefs) as NotificationPrefs) : undefined;
  }

  async putPrefs(userId: string, prefs: NotificationPrefs, at: number): Promise<void> {
    const text = JSON.stringify(prefs);
    await this.db
      .insertInto('notification_prefs')
      .values({ user_id: userId, prefs: text, updated_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ prefs: text, updated_at: at }))
      .execute();
  }

  async upsertSubscription(row: PushSubscriptionRecord): Promise<void> {
    await this.db
      .insertInto('push_subscriptions')
      .values(row)
      .onConflict((oc) =>
        oc.column('endpoint_hash').doUpdateSet({
          user_id: row.user_id,
          subscription_enc: row.subscription_enc,
          created_at: row.created_at,
          last_used_at: null,
        }),
      )
      .execute();
  }

  async findSubscription(id: string): Promise<PushSubscriptionRecord | undefined> {
    const row = await this.db.selectFrom('push_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? subscriptionOf(row) : undefined;
  }

  async listSubscriptions(userId: string): Promise<PushSubscriptionRecord[]> {
    const rows = await this.db
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map(subscriptionOf);
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('id', '=', id).execute();
  }

  async deleteSubscriptionByEndpoint(userId: string, endpointHash: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('push_subscriptions')
      .where('user_id', '=', userId)
      .where('endpoint_hash', '=', endpointHash)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async touchSubscription(id: string, at: number): Promise<void> {
    await this.db.updateTable('push_subscriptions').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async putSetting(key: string, value: string, at: number): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
  }

  async conversationFacts(conversationId: string): Promise<ConversationFacts | undefined> {
    const row = await this.db
      .selectFrom('conversations as c')
      .innerJoin('inboxes as i', 'i.id', 'c.inbox_id')
      .select(['c.id', 'c.inbox_id', 'c.label_seq', 'c.assignee_id', 'c.state', 'i.label_prefix', 'i.language'])
      .where('c.id', '=', conversationId)
      .executeTakeFirst();
    // Conversations waiting for consent are invisible to staff; erased ones are gone.
    if (!row || row.state === 'pending_consent') return undefined;
    return {
      id: row.id,
      inboxId: row.inbox_id,
      labelPrefix: row.label_prefix,
      inboxLanguage: row.language,
      labelSeq: Number(row.label_seq),
      assigneeId: row.assignee_id,
      state: row.state,
    };
  }

  async messageDirection(messageId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('messages').select('direction').where('id', '=', messageId).executeTakeFirst();
    return row?.direction;
  }

  async listStaff(): Promise<NotifiableUser[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'language', 'disabled'])
      .orderBy('created_at')
      .execute();
    return rows.map(staffOf);
  }

  async findStaff(id: string): Promise<NotifiableUser | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'language', 'disabled'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? staffOf(row) : undefined;
  }
}
