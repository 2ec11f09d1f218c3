import type { Kysely } from 'kysely';
import type {
  AccountRestriction,
  ChannelHealth,
  ChannelHealthPort,
  TemplateContent,
  TemplatePort,
  TemplateRecord,
} from '../../core/ports/business-account.port.ts';
import type { ChannelHealthRow, Database, WhatsAppTemplateRow } from '../database.ts';

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function toTemplate(row: WhatsAppTemplateRow): TemplateRecord {
  const content = JSON.parse(row.components) as TemplateContent;
  return {
    channelId: row.channel_id,
    name: row.name,
    language: row.language,
    providerId: opt(row.provider_id),
    category: row.category,
    status: row.status,
    reason: opt(row.reason),
    body: content.body,
    buttons: content.buttons ?? [],
    ...(content.header ? { header: content.header } : {}),
    ...(content.footer !== undefined ? { footer: content.footer } : {}),
    ...(content.bodyExamples ? { bodyExamples: content.bodyExamples } : {}),
    statusAt: Number(row.status_at),
    categoryAt: Number(row.category_at),
    updatedAt: Number(row.updated_at),
  };
}

function toTemplateRow(r: TemplateRecord): WhatsAppTemplateRow {
  const content: TemplateContent = {
    body: r.body,
    buttons: r.buttons,
    ...(r.header ? { header: r.header } : {}),
    ...(r.footer !== undefined ? { footer: r.footer } : {}),
    ...(r.bodyExamples ? { bodyExamples: r.bodyExamples } : {}),
  };
  return {
    channel_id: r.channelId,
    name: r.name,
    language: r.language,
    provider_id: r.providerId ?? null,
    category: r.category,
    status: r.status,
    reason: r.reason ?? null,
    components: JSON.stringify(content),
    status_at: r.statusAt,
    category_at: r.categoryAt,
    updated_at: r.updatedAt,
  };
}

function toHealth(row: ChannelHealthRow): ChannelHealth {
  const num = (v: number | null) => (v === null ? undefined : Number(v));
  return {
    channelId: row.channel_id,
    qualityRating: opt(row.quality_rating),
    qualityEvent: opt(row.quality_event),
    messagingLimit: opt(row.messaging_limit),
    qualityAt: num(row.quality_at),
    capability: row.capability ? (JSON.parse(row.capability) as Record<string, string | number>) : undefined,
    capabilityAt: num(row.capability_at),
    accountEvent: opt(row.account_event),
    violationType: opt(row.violation_type),
    banState: opt(row.ban_state),
    restrictions: row.restrictions ? (JSON.parse(row.restrictions) as AccountRestriction[]) : [],
    accountAt: num(row.account_at),
    updatedAt: Number(row.updated_at),
  };
}

function toHealthRow(h: ChannelHealth): ChannelHealthRow {
  return {
    channel_id: h.channelId,
    quality_rating: h.qualityRating ?? null,
    quality_event: h.qualityEvent ?? null,
    messaging_limit: h.messagingLimit ?? null,
    quality_at: h.qualityAt ?? null,
    capability: h.capability ? JSON.stringify(h.capability) : null,
    capability_at: h.capabilityAt ?? null,
    account_event: h.accountEvent ?? null,
    violation_type: h.violationType ?? null,
    ban_state: h.banState ?? null,
    restrictions: h.restrictions.length > 0 ? JSON.stringify(h.restrictions) : null,
    account_at: h.accountAt ?? null,
    updated_at: h.updatedAt,
  };
}

/** Templates of the WhatsApp channels (whatsapp_templates, migration 019). */
export class TemplateStore implements TemplatePort {
  constructor(private readonly db: Kysely<Database>) {}

  async list(channelId: string): Promise<TemplateRecord[]> {
    const rows = await this.db
      .selectFrom('whatsapp_templates')
      .selectAll()
      .where('channel_id', '=', channelId)
      .orderBy('name')
      .orderBy('language')
      .execute();
    return rows.map(toTemplate);
  }

  async get(channelId: string, name: string, language: string): Promise<TemplateRecord | undefined> {
    const row = await this.db
      .selectFrom('whatsapp_templates')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('name', '=', name)
      .where('language', '=', language)
      .executeTakeFirst();
    return row && toTemplate(row);
  }

  async put(record: TemplateRecord): Promise<void> {
    const row = toTemplateRow(record);
    const { channel_id: _c, name: _n, language: _l, ...rest } = row;
    await this.db
      .insertInto('whatsapp_templates')
      .values(row)
      .onConflict((oc) => oc.columns(['channel_id', 'name', 'language']).doUpdateSet(rest))
      .execute();
  }

  async removeName(channelId: string, name: string): Promise<number> {
    const result = await this.db
      .deleteFrom('whatsapp_templates')
      .where('channel_id', '=', channelId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async removeOthers(channelId: string, keep: readonly { name: string; language: string }[]): Promise<number> {
    const wanted = new Set(keep.map((k) => `${k.name}\u0000${k.language}`));
    const rows = await this.db
      .selectFrom('whatsapp_templates')
      .select(['name', 'language'])
      .where('channel_id', '=', channelId)
      .execute();
    let removed = 0;
    for (const row of rows) {
      if (wanted.has(`${row.name}\u0000${row.language}`)) continue;
      const result = await this.db
        .deleteFrom('whatsapp_templates')
        .where('channel_id', '=', channelId)
        .where('name', '=', row.name)
        .where('language', '=', row.language)
        .executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    return removed;
  }
}

/** Account health of the WhatsApp channels (channel_health, migration 019). */
export class ChannelHealthStore implements ChannelHealthPort {
  constructor(private readonly db: Kysely<Database>) {}

  async get(channelId: string): Promise<ChannelHealth | undefined> {
    const row = await this.db
      .selectFrom('channel_health')
      .selectAll()
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return row && toHealth(row);
  }

  async list(): Promise<ChannelHealth[]> {
    const rows = await this.db.selectFrom('channel_health').selectAll().orderBy('channel_id').execute();
    return rows.map(toHealth);
  }

  async put(health: ChannelHealth): Promise<void> {
    const row = toHealthRow(health);
    const { channel_id: _c, ...rest } = row;
    await this.db
      .insertInto('channel_health')
      .values(row)
      .onConflict((oc) => oc.column('channel_id').doUpdateSet(rest))
      .execute();
  }
}
