import { DAY_MS, type Clock } from '../../shared/clock.ts';
import type { InboxEventBus } from '../inbox/inbox-events.ts';
import type { CompliancePort, SubjectRightsPort } from '../ports/compliance.port.ts';
import type { AuditFilter, AuditLog, AuditRecord } from '../privacy/audit/audit-log.ts';
import type { ConsentService } from '../privacy/consent/consent.service.ts';
import type { ErasureService } from '../privacy/erasure/erasure.service.ts';
import type { KeyService } from '../privacy/keys/key.service.ts';
import type { ContactDirectory } from '../privacy/pseudonym/contact-directory.ts';
import { auditCsv } from './audit-csv.ts';
import { BreachRegister } from './breach.service.ts';
import { renderHtml, renderMarkdown, type ComplianceDocument } from './document.ts';
import { ChannelKillSwitch } from './kill-switch.service.ts';
import type { ChannelKindFactsLookup } from '../channel/channel-kind-facts.ts';
import { privacyNotice, recordOfProcessing, type ProcessingContext, type RopaInbox, type RopaWebhook } from './ropa.ts';
import { checkPeriod, computeStatistics, STATS_AUDIT_ACTIONS, type InboxStatistics } from './statistics.ts';
import { SubjectRightsService } from './subject-rights.service.ts';

/** Installation-wide setting written by the web inbox: every staff member must use TOTP. */
const REQUIRE_2FA_SETTING = 'security.require2fa';

export interface ComplianceDeps {
  port: CompliancePort;
  subjectRightsPort: SubjectRightsPort;
  contacts: ContactDirectory;
  consent: ConsentService;
  audit: AuditLog;
  erasure: ErasureService;
  keys: KeyService;
  clock: Clock;
  organisation: { name: string; contact: string; address?: string | undefined; dpo?: string | undefined };
  /** From the configuration: is the key store a separate database, is the master key from the environment? */
  keyStoreUrl: string | undefined;
  masterKeyFromEnv: boolean;
  /** The facts of each channel kind (display name, processors), from the channel modules. */
  channelKinds: ChannelKindFactsLookup;
  /** Outgoing webhook endpoints, listed as further recipients in the record of processing. */
  webhooks?: (() => Promise<RopaWebhook[]>) | undefined;
  /** Live inbox events (erasures are announced so that open screens drop the conversations). */
  events?: Pick<InboxEventBus, 'publish'> | undefined;
}

export type DocumentKind = 'ropa' | 'notice';
export type DocumentFormat = 'md' | 'html' | 'pdf';

/**
 * The data protection officer's tools: data subject requests, reveals, the kill switch, the breach register, the
 * audit viewer and the documents generated from the live configuration.
 */
export class ComplianceTools {
  readonly subjectRights: SubjectRightsService;
  readonly killSwitch: ChannelKillSwitch;
  readonly breaches: BreachRegister;

  constructor(private readonly deps: ComplianceDeps) {
    this.subjectRights = new SubjectRightsService({
      port: deps.subjectRightsPort,
      contacts: deps.contacts,
      consent: deps.consent,
      audit: deps.audit,
      erasure: deps.erasure,
      keys: deps.keys,
      clock: deps.clock,
      organisation: deps.organisation,
      events: deps.events,
    });
    this.killSwitch = new ChannelKillSwitch(deps.port, deps.audit, deps.clock);
    this.breaches = new BreachRegister(deps.port, deps.audit, deps.clock, deps.keys.pepper);
  }

  /** The live configuration: inboxes with their effective settings, channels with their kill-switch state. */
  async processingContext(): Promise<ProcessingContext> {
    const [inboxes, channels, require2fa, webhooks] = await Promise.all([
      this.deps.port.listInboxes(),
      this.deps.port.listChannels(),
      this.deps.port.getStructuredSetting(REQUIRE_2FA_SETTING),
      this.deps.webhooks?.(),
    ]);
    return {
      webhooks,
      organisation: this.deps.organisation,
      inboxes: inboxes.map((row) => {
        const s = row.settings as Partial<RopaInbox>;
        return {
          id: row.id,
          labelPrefix: row.label_prefix,
          language: row.language,
          retention: {
            consentTimeoutHours: s.retention?.consentTimeoutHours ?? 24,
            autoCloseAfterDays: s.retention?.autoCloseAfterDays ?? 14,
            eraseAfterCloseDays: s.retention?.eraseAfterCloseDays ?? 0,
            auditRetentionDays: s.retention?.auditRetentionDays ?? 365 * 3,
          },
          media: s.media ?? 'strip',
          stopKeywords: s.stopKeywords ?? [],
        };
      }),
      channels: channels.map((c) => ({ id: c.id, kind: c.kind, inboxId: c.inbox_id, enabled: c.enabled })),
      measures: {
        require2fa: require2fa === true,
        keyStore: this.deps.keyStoreUrl ? 'separate-database' : 'separate-file',
        masterKey: this.deps.masterKeyFromEnv ? 'environment' : 'file',
      },
      generatedAt: this.deps.clock.now(),
    };
  }

  async document(kind: DocumentKind, lang: 'de' | 'en'): Promise<ComplianceDocument> {
    const ctx = await this.processingContext();
    return kind === 'ropa'
      ? recordOfProcessing(ctx, lang, this.deps.channelKinds)
      : privacyNotice(ctx, lang, this.deps.channelKinds);
  }

  /** The document rendered: Markdown, HTML, or an A4 PDF (typeset by PDFKit, no browser needed). */
  async renderDocument(
    kind: DocumentKind,
    lang: 'de' | 'en',
    format: DocumentFormat,
  ): Promise<{ contentType: string; body: string | Buffer }> {
    const doc = await this.document(kind, lang);
    if (format === 'md') return { contentType: 'text/markdown; charset=utf-8', body: renderMarkdown(doc) };
    if (format === 'html') return { contentType: 'text/html; charset=utf-8', body: renderHtml(doc) };
    // PDFKit (about 20 MiB) is loaded with the first PDF asked for, not at every start.
    const { renderPdf } = await import('./pdf.ts');
    return { contentType: 'application/pdf', body: await renderPdf(doc) };
  }

  /** Audit entries, newest first (at most 1000 per page). */
  auditEntries(filter: AuditFilter): Promise<AuditRecord[]> {
    return this.deps.audit.list(filter);
  }

  verifyAudit() {
    return this.deps.audit.verify();
  }

  /** All entries matching the filter (paged internally, newest first) as CSV; at most `max` rows. */
  async auditCsv(
    filter: Omit<AuditFilter, 'limit' | 'offset'>,
    max = 100_000,
  ): Promise<{ text: string; rows: number }> {
    const rows: AuditRecord[] = [];
    for (let offset = 0; rows.length < max; offset += 1000) {
      const page = await this.deps.audit.list({ ...filter, limit: 1000, offset });
      rows.push(...page);
      if (page.length < 1000) break;
    }
    const kept = rows.slice(0, max);
    return { text: auditCsv(kept), rows: kept.length };
  }

  /** Content-free inbox statistics for [from, to); by default the 30 days up to now. */
  async statistics(fromMs?: number, toMs?: number): Promise<InboxStatistics> {
    const to = toMs ?? this.deps.clock.now().getTime();
    const from = fromMs ?? to - 30 * DAY_MS;
    checkPeriod(from, to);
    return computeStatistics(await this.deps.port.activity(from, to, STATS_AUDIT_ACTIONS), from, to);
  }

  /** Records who exported the audit log (content-free). */
  async auditExported(actor: string, rows: number): Promise<void> {
    await this.deps.audit.append({ actor, action: 'audit.exported', details: { format: 'csv', rows } });
  }
}
