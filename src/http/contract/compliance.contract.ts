import { z } from 'zod';
import { ADMIN_ROLES, IdParams, LangSchema, defineRoute } from './api-route.ts';

export const SubjectBody = z
  .object({
    channelId: z.string().min(1).max(100),
    address: z.string().min(1).max(200).describe('phone number or chat id on that channel'),
  })
  .strict();
export const ExportBody = SubjectBody.extend({
  format: z.enum(['json', 'html']).default('json'),
  lang: LangSchema.default('de'),
  reason: z.string().max(200).describe('the request this export answers, for the audit log (required)'),
}).strict();
export const EraseBody = SubjectBody.extend({ reason: z.string().min(1).max(200) }).strict();
export const NoteCorrectionBody = z.object({ text: z.string().min(1).max(4096) }).strict();
export const RevealBody = z.object({ reason: z.string().max(200).optional() }).strict();
export const KillSwitchBody = z.object({ enabled: z.boolean(), reason: z.string().min(1).max(200) }).strict();
export const DocQuery = z
  .object({ lang: LangSchema.default('de'), format: z.enum(['md', 'html', 'pdf', 'json']).default('md') })
  .strict();
const Time = z.union([z.string().datetime({ offset: true }), z.coerce.number().int().positive()]);
export const AuditQuery = z
  .object({
    action: z
      .string()
      .max(64)
      .optional()
      .describe('an action (consent.grant) or a category without a dot (consent: every consent.* action)'),
    actor: z.string().max(140).optional(),
    targetId: z.string().max(128).optional(),
    from: Time.optional(),
    to: Time.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const AuditCsvQuery = AuditQuery.omit({ limit: true, offset: true });
export const StatsQuery = z.object({ from: Time.optional(), to: Time.optional() }).strict();
const Risk = z.enum(['none', 'risk', 'high']);
export const BreachBody = z
  .object({
    description: z.string().min(3).max(8000).describe('internal staff text; stored sealed'),
    risk: Risk,
    conversationIds: z.array(z.string().max(64)).max(10_000).optional(),
    labels: z.array(z.string().max(60)).max(10_000).optional(),
    discoveredAt: z.string().datetime({ offset: true }),
    notifiedAt: z.string().datetime({ offset: true }).nullable().optional(),
    subjectsNotifiedAt: z.string().datetime({ offset: true }).nullable().optional(),
  })
  .strict();
export const BreachPatch = BreachBody.partial().strict();
export const Paging = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const AuditEntrySchema = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  result: z.string(),
  details: z.record(z.string(), z.unknown()),
  actorName: z.string().nullable().describe('the staff member behind a user:<id> actor, when known'),
  targetName: z.string().nullable().describe('the staff member of a user target, when known'),
});
export const ReceiptSchema = z.object({
  targetType: z.enum(['conversation', 'contact']),
  targetId: z.string(),
  label: z.string().nullable(),
  alreadyErased: z.boolean(),
  counts: z.object({
    conversations: z.number(),
    messages: z.number(),
    media: z.number(),
    consentEvents: z.number(),
    contacts: z.number(),
    keysDestroyed: z.number(),
  }),
  reason: z.string(),
  actor: z.string(),
  at: z.string(),
  auditSeq: z.number(),
});
export const BreachSchema = z.object({
  id: z.string(),
  description: z.string(),
  risk: Risk,
  conversationIds: z.array(z.string()),
  labels: z.array(z.string()),
  discoveredAt: z.string(),
  deadline: z.string().describe('discoveredAt + 72 hours (Art. 33(1) GDPR)'),
  notifiedAt: z.string().nullable(),
  subjectsNotifiedAt: z.string().nullable(),
  remainingMs: z.number().nullable(),
  overdue: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const RevealSchema = z.object({
  conversationId: z.string(),
  label: z.string(),
  channelId: z.string(),
  address: z.string(),
  profileName: z.string().nullable(),
});
export const RevealEntrySchema = z.object({
  kind: z.enum(['reveal', 'export']).describe('reveal of a real address, or a subject access export'),
  actorName: z.string().nullable().describe('the staff member behind a user:<id> actor, when known'),
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  conversationId: z.string().nullable(),
  label: z.string().nullable(),
  reason: z.string().nullable(),
});
export const ComplianceChannelSchema = z.object({
  id: z.string(),
  kind: z.string(),
  inboxId: z.string(),
  enabled: z.boolean(),
});
export const AuditVerdictSchema = z.object({
  ok: z.boolean(),
  checked: z.number(),
  firstBroken: z.object({ seq: z.number(), reason: z.string() }).optional(),
});
export const KillSwitchStateSchema = z.object({
  channelId: z.string(),
  enabled: z.boolean(),
  changed: z.boolean(),
  auditSeq: z.number(),
});

/** Roles of the data protection officer's tools. */
export const DPO_ROLES = ['dpo'] as const;
export const DPO_ADMIN_ROLES = ['dpo', 'admin'] as const;
/** Who may reveal a real address unless the deployment says otherwise. */
export const DEFAULT_REVEAL_ROLES = ['admin', 'dpo'] as const;
const tags = ['compliance'];
const roles = DPO_ADMIN_ROLES;

const document = (url: string, summary: string) =>
  defineRoute({
    method: 'GET',
    url,
    summary,
    tags,
    roles,
    query: DocQuery,
    response: {
      description: 'Markdown, HTML, PDF, or the document model as JSON (title, language, blocks) for previews',
      contentType: 'text/markdown',
    },
    errors: { 415: 'PDF asked for but Chromium is not installed' },
  });

/**
 * The data protection officer's API: subject requests, reveals, documents, kill switch, audit viewer, breach
 * register, statistics.
 */
export const complianceApi = {
  export: defineRoute({
    method: 'POST',
    url: '/api/v1/compliance/dsar/export',
    summary:
      'Art. 15/20: everything stored about one person (JSON bundle with decrypted texts and files, or an HTML summary), for a stated reason; audited and listed to admins',
    tags,
    roles: DPO_ROLES,
    body: ExportBody,
    response: { description: 'the bundle (format json) or the summary (format html)', contentType: 'application/json' },
    errors: { 404: 'sparsam holds nothing for this address on this channel' },
  }),
  erase: defineRoute({
    method: 'POST',
    url: '/api/v1/compliance/dsar/erase',
    summary: 'Art. 17: erase one person (all conversations, messages, files, consent, keys); returns the receipt',
    tags,
    roles: DPO_ROLES,
    body: EraseBody,
    response: { description: 'the erasure receipt', schema: z.object({ receipt: ReceiptSchema }) },
  }),
  correctNote: defineRoute({
    method: 'PUT',
    url: '/api/v1/compliance/notes/:id',
    summary: 'Art. 16: correct the text of an internal note (audited, the text is not logged)',
    tags,
    roles,
    params: IdParams,
    body: NoteCorrectionBody,
    response: { description: 'corrected', schema: z.object({ id: z.string(), conversationId: z.string() }) },
    errors: { 404: 'no such note' },
  }),
  reveal: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/reveal',
    summary: 'The real address behind one conversation, for a stated reason (audited as contact.reveal)',
    tags,
    roles: DEFAULT_REVEAL_ROLES,
    params: IdParams,
    body: RevealBody,
    response: { description: 'the address', schema: RevealSchema },
    errors: { 404: 'no such conversation' },
  }),
  statistics: defineRoute({
    method: 'GET',
    url: '/api/v1/statistics',
    summary:
      'Content-free inbox statistics for a period (default the last 30 days): volumes, states, first response times, consent and erasure counts, per day',
    tags: ['statistics'],
    roles: ['admin', 'dpo'],
    query: StatsQuery,
    response: { description: 'the statistics', contentType: 'application/json' },
  }),
  channels: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/channels',
    summary: 'Channels (id, kind, inbox, on/off) for the subject request form',
    tags,
    roles,
    response: { description: 'the channels', schema: z.object({ items: z.array(ComplianceChannelSchema) }) },
  }),
  reveals: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/reveals',
    summary: 'Reads of personal content so far (reveals of real addresses, subject access exports), newest first',
    tags,
    roles,
    query: Paging,
    response: { description: 'the reveals', schema: z.object({ items: z.array(RevealEntrySchema) }) },
  }),
  ropa: document('/api/v1/compliance/ropa', 'Record of processing activities (Art. 30) from the live configuration'),
  privacyNotice: document('/api/v1/compliance/privacy-notice', 'Privacy notice (Art. 13) from the live configuration'),
  killSwitch: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/kill-switch',
    summary:
      'Switch a channel off (inbound answered with the alternative contact, nothing stored; nothing sent) or on again',
    tags,
    roles: ADMIN_ROLES,
    params: IdParams,
    body: KillSwitchBody,
    response: { description: 'the new state', schema: KillSwitchStateSchema },
    errors: { 404: 'no such channel' },
  }),
  audit: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/audit',
    summary: 'Audit log entries, newest first, filtered',
    tags,
    roles,
    query: AuditQuery,
    response: { description: 'the entries', schema: z.object({ items: z.array(AuditEntrySchema) }) },
  }),
  verifyAudit: defineRoute({
    method: 'POST',
    url: '/api/v1/compliance/audit/verify',
    summary: 'Check the hash chain and MACs of the audit log',
    tags,
    roles,
    response: { description: 'the result', schema: AuditVerdictSchema },
  }),
  auditCsv: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/audit.csv',
    summary: 'Audit log entries as CSV (RFC 4180), filtered; the export is audited',
    tags,
    roles,
    query: AuditCsvQuery,
    response: { description: 'CSV', contentType: 'text/csv' },
  }),
  breaches: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/breaches',
    summary: 'Breach register (Art. 33(5)), newest discovery first, with the 72-hour deadline',
    tags,
    roles,
    query: Paging,
    response: { description: 'the breaches', schema: z.object({ items: z.array(BreachSchema) }) },
  }),
  recordBreach: defineRoute({
    method: 'POST',
    url: '/api/v1/compliance/breaches',
    summary: 'Record a breach',
    tags,
    roles,
    body: BreachBody,
    response: { status: 201, description: 'recorded', schema: z.object({ breach: BreachSchema }) },
  }),
  breach: defineRoute({
    method: 'GET',
    url: '/api/v1/compliance/breaches/:id',
    summary: 'One breach',
    tags,
    roles,
    params: IdParams,
    response: { description: 'the breach', schema: z.object({ breach: BreachSchema }) },
    errors: { 404: 'no such breach' },
  }),
  updateBreach: defineRoute({
    method: 'PATCH',
    url: '/api/v1/compliance/breaches/:id',
    summary: 'Update a breach (e.g. the time the authority was notified)',
    tags,
    roles,
    params: IdParams,
    body: BreachPatch,
    response: { description: 'updated', schema: z.object({ breach: BreachSchema }) },
    errors: { 404: 'no such breach' },
  }),
  removeBreach: defineRoute({
    method: 'DELETE',
    url: '/api/v1/compliance/breaches/:id',
    summary: 'Delete a breach entry recorded by mistake (audited)',
    tags,
    roles,
    params: IdParams,
    response: { status: 204, description: 'deleted' },
    errors: { 404: 'no such breach' },
  }),
} as const;
