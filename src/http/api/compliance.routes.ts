import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComplianceTools } from '../../core/compliance/compliance.ts';
import { renderDsarHtml } from '../../core/compliance/dsar-summary.ts';
import type { ComplianceActor } from '../../core/compliance/subject-rights.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { AuditRecord } from '../../core/ports/model.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import type { Role } from '../contract/api-route.ts';
import { DEFAULT_REVEAL_ROLES, complianceApi as api } from '../contract/compliance.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export { DEFAULT_REVEAL_ROLES };

function who(request: FastifyRequest): ComplianceActor {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return {
    actor: p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`,
    role: p.role,
    scope: p.scope,
  };
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

/** Registers the compliance operations in the OpenAPI document, with the deployment's reveal roles. */
function document(docs: OpenApiRegistry, revealRoles: readonly Role[]): void {
  for (const route of Object.values(api)) docs.add(route, route === api.reveal ? revealRoles : undefined);
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
    const options = { authenticate: deps.authenticate, parse: parseNamed };

    registerRoute(app, api.export, options, async ({ body }, request, reply) => {
      const bundle = await c.subjectRights.export(
        { channelId: body.channelId, address: body.address },
        who(request),
        body.reason,
      );
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

    registerRoute(app, api.erase, options, async ({ body }, request) => {
      const receipt = await c.subjectRights.erase(
        { channelId: body.channelId, address: body.address },
        who(request),
        body.reason,
      );
      return { receipt: { ...receipt, at: new Date(receipt.at).toISOString() } };
    });

    registerRoute(app, api.correctNote, options, async ({ params, body }, request) =>
      c.subjectRights.rectifyNote(params.id, body.text, who(request)),
    );

    registerRoute(app, api.reveal, { ...options, roles: revealRoles }, async ({ params, body }, request, reply) => {
      const revealed = await c.subjectRights.reveal(params.id, body.reason, who(request));
      reply.header('cache-control', 'no-store, private');
      return revealed;
    });

    registerRoute(app, api.statistics, options, async ({ query }) =>
      c.statistics(millis(query.from), millis(query.to)),
    );

    registerRoute(app, api.channels, options, async () => ({ items: (await c.processingContext()).channels }));

    registerRoute(app, api.reveals, options, async ({ query }) => {
      const names = (await deps.staffNames?.()) ?? new Map<string, string>();
      const items = await c.subjectRights.reveals(query.limit, query.offset);
      return {
        items: items.map((r) => ({
          ...r,
          actorName: r.actor.startsWith('user:') ? (names.get(r.actor.slice('user:'.length)) ?? null) : null,
        })),
      };
    });

    for (const [route, kind] of [
      [api.ropa, 'ropa'],
      [api.privacyNotice, 'notice'],
    ] as const) {
      registerRoute(app, route, options, async ({ query: q }, _request, reply) => {
        // The document's blocks for the web inbox's preview, which renders them as elements (no markup to trust).
        if (q.format === 'json') {
          return reply.header('cache-control', 'no-store').send(await c.document(kind, q.lang));
        }
        const doc = await c.renderDocument(kind, q.lang, q.format);
        const name = `${kind === 'ropa' ? 'ropa' : 'privacy-notice'}-${q.lang}.${q.format}`;
        return reply
          .type(doc.contentType)
          .header('cache-control', 'no-store')
          .header('content-disposition', `${q.format === 'html' ? 'inline' : 'attachment'}; filename="${name}"`)
          .send(doc.body);
      });
    }

    // The privacy notice (Art. 13) as a public page: the consent message links here (no login; it holds the
    // organisation's configuration only, nothing about a person).
    app.get('/privacy-notice', async (request, reply) => {
      const lang = (request.query as { lang?: string }).lang === 'en' ? 'en' : 'de';
      const doc = await c.renderDocument('notice', lang, 'html');
      return reply
        .type(doc.contentType)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        .header('x-content-type-options', 'nosniff')
        .send(doc.body);
    });

    registerRoute(app, api.killSwitch, options, async ({ params, body }, request) =>
      c.killSwitch.set(params.id, body.enabled, who(request), body.reason),
    );

    registerRoute(app, api.audit, options, async ({ query: q }) => {
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

    registerRoute(app, api.verifyAudit, options, async () => c.verifyAudit());

    registerRoute(app, api.auditCsv, options, async ({ query: q }, request, reply) => {
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

    registerRoute(app, api.breaches, options, async ({ query }) => ({
      items: await c.breaches.list(query.limit, query.offset),
    }));

    registerRoute(app, api.recordBreach, options, async ({ body: b }, request) => {
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
      return { breach };
    });

    registerRoute(app, api.breach, options, async ({ params }) => ({ breach: await c.breaches.get(params.id) }));

    registerRoute(app, api.updateBreach, options, async ({ params, body: b }, request) => {
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
      return { breach: await c.breaches.update(params.id, patch, who(request)) };
    });

    registerRoute(app, api.removeBreach, options, async ({ params }, request) => {
      await c.breaches.remove(params.id, who(request));
    });
  };
}
