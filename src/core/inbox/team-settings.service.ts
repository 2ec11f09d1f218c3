import { defaultNotice, type NoticeOrganisation } from './notices.ts';
import { AppError } from '../../shared/app-error.ts';
import type { CacheSignals } from '../../shared/cache-signals.ts';
import type { Clock } from '../../shared/clock.ts';
import type { InboxRecord, InboxSettingsDocument } from '../ports/model.ts';
import type { WebPort } from '../ports/web.port.ts';
import {
  automationFormOf,
  automationFromForm,
  changedAutomationForm,
  type AutomationForm,
  type AutomationFormInput,
} from './automation-form.ts';
import type { AutomationSettings } from './automation.ts';

/** The privacy settings of an inbox an admin may change in the UI (the YAML-declared values are the defaults). */
export interface InboxPrivacySettings {
  retention: {
    consentTimeoutHours: number;
    autoCloseAfterDays: number;
    eraseAfterCloseDays: number;
    auditRetentionDays: number;
  };
  media: 'strip' | 'reject' | 'allow';
  notice: { de?: string; en?: string } | null;
  stopKeywords: string[];
  /** Greeting/away message and marketing keywords from the configuration, carried through unchanged. */
  automation?: unknown;
  marketing?: unknown;
  /** The team that works the inbox, for the reports; null = the inbox is its own team. */
  team: string | null;
  /** The satisfaction question after staff closed a conversation. */
  csat: { enabled: boolean };
}

export type InboxPrivacyOverride = Partial<{
  retention: Partial<InboxPrivacySettings['retention']>;
  media: InboxPrivacySettings['media'];
  notice: { de?: string | null; en?: string | null };
  /** The automated messages as the admin saved them (replaces the configuration file's `automation`). */
  automation: AutomationForm;
  /** null returns to the configured team. */
  team: string | null;
  csat: { enabled: boolean };
}>;

/** A change an admin submits: the override's fields, with the automated messages as a partial change. */
export type InboxSettingsInput = Omit<InboxPrivacyOverride, 'automation'> & { automation?: AutomationFormInput };

export interface InboxDefaults {
  id: string;
  /** The inbox's language: a single configured automation text is shown as this language's text. */
  language?: string;
  retention: InboxPrivacySettings['retention'];
  media: InboxPrivacySettings['media'];
  notice?: { de?: string; en?: string } | undefined;
  stopKeywords: readonly string[];
  automation?: unknown;
  marketing?: unknown;
  team?: string | undefined;
  csat?: { enabled: boolean } | undefined;
}

export interface InboxSettingsView {
  id: string;
  labelPrefix: string;
  language: string;
  settings: InboxPrivacySettings;
  defaults: InboxPrivacySettings;
  overridden: boolean;
  /** Greeting and away message as the admin screen edits them (switched-off messages keep their texts). */
  automation: AutomationForm;
  /** sparsam's own privacy notice for this inbox in each language, sent while the inbox has no text of its own. */
  defaultNotice: { de: string; en: string };
}

interface InboxRows {
  listInboxes(): Promise<InboxRecord[]>;
}

const overrideKey = (inboxId: string) => `inbox-override:${inboxId}`;
const MAX_NOTICE = 1024; // WhatsApp interactive body limit

function defaultsOf(d: InboxDefaults): InboxPrivacySettings {
  return {
    retention: { ...d.retention },
    media: d.media,
    notice: d.notice ? { ...d.notice } : null,
    stopKeywords: [...d.stopKeywords],
    automation: d.automation ?? null,
    marketing: d.marketing ?? null,
    team: d.team ?? null,
    csat: { enabled: d.csat?.enabled === true },
  };
}

function merge(base: InboxPrivacySettings, o: InboxPrivacyOverride): InboxPrivacySettings {
  const notice: { de?: string; en?: string } = { ...(base.notice ?? {}) };
  for (const lang of ['de', 'en'] as const) {
    const v = o.notice?.[lang];
    if (v === null) delete notice[lang];
    else if (typeof v === 'string') notice[lang] = v;
  }
  return {
    retention: { ...base.retention, ...(o.retention ?? {}) },
    media: o.media ?? base.media,
    notice: Object.keys(notice).length > 0 ? notice : null,
    stopKeywords: base.stopKeywords,
    automation: o.automation ? automationFromForm(o.automation) : (base.automation ?? null),
    marketing: base.marketing ?? null,
    team: o.team !== undefined ? (o.team ?? base.team) : base.team,
    csat: o.csat ? { enabled: o.csat.enabled } : base.csat,
  };
}

/** The settings document stored for an inbox's effective privacy settings. */
const documentOf = (settings: InboxPrivacySettings): InboxSettingsDocument => ({ ...settings });

const languageOf = (language: string | undefined): 'de' | 'en' => (language === 'en' ? 'en' : 'de');

/**
 * The effective settings (configured defaults with the admin's stored override applied) of every configured inbox
 * that has an override, as written to `inboxes.settings`. Mirroring the configuration file at start writes
 * these instead of the bare defaults, so that another instance never reads settings without the admin's changes
 * (a shorter retention or a laxer media policy) while this one starts.
 */
export async function effectiveInboxSettings(
  web: Pick<WebPort, 'getStructuredSetting'>,
  defaults: readonly InboxDefaults[],
): Promise<Map<string, InboxSettingsDocument>> {
  const out = new Map<string, InboxSettingsDocument>();
  for (const d of defaults) {
    const override = (await web.getStructuredSetting(overrideKey(d.id))) as InboxPrivacyOverride | undefined;
    if (override) out.set(d.id, documentOf(merge(defaultsOf(d), override)));
  }
  return out;
}

/**
 * Inbox privacy settings changed in the admin UI. The override is kept apart (settings table) and the effective
 * result written to `inboxes.settings`, which the consent gate and the retention sweeper read; on start
 * {@link applyOverrides} re-applies them after the configuration file was mirrored. Every write publishes an
 * 'inbox.settings' cache signal, so that the cached settings of every instance are read again at once.
 */
export class TeamSettingsService {
  constructor(
    private readonly web: WebPort,
    private readonly inboxes: InboxRows,
    private readonly defaults: readonly InboxDefaults[],
    private readonly clock: Clock,
    private readonly audit?: {
      append(e: {
        actor: string;
        action: string;
        targetType?: string;
        targetId?: string;
        details?: Record<string, string | number | boolean | null>;
      }): Promise<unknown>;
    },
    private readonly signals?: CacheSignals,
    /** Names the organisation in the default privacy notice shown to the admin. */
    private readonly organisation: NoticeOrganisation = { name: 'sparsam', contact: '' },
  ) {}

  private async override(inboxId: string): Promise<InboxPrivacyOverride | undefined> {
    return (await this.web.getStructuredSetting(overrideKey(inboxId))) as InboxPrivacyOverride | undefined;
  }

  private defaultsFor(inboxId: string): InboxPrivacySettings | undefined {
    const d = this.defaults.find((x) => x.id === inboxId);
    return d ? defaultsOf(d) : undefined;
  }

  async applyOverrides(): Promise<void> {
    const now = this.clock.now().getTime();
    for (const d of this.defaults) {
      const o = await this.override(d.id);
      if (o) await this.web.setInboxSettings(d.id, documentOf(merge(defaultsOf(d), o)), now);
      // Mirroring the configuration wrote the defaults for a moment: other instances read the settings again.
      await this.signals?.publish({ type: 'inbox.settings', inboxId: d.id });
    }
  }

  async list(): Promise<InboxSettingsView[]> {
    const rows = await this.inboxes.listInboxes();
    const out: InboxSettingsView[] = [];
    for (const row of rows) {
      const stored = row.settings as unknown as Partial<InboxPrivacySettings> & InboxPrivacySettings;
      // Settings written before the team and the satisfaction question existed: their defaults.
      const settings: InboxPrivacySettings = {
        ...stored,
        team: stored.team ?? null,
        csat: { enabled: stored.csat?.enabled === true },
      };
      const defaults = this.defaultsFor(row.id) ?? settings;
      const override = await this.override(row.id);
      out.push({
        id: row.id,
        labelPrefix: row.label_prefix,
        language: row.language,
        settings,
        defaults,
        overridden: override !== undefined,
        defaultNotice: {
          de: defaultNotice({ ...settings, language: 'de' }, this.organisation),
          en: defaultNotice({ ...settings, language: 'en' }, this.organisation),
        },
        automation:
          override?.automation ??
          automationFormOf(
            (settings.automation ?? undefined) as AutomationSettings | undefined,
            languageOf(row.language),
          ),
      });
    }
    return out;
  }

  /** Validates and stores an override, then writes the effective settings. `reset` returns to the defaults. */
  async update(inboxId: string, input: InboxSettingsInput | 'reset', actor: string): Promise<InboxSettingsView> {
    const base = this.defaultsFor(inboxId);
    if (!base) throw new AppError('NOT_FOUND', 'no such inbox');
    const now = this.clock.now().getTime();
    let next: InboxPrivacyOverride = {};
    if (input !== 'reset') {
      next = { ...((await this.override(inboxId)) ?? {}) };
      if (input.retention) {
        const r = input.retention;
        const checks: [keyof InboxPrivacySettings['retention'], number, number][] = [
          ['consentTimeoutHours', 0, 24 * 30],
          ['autoCloseAfterDays', 0, 3650],
          ['eraseAfterCloseDays', 0, 3650],
          ['auditRetentionDays', 1, 3650 * 3],
        ];
        for (const [key, min, max] of checks) {
          const v = r[key];
          if (v === undefined) continue;
          if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
            throw new AppError('VALIDATION', `${key} must be a number from ${min} to ${max}`, { field: key });
          }
        }
        next.retention = { ...(next.retention ?? {}), ...r };
      }
      if (input.media !== undefined) {
        if (!['strip', 'reject', 'allow'].includes(input.media)) {
          throw new AppError('VALIDATION', 'media must be strip, reject or allow', { field: 'media' });
        }
        next.media = input.media;
      }
      if (input.notice) {
        for (const lang of ['de', 'en'] as const) {
          const v = input.notice[lang];
          if (typeof v === 'string' && (v.trim().length < 20 || v.length > MAX_NOTICE)) {
            throw new AppError('VALIDATION', `the notice text has 20-${MAX_NOTICE} characters`, {
              field: `notice.${lang}`,
            });
          }
        }
        next.notice = { ...(next.notice ?? {}), ...input.notice };
      }
      if (input.team !== undefined) {
        const team = typeof input.team === 'string' ? input.team.trim() : input.team;
        if (team !== null && (typeof team !== 'string' || team.length === 0 || team.length > 60)) {
          throw new AppError('VALIDATION', 'the team name has 1-60 characters', { field: 'team' });
        }
        next.team = team;
      }
      if (input.csat !== undefined) {
        if (typeof input.csat?.enabled !== 'boolean') {
          throw new AppError('VALIDATION', 'csat.enabled must be true or false', { field: 'csat.enabled' });
        }
        next.csat = { enabled: input.csat.enabled };
      }
      if (input.automation) {
        const language = languageOf(this.defaults.find((x) => x.id === inboxId)?.language);
        const current =
          next.automation ??
          automationFormOf((base.automation ?? undefined) as AutomationSettings | undefined, language);
        next.automation = changedAutomationForm(current, input.automation);
      }
    }
    const effective = merge(base, next);
    await this.web.putStructuredSetting(overrideKey(inboxId), input === 'reset' ? undefined : next, now);
    await this.web.setInboxSettings(inboxId, documentOf(effective), now);
    await this.signals?.publish({ type: 'inbox.settings', inboxId });
    await this.audit?.append({
      actor,
      action: 'inbox.settings-changed',
      targetType: 'inbox',
      targetId: inboxId,
      details: {
        media: effective.media,
        eraseAfterCloseDays: effective.retention.eraseAfterCloseDays,
        consentTimeoutHours: effective.retention.consentTimeoutHours,
        autoCloseAfterDays: effective.retention.autoCloseAfterDays,
        // Content-free summary of the automated messages: switches, zone and counts, never the texts.
        ...automationSummary(effective.automation as AutomationSettings | null | undefined),
        automationChanged: input !== 'reset' && input.automation !== undefined,
        csat: effective.csat.enabled,
        teamChanged: input !== 'reset' && input.team !== undefined,
        reset: input === 'reset',
      },
    });
    const view = (await this.list()).find((v) => v.id === inboxId);
    return view!;
  }
}

function automationSummary(a: AutomationSettings | null | undefined): Record<string, string | number | boolean | null> {
  return {
    greeting: a?.greeting !== undefined,
    awayMessage: a?.away !== undefined,
    awayTimeZone: a?.away?.timeZone ?? null,
    awayCooldownHours: a?.away?.cooldownHours ?? null,
    awayHolidays: a?.away?.holidays?.length ?? 0,
    awayOpenDays: a?.away ? Object.values(a.away.hours).filter((h) => (h?.length ?? 0) > 0).length : 0,
  };
}
