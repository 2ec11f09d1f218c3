import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ComplianceTools } from '../../core/compliance/compliance.ts';
import { renderDsarHtml } from '../../core/compliance/dsar-summary.ts';
import type { ComplianceActor } from '../../core/compliance/subject-rights.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { AuditRecord, Role } from '../../core/ports/model.ts';
import type { RouteModule } from '../app.ts';
import { requireRole, type Authenticator } from '../auth/principal.ts';
import type { OpenApiRegistry } from './openapi.ts';

/** Roles of the data protection officer's tools; the reveal roles are configurable when the module is built. */
const DPO: readonly Role[] = ['dpo'];
const DPO_ADMIN: readonly Role[] = ['dpo', 'admin'];
const ADMIN: readonly Role[] = ['admin'];
export const DEFAULT_REVEAL_ROLES: readonly Role[] = ['admin', 'dpo'];
const ADMIN_DPO_STATS: readonly Role[] = ['admin', 'dpo'];

// ------------------------------------------------------------------------------------------------ schemas

const Lang = z.enum(['de', 'en']);
const IdParams = z.object({ id: z.string().min(1).max(100) });

export const SubjectBody = z
  .object({
    channelId: z.string().min(1).max(100),
    address: z.string().min(1).max(200).describe('phone number or chat id on that channel'),
  })
  .strict();
const ExportBody = SubjectBody.extend({
  format: z.enum(['json', 'html']).default('json'),
  lang: Lang.default('de'),
}).strict();
const EraseBody = SubjectBody.extend({ reason: z.string().min(1).max(200) }).strict();
const NoteBody = z.object({ text: z.string().min(1).max(4096) }).strict();
const RevealBody = z.object({ reason: z.string().max(200).optional() }).strict();
const KillSwitchBody = z.object({ enabled: z.boolean(), reason: z.string().min(1).max(200) }).strict();
const DocQuery = z.object({ lang: Lang.default('de'), format: z.enum(['md', 'html', 'pdf']).default('md') }).strict();
const Time = z.union([z.string().datetime({ offset: true }), z.coerce.number().int().positive()]);
const AuditQuery = z
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
const AuditCsvQuery = AuditQuery.omit({ limit: true, offset: true });
const StatsQuery = z.object({ from: Time.optional(), to: Time.optional() }).strict();
const Risk = z.enum(['none', 'risk', 'high']);
const BreachBody = z
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
const BreachPatch = BreachBody.partial().strict();
const Paging = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

const AuditEntrySchema = z.object({
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
const ReceiptSchema = z.object({
  targetType: z.string(),
  targetId: z.string(),
  label: z.string().nullable(),
  alreadyErased: z.boolean(),
  counts: z.record(z.string(), z.number()),
  reason: z.string(),
  actor: z.string(),
  at: z.string(),
  auditSeq: z.number(),
});
const BreachSchema = z.object({
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
const RevealSchema = z.object({
  conversationId: z.string(),
  label: z.string(),
  channelId: z.string(),
  address: z.string(),
  profileName: z.string().nullable(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  // No body at all counts as an empty object; a JSON `null` body is a wrong body, not an empty one.
  const result = schema.safeParse(value === undefined ? {} : value);
  if (!result.success) {
    const fields = result.error.issues.map((i) => [where, ...i.path.map(String)].join('.'));
    throw new AppError('VALIDATION', `the ${where} is not valid: ${result.error.issues[0]?.message ?? 'invalid'}`, {
      fields,
    });
  }
  return result.data;
}

function who(request: FastifyRequest): ComplianceActor {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return { actor: p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`, role: p.role };
}

const millis = (t: string | number | undefined) =>
  t === undefined ? undefined : typeof t === 'number' ? t : Date.parse(t);
const millisOrNull = (t: string | null | undefined) =>
  t === undefined ? undefined : t === null ? null : Date.parse(t);

function auditView(r: AuditRecord, names: ReadonlyMap<string, string> = new Map()) {
  const actorId = r.actor.startsWith('user:') ? r.actor.slice('user:'.length) : null;
  return {
    actorName: actorId ? (names.get(actorId) ?? null) : null,
    targetName: r.target_type === 'user' && r.target_id ? (names.get(r.target_id) ?? null) : null,
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    result: r.result,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

export interface ComplianceRouteDeps {
  compliance: ComplianceTools;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
  /** Who may reveal a real address (default admin and dpo). */
  revealRoles?: readonly Role[];
  /** Staff names by user id, so that the audit screen shows "Anna Schmidt" instead of `user:<uuid>`. */
  staffNames?: () => Promise<ReadonlyMap<string, string>>;
}

function document(docs: OpenApiRegistry, revealRoles: readonly Role[]): void {
  const tags = ['compliance'];
  docs.add({
    method: 'post',
    path: '/api/v1/compliance/dsar/export',
    summary:
      'Art. 15/20: everything stored about one person (JSON bundle with decrypted texts and files, or an HTML summary); audited',
    tags,
    roles: DPO,
    body: ExportBody,
    responses: {
      200: { description: 'the bundle (format json) or the summary (format html)', contentType: 'application/json' },
      404: { description: 'sparsam holds nothing for this address on this channel' },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/compliance/dsar/erase',
    summary: 'Art. 17: erase one person (all conversations, messages, files, consent, keys); returns the receipt',
    tags,
    roles: DPO,
    body: EraseBody,
    responses: { 200: { description: 'the erasure receipt', schema: z.object({ receipt: ReceiptSchema }) } },
  });
  docs.add({
    method: 'put',
    path: '/api/v1/compliance/notes/:id',
    summary: 'Art. 16: correct the text of an internal note (audited, the text is not logged)',
    tags,
    roles: DPO_ADMIN,
    body: NoteBody,
    responses: {
      200: { description: 'corrected', schema: z.object({ id: z.string(), conversationId: z.string() }) },
      404: { description: 'no such note' },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/conversations/:id/reveal',
    summary: 'The real address behind one conversation, for a stated reason (audited as contact.reveal)',
    tags,
    roles: revealRoles,
    body: RevealBody,
    responses: {
      200: { description: 'the address', schema: RevealSchema },
      404: { description: 'no such conversation' },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/statistics',
    summary:
      'Content-free inbox statistics for a period (default the last 30 days): volumes, states, first response times, consent and erasure counts, per day',
    tags: ['statistics'],
    roles: ADMIN_DPO_STATS,
    query: StatsQuery,
    responses: { 200: { description: 'the statistics', contentType: 'application/json' } },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/channels',
    summary: 'Channels (id, kind, inbox, on/off) for the subject request form',
    tags,
    roles: DPO_ADMIN,
    responses: {
      200: {
        description: 'the channels',
        schema: z.object({
          items: z.array(z.object({ id: z.string(), kind: z.string(), inboxId: z.string(), enabled: z.boolean() })),
        }),
      },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/reveals',
    summary: 'Reveals of real addresses so far, newest first',
    tags,
    roles: DPO_ADMIN,
    query: Paging,
    responses: {
      200: {
        description: 'the reveals',
        schema: z.object({
          items: z.array(
            z.object({
              seq: z.number(),
              at: z.string(),
              actor: z.string(),
              conversationId: z.string().nullable(),
              label: z.string().nullable(),
              reason: z.string().nullable(),
            }),
          ),
        }),
      },
    },
  });
  for (const [path, summary] of [
    ['/api/v1/compliance/ropa', 'Record of processing activities (Art. 30) from the live configuration'],
    ['/api/v1/compliance/privacy-notice', 'Privacy notice (Art. 13) from the live configuration'],
  ] as const) {
    docs.add({
      method: 'get',
      path,
      summary,
      tags,
      roles: DPO_ADMIN,
      query: DocQuery,
      responses: {
        200: { description: 'Markdown, HTML or PDF', contentType: 'text/markdown' },
        415: { description: 'PDF asked for but Chromium is not installed' },
      },
    });
  }
  docs.add({
    method: 'post',
    path: '/api/v1/admin/channels/:id/kill-switch',
    summary:
      'Switch a channel off (inbound answered with the alternative contact, nothing stored; nothing sent) or on again',
    tags,
    roles: ADMIN,
    body: KillSwitchBody,
    responses: {
      200: {
        description: 'the new state',
        schema: z.object({ channelId: z.string(), enabled: z.boolean(), changed: z.boolean(), auditSeq: z.number() }),
      },
      404: { description: 'no such channel' },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/audit',
    summary: 'Audit log entries, newest first, filtered',
    tags,
    roles: DPO_ADMIN,
    query: AuditQuery,
    responses: { 200: { description: 'the entries', schema: z.object({ items: z.array(AuditEntrySchema) }) } },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/compliance/audit/verify',
    summary: 'Check the hash chain and MACs of the audit log',
    tags,
    roles: DPO_ADMIN,
    responses: {
      200: {
        description: 'the result',
        schema: z.object({
          ok: z.boolean(),
          checked: z.number(),
          firstBroken: z.object({ seq: z.number(), reason: z.string() }).optional(),
        }),
      },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/audit.csv',
    summary: 'Audit log entries as CSV (RFC 4180), filtered; the export is audited',
    tags,
    roles: DPO_ADMIN,
    query: AuditCsvQuery,
    responses: { 200: { description: 'CSV', contentType: 'text/csv' } },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/breaches',
    summary: 'Breach register (Art. 33(5)), newest discovery first, with the 72-hour deadline',
    tags,
    roles: DPO_ADMIN,
    query: Paging,
    responses: { 200: { description: 'the breaches', schema: z.object({ items: z.array(BreachSchema) }) } },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/compliance/breaches',
    summary: 'Record a breach',
    tags,
    roles: DPO_ADMIN,
    body: BreachBody,
    responses: { 201: { description: 'recorded', schema: z.object({ breach: BreachSchema }) } },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/compliance/breaches/:id',
    summary: 'One breach',
    tags,
    roles: DPO_ADMIN,
    responses: {
      200: { description: 'the breach', schema: z.object({ breach: BreachSchema }) },
      404: { description: 'no such breach' },
    },
  });
  docs.add({
    method: 'patch',
    path: '/api/v1/compliance/breaches/:id',
    summary: 'Update a breach (e.g. the time the authority was notified)',
    tags,
    roles: DPO_ADMIN,
    body: BreachPatch,
    responses: {
      200: { description: 'updated', schema: z.object({ breach: BreachSchema }) },
      404: { description: 'no such breach' },
    },
  });
  docs.add({
    method: 'delete',
    path: '/api/v1/compliance/breaches/:id',
    summary: 'Delete a breach entry recorded by mistake (audited)',
    tags,
    roles: DPO_ADMIN,
    responses: { 204: { description: 'deleted' }, 404: { description: 'no such breach' } },
  });
}

/**
 * The data protection officer's API: subject requests, reveals, documents, kill switch, audit viewer, breach
 * register. Thin: validate with zod, call {@link ComplianceTools}, shape the answer; every route is behind
 * requireRole.
 */
export function complianceRoutes(deps: ComplianceRouteDeps): RouteModule {
  const revealRoles = deps.revealRoles ?? DEFAULT_REVEAL_ROLES;
  if (deps.docs) document(deps.docs, revealRoles);
  const c = deps.compliance;
  return (app: FastifyInstance) => {
    const dpo = { preHandler: requireRole(deps.authenticate, ...DPO) };
    const dpoAdmin = { preHandler: requireRole(deps.authenticate, ...DPO_ADMIN) };
    const admin = { preHandler: requireRole(deps.authenticate, ...ADMIN) };
    const reveal = { preHandler: requireRole(deps.authenticate, ...revealRoles) };

    app.post('/api/v1/compliance/dsar/export', dpo, async (request, reply) => {
      const body = parse(ExportBody, request.body, 'body');
      const bundle = await c.subjectRights.export({ channelId: body.channelId, address: body.address }, who(request));
      reply.header('cache-control', 'no-store, private');
      if (body.format === 'html') {
        // To read in the browser and hand over (print or save), not a download.
        return reply
          .type('text/html; charset=utf-8')
          .header(
            'content-disposition',
            `inline; filename="${body.lang === 'de' ? 'auskunft' : 'subject-access'}.html"`,
          )
          .send(renderDsarHtml(bundle, body.lang));
      }
      return reply
        .header('content-disposition', `attachment; filename="dsar-${bundle.subject.contactId}.json"`)
        .send(bundle);
    });

    app.post('/api/v1/compliance/dsar/erase', dpo, async (request) => {
      const body = parse(EraseBody, request.body, 'body');
      const receipt = await c.subjectRights.erase(
        { channelId: body.channelId, address: body.address },
        who(request),
        body.reason,
      );
      return { receipt: { ...receipt, at: new Date(receipt.at).toISOString() } };
    });

    app.put('/api/v1/compliance/notes/:id', dpoAdmin, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      const body = parse(NoteBody, request.body, 'body');
      return c.subjectRights.rectifyNote(id, body.text, who(request));
    });

    app.post('/api/v1/conversations/:id/reveal', reveal, async (request, reply) => {
      const { id } = parse(IdParams, request.params, 'path');
      const body = parse(RevealBody, request.body, 'body');
      const revealed = await c.subjectRights.reveal(id, body.reason, who(request));
      return reply.header('cache-control', 'no-store, private').send(revealed);
    });

    app.get('/api/v1/statistics', dpoAdmin, async (request) => {
      const q = parse(StatsQuery, request.query, 'query');
      return c.statistics(millis(q.from), millis(q.to));
    });

    app.get('/api/v1/compliance/channels', dpoAdmin, async () => ({
      items: (await c.processingContext()).channels,
    }));

    app.get('/api/v1/compliance/reveals', dpoAdmin, async (request) => {
      const q = parse(Paging, request.query, 'query');
      return { items: await c.subjectRights.reveals(q.limit, q.offset) };
    });

    for (const [path, kind] of [
      ['/api/v1/compliance/ropa', 'ropa'],
      ['/api/v1/compliance/privacy-notice', 'notice'],
    ] as const) {
      app.get(path, dpoAdmin, async (request, reply) => {
        const q = parse(DocQuery, request.query, 'query');
        const doc = await c.renderDocument(kind, q.lang, q.format);
        const name = `${kind === 'ropa' ? 'ropa' : 'privacy-notice'}-${q.lang}.${q.format}`;
        return reply
          .type(doc.contentType)
          .header('cache-control', 'no-store')
          .header('content-disposition', `${q.format === 'html' ? 'inline' : 'attachment'}; filename="${name}"`)
          .send(doc.body);
      });
    }

    app.post('/api/v1/admin/channels/:id/kill-switch', admin, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      const body = parse(KillSwitchBody, request.body, 'body');
      return c.killSwitch.set(id, body.enabled, who(request), body.reason);
    });

    app.get('/api/v1/compliance/audit', dpoAdmin, async (request) => {
      const q = parse(AuditQuery, request.query, 'query');
      const rows = await c.auditEntries({
        action: q.action,
        actor: q.actor,
        targetId: q.targetId,
        from: millis(q.from),
        to: millis(q.to),
        limit: q.limit,
        offset: q.offset,
      });
      const names = (await deps.staffNames?.()) ?? new Map<string, string>();
      return { items: rows.map((r) => auditView(r, names)) };
    });

    app.post('/api/v1/compliance/audit/verify', dpoAdmin, async () => c.verifyAudit());

    app.get('/api/v1/compliance/audit.csv', dpoAdmin, async (request, reply) => {
      const q = parse(AuditCsvQuery, request.query, 'query');
      const csv = await c.auditCsv({
        action: q.action,
        actor: q.actor,
        targetId: q.targetId,
        from: millis(q.from),
        to: millis(q.to),
      });
      await c.auditExported(who(request).actor, csv.rows);
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="sparsam-audit.csv"')
        .send(csv.text);
    });

    app.get('/api/v1/compliance/breaches', dpoAdmin, async (request) => {
      const q = parse(Paging, request.query, 'query');
      return { items: await c.breaches.list(q.limit, q.offset) };
    });

    app.post('/api/v1/compliance/breaches', dpoAdmin, async (request, reply) => {
      const b = parse(BreachBody, request.body, 'body');
      const breach = await c.breaches.record(
        {
          description: b.description,
          risk: b.risk,
          conversationIds: b.conversationIds,
          labels: b.labels,
          discoveredAt: Date.parse(b.discoveredAt),
          notifiedAt: millisOrNull(b.notifiedAt) ?? null,
          subjectsNotifiedAt: millisOrNull(b.subjectsNotifiedAt) ?? null,
        },
        who(request),
      );
      return reply.status(201).send({ breach });
    });

    app.get('/api/v1/compliance/breaches/:id', dpoAdmin, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      return { breach: await c.breaches.get(id) };
    });

    app.patch('/api/v1/compliance/breaches/:id', dpoAdmin, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      const b = parse(BreachPatch, request.body, 'body');
      const patch = {
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.risk !== undefined ? { risk: b.risk } : {}),
        ...(b.conversationIds !== undefined ? { conversationIds: b.conversationIds } : {}),
        ...(b.labels !== undefined ? { labels: b.labels } : {}),
        ...(b.discoveredAt !== undefined ? { discoveredAt: Date.parse(b.discoveredAt) } : {}),
        ...(b.notifiedAt !== undefined ? { notifiedAt: millisOrNull(b.notifiedAt) ?? null } : {}),
        ...(b.subjectsNotifiedAt !== undefined
          ? { subjectsNotifiedAt: millisOrNull(b.subjectsNotifiedAt) ?? null }
          : {}),
      };
      return { breach: await c.breaches.update(id, patch, who(request)) };
    });

    app.delete('/api/v1/compliance/breaches/:id', dpoAdmin, async (request, reply) => {
      const { id } = parse(IdParams, request.params, 'path');
      await c.breaches.remove(id, who(request));
      return reply.status(204).send();
    });
  };
}
