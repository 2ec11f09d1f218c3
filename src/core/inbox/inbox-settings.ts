import type { CacheSignals } from '../../shared/cache-signals.ts';
import type { Clock } from '../../shared/clock.ts';
import type { InboxRecord } from '../ports/model.ts';
import type { AutomationSettings, MarketingKeywords } from './automation.ts';
import type { InboxSettings, InboxSettingsPort } from './inbox.ports.ts';

/**
 * An inbox's effective settings read from `inboxes.settings` (the configuration file's values with the admin's
 * changes from the UI applied), cached for a few seconds: a webhook batch reads them once per message. A change in
 * the UI publishes an 'inbox.settings' cache signal that drops the entry on every instance at once; while signals
 * may be missed (`signals.live` false) nothing is served from the cache, and `ttlMs` bounds the age of any entry.
 */
export class CachedInboxSettings implements InboxSettingsPort {
  readonly #cache = new Map<string, { at: number; value: InboxSettings | undefined }>();
  /** Bumped on every drop: a read that began before it is not cached after it. */
  #generation = 0;

  constructor(
    private readonly rows: { findInbox(id: string): Promise<InboxRecord | undefined> },
    private readonly clock: Clock,
    private readonly ttlMs = 3000,
    private readonly signals?: CacheSignals,
  ) {
    signals?.subscribe((signal) => {
      if (signal.type !== 'inbox.settings') return;
      this.#generation++;
      this.#cache.delete(signal.inboxId);
    });
    signals?.onResync(() => {
      this.#generation++;
      this.#cache.clear();
    });
  }

  async get(inboxId: string): Promise<InboxSettings | undefined> {
    const now = this.clock.now().getTime();
    const hit = this.#cache.get(inboxId);
    const live = this.signals?.live ?? true;
    if (live && hit && now - hit.at >= 0 && now - hit.at < this.ttlMs) return hit.value;
    const generation = this.#generation;
    const row = await this.rows.findInbox(inboxId);
    const value = row ? settingsOf(row) : undefined;
    if (live && generation === this.#generation) this.#cache.set(inboxId, { at: now, value });
    return value;
  }
}

/** Reads an inbox's settings document, filling sparsam's defaults for anything missing. */
export function settingsOf(row: InboxRecord): InboxSettings {
  const raw = row.settings as Partial<{
    retention: Partial<InboxSettings['retention']>;
    media: InboxSettings['media'];
    notice: { de?: string; en?: string } | null;
    stopKeywords: string[];
    automation: AutomationSettings | null;
    marketing: Partial<MarketingKeywords> | null;
    team: string | null;
    csat: { enabled?: boolean } | null;
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
    team: raw.team || row.id,
    csat: { enabled: raw.csat?.enabled === true },
  };
}
