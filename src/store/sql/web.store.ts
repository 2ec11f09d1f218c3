import type { Kysely } from 'kysely';
import type { InboxSettingsDocument, InvitationRecord, QuickReplyRecord } from '../../core/ports/model.ts';
import type { WebPort } from '../../core/ports/web.port.ts';
import type { Database } from '../database.ts';
import { inboxSettingsText, settingText, settingValueOf } from './records.ts';

/** Quick replies, invitations and installation settings for the browser inbox (migration 005). */
export class WebStore implements WebPort {
  constructor(private readonly db: Kysely<Database>) {}

  listQuickReplies(): Promise<QuickReplyRecord[]> {
    return this.db.selectFrom('quick_replies').selectAll().orderBy('shortcut').execute();
  }
  findQuickReply(id: string): Promise<QuickReplyRecord | undefined> {
    return this.db.selectFrom('quick_replies').selectAll().where('id', '=', id).executeTakeFirst();
  }
  findQuickReplyByShortcut(shortcut: string): Promise<QuickReplyRecord | undefined> {
    return this.db.selectFrom('quick_replies').selectAll().where('shortcut', '=', shortcut).executeTakeFirst();
  }
  async insertQuickReply(row: QuickReplyRecord): Promise<void> {
    await this.db.insertInto('quick_replies').values(row).execute();
  }
  async updateQuickReply(id: string, patch: Partial<Omit<QuickReplyRecord, 'id'>>): Promise<void> {
    await this.db.updateTable('quick_replies').set(patch).where('id', '=', id).execute();
  }
  async deleteQuickReply(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('quick_replies').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async insertInvitation(row: InvitationRecord): Promise<void> {
    await this.db.insertInto('invitations').values(row).execute();
  }
  findInvitationByHash(hash: string): Promise<InvitationRecord | undefined> {
    return this.db.selectFrom('invitations').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }
  listOpenInvitations(now: number): Promise<InvitationRecord[]> {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .execute();
  }
  /** Marks the invitation used unless it was used already; true when this call used it (one-time, race-safe). */
  async useInvitation(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('invitations')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async deleteInvitationsOfUser(userId: string): Promise<void> {
    await this.db.deleteFrom('invitations').where('user_id', '=', userId).execute();
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }
  async listSettings(prefix: string): Promise<{ key: string; value: string }[]> {
    return this.db.selectFrom('settings').select(['key', 'value']).where('key', 'like', `${prefix}%`).execute();
  }
  async putSetting(key: string, value: string, at: number): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
  }
  async getStructuredSetting(key: string): Promise<unknown> {
    return settingValueOf(await this.getSetting(key));
  }
  async putStructuredSetting(key: string, value: unknown, at: number): Promise<void> {
    await this.putSetting(key, settingText(value), at);
  }
  async setInboxSettings(inboxId: string, settings: InboxSettingsDocument, at: number): Promise<void> {
    await this.db
      .updateTable('inboxes')
      .set({ settings: inboxSettingsText(settings), updated_at: at })
      .where('id', '=', inboxId)
      .execute();
  }
}
