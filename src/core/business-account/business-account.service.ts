import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type {
  BusinessAccountApi,
  BusinessProfile,
  BusinessProfilePatch,
  PhoneNumberInfo,
  SampleFile,
  TemplateDraft,
} from '../channel/business-account-api.port.ts';
import { ChannelApiError, ChannelNetworkError } from '../channel/channel-errors.ts';
import type { AuditPort, ChannelLookup, TemplateSpec } from '../inbox/inbox.ports.ts';
import type {
  AccountEvent,
  ChannelHealth,
  ChannelHealthPort,
  TemplateContent,
  TemplatePort,
  TemplateRecord,
} from '../ports/business-account.port.ts';
import { checkTemplateDraft } from './template-rules.ts';

export interface BusinessAccountDeps {
  templates: TemplatePort;
  health: ChannelHealthPort;
  channels: ChannelLookup;
  audit: AuditPort;
  clock: Clock;
  /** Templates declared in the configuration file for a channel (shown as CONFIGURED until a sync finds them). */
  configured: (channelId: string) => readonly TemplateSpec[];
  /** Where the privacy notice is published (organisation.privacyNoticeUrl), if configured. */
  privacyNoticeUrl?: string | undefined;
}

/** Reasons an account needs an admin's attention, content-free keys. */
export type HealthReason = 'quality_low' | 'flagged' | 'restricted' | 'banned' | 'violation' | 'template_paused';

/** Quality events and states Meta sends that mean trouble (docs/channels.md, "Account health"). */
const BAD_QUALITY = new Set(['YELLOW', 'RED']);
const BAD_QUALITY_EVENTS = new Set(['FLAGGED', 'DOWNGRADE']);
const BAN_STATES = new Set(['SCHEDULE_FOR_DISABLE', 'DISABLE']);
const VIOLATION_EVENTS = new Set(['ACCOUNT_VIOLATION', 'DISABLED_UPDATE', 'ACCOUNT_RESTRICTION']);

/** Why a channel's health needs attention (empty: all well). Restrictions that ended are left out. */
export function healthReasons(health: ChannelHealth | undefined, now: number): HealthReason[] {
  if (!health) return [];
  const reasons: HealthReason[] = [];
  if (health.qualityRating && BAD_QUALITY.has(health.qualityRating)) reasons.push('quality_low');
  if (health.qualityEvent && BAD_QUALITY_EVENTS.has(health.qualityEvent)) reasons.push('flagged');
  const active = health.restrictions.filter((r) => !r.expiresAt || !(Date.parse(r.expiresAt) < now));
  if (active.length > 0) reasons.push('restricted');
  if (health.banState && BAN_STATES.has(health.banState)) reasons.push('banned');
  if (health.accountEvent && VIOLATION_EVENTS.has(health.accountEvent) && health.violationType) {
    reasons.push('violation');
  }
  return reasons;
}

/** A channel whose health needs attention. */
export interface HealthAlert {
  channelId: string;
  reasons: HealthReason[];
}

/** A template for the screens: the record, or a configured one not (yet) found at Meta. */
export type TemplateView = Omit<TemplateRecord, 'channelId' | 'statusAt' | 'categoryAt' | 'updatedAt'> & {
  updatedAt: number | null;
};

/**
 * The WhatsApp Business Account of a channel, managed from sparsam: templates (synced from Meta, created and
 * deleted from the admin screen, status and category following the account webhooks, also for templates not synced
 * yet), the account's health (quality, limits, violations, restrictions, bans: content-free, audited when it
 * changes), the phone number's info and the business profile. Account webhooks carry `entry.time`; a change older
 * than what is stored changes nothing, so redeliveries in any order have exactly one effect.
 */
export class BusinessAccountService {
  constructor(private readonly deps: BusinessAccountDeps) {}

  #now(): number {
    return this.deps.clock.now().getTime();
  }

  /**
   * The time a local change (sync, create) stands for, as a webhook's `entry.time` would say it: whole seconds, so
   * that Meta's answer in the same second (APPROVED a moment after the create) still applies.
   */
  #localAt(): number {
    return Math.floor(this.#now() / 1000) * 1000;
  }

  #api(channelId: string): BusinessAccountApi {
    const channel = this.deps.channels.get(channelId);
    if (!channel) throw new AppError('NOT_FOUND', 'no such channel');
    if (!channel.businessAccount) {
      throw new AppError(
        'CONFLICT',
        'this channel has no WhatsApp Business Account management (WhatsApp channels only)',
        {
          reason: 'not_whatsapp_cloud',
        },
      );
    }
    return channel.businessAccount;
  }

  #accountApi(channelId: string): BusinessAccountApi {
    const api = this.#api(channelId);
    if (!api.hasBusinessAccount) {
      throw new AppError('VALIDATION', 'set businessAccountId on the channel to manage its templates', {
        field: 'businessAccountId',
      });
    }
    return api;
  }

  /** @throws AppError NOT_FOUND for an unknown channel, CONFLICT for one without account management. */
  assertManaged(channelId: string): void {
    this.#api(channelId);
  }

  /** Whether the channel offers account management (a Cloud API channel). */
  manages(channelId: string): boolean {
    return this.deps.channels.get(channelId)?.businessAccount !== undefined;
  }

  /** Whether the channel's templates can be synced and created (its `businessAccountId` is set). */
  hasBusinessAccount(channelId: string): boolean {
    return this.deps.channels.get(channelId)?.businessAccount?.hasBusinessAccount === true;
  }

  // ---------------------------------------------------------------------------------------------- templates

  /** Stored templates, then configured ones not stored, by name and language. */
  async listTemplates(channelId: string): Promise<TemplateView[]> {
    const stored = await this.deps.templates.list(channelId);
    const views: TemplateView[] = stored.map(({ channelId: _c, statusAt: _s, categoryAt: _k, ...rest }) => rest);
    for (const spec of this.deps.configured(channelId)) {
      if (views.some((v) => v.name === spec.name && v.language === spec.language)) continue;
      views.push({
        name: spec.name,
        language: spec.language,
        category: spec.category,
        status: 'CONFIGURED',
        reason: undefined,
        providerId: undefined,
        body: spec.body,
        buttons: spec.buttons ?? [],
        ...(spec.header ? { header: spec.header } : {}),
        ...(spec.footer ? { footer: spec.footer } : {}),
        updatedAt: null,
      });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
  }

  /**
   * The templates agents may send: approved ones (stored), and configured ones that Meta has not told otherwise
   * (a configured template later rejected, paused or disabled at Meta is not offered).
   */
  async sendableTemplates(channelId: string): Promise<TemplateSpec[]> {
    const stored = await this.deps.templates.list(channelId);
    const specs: TemplateSpec[] = stored
      .filter((t) => t.status === 'APPROVED')
      .map((t) => ({
        name: t.name,
        language: t.language,
        category: t.category,
        body: t.body,
        buttons: t.buttons,
        ...(t.header ? { header: t.header } : {}),
        ...(t.footer ? { footer: t.footer } : {}),
      }));
    for (const spec of this.deps.configured(channelId)) {
      if (stored.some((t) => t.name === spec.name && t.language === spec.language)) continue;
      specs.push({ ...spec });
    }
    return specs;
  }

  /** Fetches every template of the account from Meta (all pages) and stores them; those gone at Meta go here too. */
  async syncTemplates(channelId: string, actor: string): Promise<TemplateView[]> {
    const api = this.#accountApi(channelId);
    const remote = await provider(() => api.listTemplates());
    const now = this.#now();
    for (const t of remote) {
      const existing = await this.deps.templates.get(channelId, t.name, t.language);
      await this.deps.templates.put({
        channelId,
        name: t.name,
        language: t.language,
        providerId: t.providerId ?? existing?.providerId,
        category: t.category,
        status: t.status,
        reason: t.reason,
        body: t.body,
        buttons: t.buttons,
        ...(t.header ? { header: t.header } : {}),
        ...(t.footer ? { footer: t.footer } : {}),
        ...(t.bodyExamples ? { bodyExamples: t.bodyExamples } : {}),
        // The list is the state now: later webhooks (time after now) still apply, older ones do not.
        statusAt: Math.max(existing?.statusAt ?? 0, this.#localAt()),
        categoryAt: Math.max(existing?.categoryAt ?? 0, this.#localAt()),
        updatedAt: now,
      });
    }
    const removed = await this.deps.templates.removeOthers(channelId, remote);
    await this.deps.audit.append({
      actor,
      action: 'whatsapp.templates_synced',
      targetType: 'channel',
      targetId: channelId,
      details: { templates: remote.length, removed },
    });
    return this.listTemplates(channelId);
  }

  /** Checks a draft against Meta's limits, submits it, and stores it as Meta answered (usually PENDING). */
  async createTemplate(channelId: string, draft: TemplateDraft, actor: string, sample?: SampleFile) {
    checkTemplateDraft(draft);
    if (draft.header && draft.header.format !== 'TEXT' && !sample) {
      throw new AppError('VALIDATION', 'a media header needs a sample file for the review', { field: 'headerSample' });
    }
    const api = this.#accountApi(channelId);
    const existing = await this.deps.templates.get(channelId, draft.name, draft.language);
    if (existing) {
      throw new AppError('CONFLICT', 'a template of this name and language exists', { field: 'name' });
    }
    const answer = await provider(() => api.createTemplate(draft, sample));
    const now = this.#now();
    const record: TemplateRecord = {
      channelId,
      name: draft.name,
      language: draft.language,
      providerId: answer.providerId,
      category: answer.category || draft.category,
      status: answer.status || 'PENDING',
      reason: undefined,
      body: draft.body,
      bodyExamples: draft.bodyExamples ?? [],
      buttons: draft.buttons,
      ...(draft.header ? { header: draft.header } : {}),
      ...(draft.footer ? { footer: draft.footer } : {}),
      statusAt: this.#localAt(),
      categoryAt: this.#localAt(),
      updatedAt: now,
    };
    await this.deps.templates.put(record);
    await this.deps.audit.append({
      actor,
      action: 'whatsapp.template_created',
      targetType: 'channel',
      targetId: channelId,
      details: { name: draft.name, language: draft.language, category: record.category, status: record.status },
    });
    return record;
  }

  /** Deletes a template name (every language) at Meta, then here. */
  async deleteTemplate(channelId: string, name: string, actor: string): Promise<void> {
    const api = this.#accountApi(channelId);
    await provider(() => api.deleteTemplate(name));
    const removed = await this.deps.templates.removeName(channelId, name);
    await this.deps.audit.append({
      actor,
      action: 'whatsapp.template_deleted',
      targetType: 'channel',
      targetId: channelId,
      details: { name, languages: removed },
    });
  }

  // ---------------------------------------------------------------------------------------------- webhooks

  /**
   * Applies one account-level webhook change. Idempotent and order-safe: a change whose `at` is older than the
   * stored state's, or that changes nothing, has no effect (and no audit entry). Answers whether it changed state.
   */
  async apply(event: AccountEvent): Promise<boolean> {
    switch (event.type) {
      case 'template_status':
      case 'template_category':
        return this.#applyTemplate(event);
      default:
        return this.#applyHealth(event);
    }
  }

  async #applyTemplate(event: Extract<AccountEvent, { type: 'template_status' | 'template_category' }>) {
    const { channelId, name, language, at } = event;
    const existing = await this.deps.templates.get(channelId, name, language);
    const now = this.#now();
    // Not synced yet: a row from what the webhook tells (the content comes with the next sync).
    const base: TemplateRecord = existing ?? {
      channelId,
      name,
      language,
      providerId: event.providerId,
      category: event.type === 'template_category' ? event.category : (event.category ?? 'UTILITY'),
      status: event.type === 'template_status' ? event.status : 'PENDING',
      reason: undefined,
      body: '',
      buttons: [],
      statusAt: 0,
      categoryAt: 0,
      updatedAt: now,
    };
    const next: TemplateRecord = { ...base, providerId: base.providerId ?? event.providerId };
    let changed = existing === undefined;
    if (event.type === 'template_status') {
      if (at >= base.statusAt && (base.status !== event.status || base.reason !== event.reason || !existing)) {
        next.status = event.status;
        next.reason = event.reason;
        next.statusAt = at;
        if (event.category && at >= base.categoryAt) next.category = event.category;
        changed = true;
      }
    } else if (at >= base.categoryAt && (base.category !== event.category || !existing)) {
      next.category = event.category;
      next.categoryAt = at;
      changed = true;
    }
    if (!changed) return false;
    next.updatedAt = now;
    await this.deps.templates.put(next);
    await this.deps.audit.append({
      actor: `webhook:${channelId}`,
      action: event.type === 'template_status' ? 'whatsapp.template_status' : 'whatsapp.template_category',
      targetType: 'channel',
      targetId: channelId,
      details: {
        name,
        language,
        status: next.status,
        category: next.category,
        known: existing !== undefined,
      },
    });
    return true;
  }

  async #applyHealth(event: Extract<AccountEvent, { type: 'quality' | 'capability' | 'account' }>) {
    const { channelId, at } = event;
    const now = this.#now();
    const existing = await this.deps.health.get(channelId);
    const next: ChannelHealth = existing
      ? { ...existing, restrictions: [...existing.restrictions] }
      : {
          channelId,
          qualityRating: undefined,
          qualityEvent: undefined,
          messagingLimit: undefined,
          qualityAt: undefined,
          capability: undefined,
          capabilityAt: undefined,
          accountEvent: undefined,
          violationType: undefined,
          banState: undefined,
          restrictions: [],
          accountAt: undefined,
          updatedAt: now,
        };
    const newer = (stored: number | undefined) => stored === undefined || at >= stored;
    let details: Record<string, string | number | boolean | null>;
    if (event.type === 'quality') {
      if (!newer(existing?.qualityAt)) return false;
      next.qualityEvent = event.event;
      if (event.messagingLimit) next.messagingLimit = event.messagingLimit;
      // FLAGGED means the quality rating went to low; UNFLAGGED back to medium or high (Meta's reference).
      if (event.event === 'FLAGGED') next.qualityRating = 'RED';
      else if (event.event === 'UNFLAGGED' && next.qualityRating === 'RED') next.qualityRating = 'GREEN';
      next.qualityAt = at;
      details = { event: event.event ?? null, messagingLimit: next.messagingLimit ?? null };
    } else if (event.type === 'capability') {
      if (!newer(existing?.capabilityAt)) return false;
      next.capability = { ...event.limits };
      next.capabilityAt = at;
      details = Object.fromEntries(Object.entries(event.limits).slice(0, 8));
    } else {
      if (!newer(existing?.accountAt)) return false;
      next.accountEvent = event.event;
      if (event.violationType !== undefined || event.event === 'ACCOUNT_VIOLATION') {
        next.violationType = event.violationType;
      }
      if (event.banState !== undefined) next.banState = event.banState;
      if (event.event === 'ACCOUNT_RESTRICTION' || event.restrictions.length > 0) {
        next.restrictions = event.restrictions.map((r) => ({ ...r }));
      }
      next.accountAt = at;
      details = {
        event: event.event ?? null,
        violationType: event.violationType ?? null,
        banState: event.banState ?? null,
        restrictions: event.restrictions.length,
      };
    }
    if (existing && sameHealth(existing, next)) return false;
    next.updatedAt = now;
    await this.deps.health.put(next);
    const reasons = healthReasons(next, now);
    await this.deps.audit.append({
      actor: `webhook:${channelId}`,
      action: 'whatsapp.account_health',
      targetType: 'channel',
      targetId: channelId,
      details: { kind: event.type, ...details, needsAttention: reasons.length > 0 },
    });
    return true;
  }

  // ---------------------------------------------------------------------------------------------- health

  async health(channelId: string): Promise<{ health: ChannelHealth | undefined; reasons: HealthReason[] }> {
    const health = await this.deps.health.get(channelId);
    return { health, reasons: healthReasons(health, this.#now()) };
  }

  /** Every channel whose health needs attention (the admins' banner, `sparsam doctor`). */
  async alerts(): Promise<HealthAlert[]> {
    const now = this.#now();
    return (await this.deps.health.list())
      .map((h) => ({ channelId: h.channelId, reasons: healthReasons(h, now) }))
      .filter((a) => a.reasons.length > 0 && this.deps.channels.get(a.channelId) !== undefined);
  }

  /** What Meta knows of the phone number now; the quality rating is remembered with the health. */
  async phoneNumber(channelId: string): Promise<PhoneNumberInfo> {
    const info = await provider(() => this.#api(channelId).phoneNumberInfo());
    const existing = await this.deps.health.get(channelId);
    if (
      info.qualityRating &&
      (existing?.qualityRating !== info.qualityRating ||
        (info.messagingLimit && existing.messagingLimit !== info.messagingLimit))
    ) {
      const now = this.#now();
      await this.deps.health.put({
        ...(existing ?? {
          channelId,
          qualityEvent: undefined,
          qualityAt: undefined,
          capability: undefined,
          capabilityAt: undefined,
          accountEvent: undefined,
          violationType: undefined,
          banState: undefined,
          restrictions: [],
          accountAt: undefined,
        }),
        channelId,
        qualityRating: info.qualityRating,
        messagingLimit: info.messagingLimit ?? existing?.messagingLimit,
        updatedAt: now,
      });
    }
    return info;
  }

  // ---------------------------------------------------------------------------------------------- profile

  async profile(channelId: string): Promise<BusinessProfile> {
    return provider(() => this.#api(channelId).getProfile());
  }

  get privacyNoticeUrl(): string | undefined {
    return this.deps.privacyNoticeUrl;
  }

  async updateProfile(
    channelId: string,
    patch: BusinessProfilePatch,
    actor: string,
    photo?: SampleFile,
  ): Promise<BusinessProfile> {
    const api = this.#api(channelId);
    await provider(() => api.updateProfile(patch, photo));
    await this.deps.audit.append({
      actor,
      action: 'whatsapp.profile_updated',
      targetType: 'channel',
      targetId: channelId,
      details: { fields: [...Object.keys(patch), ...(photo ? ['photo'] : [])].join(',') },
    });
    return this.profile(channelId);
  }

  /**
   * Puts the link to the published privacy notice into the profile: as a website while one of the two is free,
   * else at the end of the description (512 characters). Nothing changes when the link is already there.
   */
  async addPrivacyLink(channelId: string, actor: string, url = this.deps.privacyNoticeUrl) {
    if (!url) {
      throw new AppError('VALIDATION', 'no privacy notice address: set organisation.privacyNoticeUrl or give one', {
        field: 'url',
      });
    }
    const profile = await this.profile(channelId);
    if (profile.websites.includes(url) || profile.description.includes(url) || profile.about.includes(url)) {
      return { profile, placed: 'already' as const };
    }
    let patch: BusinessProfilePatch;
    let placed: 'websites' | 'description';
    if (profile.websites.length < 2) {
      patch = { websites: [...profile.websites, url] };
      placed = 'websites';
    } else {
      const line = `Datenschutz / Privacy: ${url}`;
      const description = profile.description ? `${profile.description}\n${line}` : line;
      if ([...description].length > 512) {
        throw new AppError('VALIDATION', 'no room left: both websites are taken and the description is too long', {
          field: 'description',
        });
      }
      patch = { description };
      placed = 'description';
    }
    return { profile: await this.updateProfile(channelId, patch, actor), placed };
  }
}

function sameHealth(a: ChannelHealth, b: ChannelHealth): boolean {
  const strip = ({ updatedAt: _u, qualityAt: _q, capabilityAt: _c, accountAt: _a, ...rest }: ChannelHealth) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Provider refusals and outages as AppErrors the screens can show (the provider's reason, content-free). */
async function provider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ChannelApiError) {
      if (error.providerCode === 'invalid_request') {
        throw new AppError('VALIDATION', error.reason, { reason: error.reason });
      }
      throw new AppError('PROVIDER_REFUSED', `the provider refused: ${error.reason}`, {
        providerCode: error.providerCode,
        reason: error.reason,
        httpStatus: error.httpStatus,
      });
    }
    if (error instanceof ChannelNetworkError) {
      throw new AppError('PROVIDER_REFUSED', error.message, { providerCode: 'network', reason: error.message });
    }
    throw error;
  }
}

/** The content fields of a template (for views). */
export function templateContent(t: TemplateContent): TemplateContent {
  return {
    body: t.body,
    buttons: t.buttons,
    ...(t.header ? { header: t.header } : {}),
    ...(t.footer ? { footer: t.footer } : {}),
    ...(t.bodyExamples ? { bodyExamples: t.bodyExamples } : {}),
  };
}
