import type { Clock } from '../../shared/clock.ts';
import type { InboxRow } from '../../store/database.ts';
import type { AutomationSettings, MarketingKeywords } from './automation.ts';
import type { InboxSettings, InboxSettingsPort } from './inbox.ports.ts';

/**
 * An inbox's effective settings read from `inboxes.settings` (the configuration file's values with the admin's
 * changes from the UI applied), cached for a few seconds: a webhook batch reads them once per message, and a
 * change in the UI reaches every instance within `ttlMs`.
 */
export class CachedInboxSettings implements InboxSettingsPort {
  readonly #cache = new Map<string, { at: number; value: InboxSettings | undefined }>();

  constructor(
    private readonly rows: { findInbox(id: string): Promise<InboxRow | undefined> },
    private readonly clock: Clock,
    private readonly ttlMs = 3000,
  ) {}

  async get(inboxId: string): Promise<InboxSettings | undefined> {
    const now = this.clock.now().getTime();
    const hit = this.#cache.get(inboxId);
    if (hit && now - hit.at >= 0 && now - hit.at < this.ttlMs) return hit.value;
    const row = await this.rows.findInbox(inboxId);
    const value = row ? settingsOf(row) : undefined;
    this.#cache.set(inboxId, { at: now, value });
    return value;
  }
}

/** Parses an inbox row's settings JSON, filling sparsam's defaults for anything missing. */
export function settingsOf(row: InboxRow): InboxSettings {
  const raw = JSON.parse(row.settings) as Partial<{
    retention: Partial<InboxSettings['retention']>;
    media: InboxSettings['media'];
    notice: { de?: string; en?: string } | null;
    stopKeywords: string[];
    automation: AutomationSettings | null;
    marketing: Partial<MarketingKeywords> | null;
  }>;
  return {
    id: row.id,
    labelPrefix: row.label_prefix,
    language: row.language === 'en' ? 'en' : 'de',
    retention: {
      consentTimeoutHours: raw.retention?.consentTimeoutHours ?? 24,
      autoCloseAfterDays: raw.retention?.autoCloseAfterDays ?? 14,
      eraseAfterCloseDays: raw.retention?.eraseAfterCloseDays ?? 0,
    },
    media: raw.media ?? 'strip',
    notice: raw.notice ?? undefined,
    stopKeywords: raw.stopKeywords ?? ['STOP', 'WIDERRUF', 'ABMELDEN'],
    automation: raw.automation ?? undefined,
    marketing: {
      optInKeywords: raw.marketing?.optInKeywords ?? [],
      optOutKeywords: raw.marketing?.optOutKeywords ?? ['NEWS STOP', 'ABBESTELLEN'],
      ...(raw.marketing?.optInReply ? { optInReply: raw.marketing.optInReply } : {}),
      ...(raw.marketing?.optOutReply ? { optOutReply: raw.marketing.optOutReply } : {}),
    },
  };
}
