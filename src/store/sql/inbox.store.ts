import { sql, type Kysely } from 'kysely';
import { CHANNEL_SECRET_FIELDS } from '../../channels/registry.ts';
import type { ChannelConfig, Inbox } from '../../config/config.ts';
import type { ChannelRecord, InboxRecord, InboxSettingsDocument } from '../../core/ports/model.ts';
import type { Database } from '../database.ts';
import { channelEnabledFlag, inboxSettingsText, toChannel, toInbox } from './records.ts';
import { onPostgres } from './dialect.ts';

/** The non-secret part of a channel's configuration, as stored in `channels.settings`. */
export function publicChannelSettings(channel: ChannelConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(channel).filter(
      ([k]) => !CHANNEL_SECRET_FIELDS.has(k) && !['id', 'kind', 'inbox', 'enabled'].includes(k),
    ),
  );
}

/** Key of the PostgreSQL advisory lock held while the configuration is mirrored (any constant; 'sparsam' + 1). */
const SYNC_LOCK_KEY = 0x73706172_01;

/** Inboxes and channels as rows. Channels declared in the config file are mirrored here (without secrets). */
export class InboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Mirrors the configured inboxes and channels into the database: inserts new ones, updates settings of existing
   * ones, and keeps `next_seq` and a channel's kill-switch state (`enabled`) as they are. `effective` holds the
   * settings of inboxes whose settings an admin changed (configuration merged with the change): written
   * instead of the configured values, so that other running instances never read the settings without the change.
   *
   * Idempotent and safe when several instances start at the same instant on one database: every row is written
   * with one upsert (INSERT … ON CONFLICT (id) DO UPDATE), never "look, then insert", so a second instance updates
   * the row the first one just inserted instead of failing on the primary key. On PostgreSQL the whole sync also
   * holds a transaction-scoped advisory lock, so that instances whose configurations list rows in a different order
   * (a roll-out) run one after the other instead of deadlocking; SQLite has one writer at a time anyway.
   */
  async syncConfigured(
    inboxes: readonly Inbox[],
    channels: readonly ChannelConfig[],
    now: number,
    effective: ReadonlyMap<string, InboxSettingsDocument> = new Map(),
  ): Promise<void> {
    const postgres = onPostgres(this.db);
    await this.db.transaction().execute(async (tx) => {
      if (postgres) await sql`select pg_advisory_xact_lock(${SYNC_LOCK_KEY})`.execute(tx);
      for (const inbox of inboxes) {
        const settings = inboxSettingsText(
          effective.get(inbox.id) ?? {
            retention: inbox.retention,
            media: inbox.media,
            notice: inbox.notice ?? null,
            stopKeywords: inbox.stopKeywords,
            automation: inbox.automation ?? null,
            marketing: inbox.marketing,
            team: inbox.team ?? null,
            csat: inbox.csat,
          },
        );
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
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet({ label_prefix: inbox.labelPrefix, language: inbox.language, settings, updated_at: now }),
          )
          .execute();
      }
      for (const channel of channels) {
        const settings = JSON.stringify(publicChannelSettings(channel));
        await tx
          .insertInto('channels')
          .values({
            id: channel.id,
            kind: channel.kind,
            inbox_id: channel.inbox,
            enabled: channelEnabledFlag(channel.enabled),
            settings,
            secrets_enc: null,
            source: 'config',
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({ kind: channel.kind, inbox_id: channel.inbox, settings, updated_at: now }),
          )
          .execute();
      }
    });
  }

  async listInboxes(): Promise<InboxRecord[]> {
    return (await this.db.selectFrom('inboxes').selectAll().orderBy('id').execute()).map(toInbox);
  }
  async findInbox(id: string): Promise<InboxRecord | undefined> {
    const row = await this.db.selectFrom('inboxes').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInbox(row);
  }
  async listChannels(): Promise<ChannelRecord[]> {
    return (await this.db.selectFrom('channels').selectAll().orderBy('id').execute()).map(toChannel);
  }
  async findChannel(id: string): Promise<ChannelRecord | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toChannel(row);
  }
  /**
   * Whether a channel is enabled (kill switch), read fresh for every call: each answer comes from a query that began
   * after the call. Calls that arrive while a query runs share the next one (a burst of webhooks waits for one query
   * at a time, not one per turn of the event loop).
   */
  isChannelEnabled(id: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#enabledAsks.push({ id, resolve, reject });
      if (!this.#enabledReading && this.#enabledAsks.length === 1) {
        this.#enabledReading = true;
        setImmediate(() => void this.#answerEnabled());
      }
    });
  }

  readonly #enabledAsks: { id: string; resolve: (enabled: boolean) => void; reject: (error: unknown) => void }[] = [];
  #enabledReading = false;

  async #answerEnabled(): Promise<void> {
    const asks = this.#enabledAsks.splice(0);
    try {
      const rows = await this.db
        .selectFrom('channels')
        .select(['id', 'enabled'])
        .where('id', 'in', [...new Set(asks.map((a) => a.id))])
        .execute();
      const enabled = new Set(rows.filter((r) => r.enabled === 1).map((r) => r.id));
      for (const a of asks) a.resolve(enabled.has(a.id));
    } catch (error) {
      for (const a of asks) a.reject(error);
    } finally {
      // The calls that came in meanwhile get a query of their own, begun now.
      if (this.#enabledAsks.length > 0) setImmediate(() => void this.#answerEnabled());
      else this.#enabledReading = false;
    }
  }

  async setChannelEnabled(id: string, enabled: boolean, now: number): Promise<void> {
    await this.db
      .updateTable('channels')
      .set({ enabled: channelEnabledFlag(enabled), updated_at: now })
      .where('id', '=', id)
      .execute();
  }
}
