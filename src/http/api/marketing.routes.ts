import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CampaignReport, MarketingService } from '../../core/marketing/marketing.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { marketingApi as api } from '../contract/marketing.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export interface MarketingRouteDeps {
  marketing: MarketingService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}

function actor(request: FastifyRequest): string {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`;
}

const shape = (r: CampaignReport) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() });

/** Marketing consent import, broadcasts and their reports; admin only, thin over {@link MarketingService}. */
export function marketingRoutes(deps: MarketingRouteDeps): RouteModule {
  if (deps.docs) deps.docs.addAll(api);
  const m = deps.marketing;
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseNamed };

    registerRoute(app, api.importConsent, options, async ({ body }, request) =>
      m.importConsent(
        {
          channelId: body.channelId,
          address: body.address,
          evidence: body.evidence,
          collectedAt: Date.parse(body.collectedAt),
        },
        actor(request),
      ),
    );

    registerRoute(app, api.broadcast, options, async ({ body }, request) => {
      const report = await m.broadcast(body, actor(request));
      return { campaign: shape(report) };
    });

    registerRoute(app, api.list, options, async () => ({ items: (await m.list()).map(shape) }));

    registerRoute(app, api.report, options, async ({ params }) => {
      const report = await m.report(params.id);
      if (!report) throw new AppError('NOT_FOUND', 'no such broadcast');
      return { campaign: shape(report) };
    });
  };
}
