import type { Kysely } from 'kysely';
import { CHANNEL_SECRET_FIELDS } from '../../channels/registry.ts';
import type { ChannelConfig, Inbox } from '../../config/config.ts';
import type { ChannelRow, Database, InboxRow } from '../database.ts';

/** The non-secret part of a channel's configuration, as stored in `channels.settings`. */
export function publicChannelSettings(channel: ChannelConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(channel).filter(
      ([k]) => !CHANNEL_SECRET_FIELDS.has(k) && !['id', 'kind', 'inbox', 'enabled'].includes(k),
    ),
  );
}

/** Inboxes and channels as rows. Channels declared in the config file are mirrored here (without secrets). */
export class InboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Mirrors the configured inboxes and channels into the database: inserts new ones, updates settings of existing
   * ones, and keeps `next_seq` and a channel's kill-switch state (`enabled`) as they are. `effective` holds the
   * settings JSON of inboxes whose settings an admin changed (configuration merged with the change): written
   * instead of the configured values, so that other running instances never read the settings without the change.
   */
  async syncConfigured(
    inboxes: readonly Inbox[],
    channels: readonly ChannelConfig[],
    now: number,
    effective: ReadonlyMap<string, string> = new Map(),
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const inbox of inboxes) {
        const settings =
          effective.get(inbox.id) ??
          JSON.stringify({
            retention: inbox.retention,
            media: inbox.media,
            notice: inbox.notice ?? null,
            stopKeywords: inbox.stopKeywords,
            automation: inbox.automation ?? null,
            marketing: inbox.marketing,
          });
        const existing = await tx.selectFrom('inboxes').select('id').where('id', '=', inbox.id).executeTakeFirst();
        if (existing) {
          await tx
            .updateTable('inboxes')
            .set({ label_prefix: inbox.labelPrefix, language: inbox.language, settings, updated_at: now })
            .where('id', '=', inbox.id)
            .execute();
        } else {
          await tx
            .insertInto('inboxes')
            .values({
              id: inbox.id,
              label_prefix: inbox.labelPrefix,
              language: inbox.language,
              next_seq: 1,
              settings,
              created_at: now,
              updated_at: now,
            })
            .execute();
        }
      }
      for (const channel of channels) {
        const settings = JSON.stringify(publicChannelSettings(channel));
        const existing = await tx.selectFrom('channels').select('id').where('id', '=', channel.id).executeTakeFirst();
        if (existing) {
          await tx
            .updateTable('channels')
            .set({ kind: channel.kind, inbox_id: channel.inbox, settings, updated_at: now })
            .where('id', '=', channel.id)
            .execute();
        } else {
          await tx
            .insertInto('channels')
            .values({
              id: channel.id,
              kind: channel.kind,
              inbox_id: channel.inbox,
              enabled: channel.enabled ? 1 : 0,
              settings,
              secrets_enc: null,
              source: 'config',
              created_at: now,
              updated_at: now,
            })
            .execute();
        }
      }
    });
  }

  listInboxes(): Promise<InboxRow[]> {
    return this.db.selectFrom('inboxes').selectAll().orderBy('id').execute();
  }
  findInbox(id: string): Promise<InboxRow | undefined> {
    return this.db.selectFrom('inboxes').selectAll().where('id', '=', id).executeTakeFirst();
  }
  listChannels(): Promise<ChannelRow[]> {
    return this.db.selectFrom('channels').selectAll().orderBy('id').execute();
  }
  findChannel(id: string): Promise<ChannelRow | undefined> {
    return this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async setChannelEnabled(id: string, enabled: boolean, now: number): Promise<void> {
    await this.db
      .updateTable('channels')
      .set({ enabled: enabled ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .execute();
  }
}
