import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.ts';
import { teamActor, type WebDeps } from '../auth/web-deps.ts';
import { savedViewsApi as api } from '../contract/team.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

/** Saved views: each staff member's named list filters. */
export function savedViewsRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    registerRoute(app, api.list, options, async (_input, request) => ({
      items: await deps.savedViews.list(teamActor(request.principal!)),
    }));

    registerRoute(app, api.create, options, async ({ body }, request) => ({
      item: await deps.savedViews.create(teamActor(request.principal!), body),
    }));

    registerRoute(app, api.remove, options, async ({ params }, request) => {
      await deps.savedViews.remove(teamActor(request.principal!), params.id);
    });
  };
}
