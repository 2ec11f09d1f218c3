import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CampaignReport, MarketingService } from '../../core/marketing/marketing.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { requireRole, type Authenticator } from '../auth/principal.ts';
import type { OpenApiRegistry } from './openapi.ts';

export interface MarketingRouteDeps {
  marketing: MarketingService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}

const ConsentBody = z
  .object({
    channelId: z.string().min(1),
    address: z.string().min(3).max(64),
    evidence: z.string().min(3).max(2000),
    collectedAt: z.iso.datetime({ offset: true }),
  })
  .strict();

const BroadcastBody = z
  .object({
    channelId: z.string().min(1),
    template: z
      .object({
        name: z.string().min(1).max(512),
        language: z.string().min(2).max(10),
        parameters: z.array(z.string().max(1024)).max(20).default([]),
      })
      .strict(),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(64) });

const ReportSchema = z.object({
  id: z.string(),
  channelId: z.string(),
  template: z.object({ name: z.string(), language: z.string() }),
  createdAt: z.string(),
  createdBy: z.string(),
  recipients: z.number(),
  skipped: z.number(),
  queued: z.number(),
  sent: z.number(),
  delivered: z.number(),
  read: z.number(),
  failed: z.number(),
  erased: z.number(),
  optedOut: z.number(),
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

function actor(request: FastifyRequest): string {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`;
}

const shape = (r: CampaignReport) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() });

function document(docs: OpenApiRegistry): void {
  const tags = ['marketing'];
  const roles = ['admin'] as const;
  docs.add({
    method: 'post',
    path: '/api/v1/marketing/consents',
    summary: 'Import a marketing consent collected elsewhere, with its evidence (sealed; audited as consent.grant)',
    tags,
    roles,
    body: ConsentBody,
    responses: {
      201: { description: 'recorded', schema: z.object({ contactId: z.string(), created: z.boolean() }) },
      404: { description: 'no such channel' },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/marketing/broadcasts',
    summary:
      'Queue an approved MARKETING template to every contact of the channel whose marketing consent is valid now (audited)',
    tags,
    roles,
    body: BroadcastBody,
    responses: { 202: { description: 'queued; the report so far', schema: z.object({ campaign: ReportSchema }) } },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/marketing/broadcasts',
    summary: 'Broadcasts, newest first, with their counts',
    tags,
    roles,
    responses: { 200: { description: 'the list', schema: z.object({ items: z.array(ReportSchema) }) } },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/marketing/broadcasts/:id',
    summary: 'Report of one broadcast: recipients, skipped, sent, delivered, read, failed, opted out (no addresses)',
    tags,
    roles,
    responses: {
      200: { description: 'the report', schema: z.object({ campaign: ReportSchema }) },
      404: { description: 'no such broadcast' },
    },
  });
}

/** Marketing consent import, broadcasts and their reports; admin only, thin over {@link MarketingService}. */
export function marketingRoutes(deps: MarketingRouteDeps): RouteModule {
  if (deps.docs) document(deps.docs);
  const m = deps.marketing;
  return (app: FastifyInstance) => {
    const admin = { preHandler: requireRole(deps.authenticate, 'admin') };

    app.post('/api/v1/marketing/consents', admin, async (request, reply) => {
      const body = parse(ConsentBody, request.body, 'body');
      const result = await m.importConsent(
        {
          channelId: body.channelId,
          address: body.address,
          evidence: body.evidence,
          collectedAt: Date.parse(body.collectedAt),
        },
        actor(request),
      );
      return reply.code(201).send(result);
    });

    app.post('/api/v1/marketing/broadcasts', admin, async (request, reply) => {
      const body = parse(BroadcastBody, request.body, 'body');
      const report = await m.broadcast(body, actor(request));
      return reply.code(202).send({ campaign: shape(report) });
    });

    app.get('/api/v1/marketing/broadcasts', admin, async () => ({ items: (await m.list()).map(shape) }));

    app.get('/api/v1/marketing/broadcasts/:id', admin, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      const report = await m.report(id);
      if (!report) throw new AppError('NOT_FOUND', 'no such broadcast');
      return { campaign: shape(report) };
    });
  };
}
