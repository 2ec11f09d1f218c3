import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.ts';
import { teamActor, type WebDeps } from '../auth/web-deps.ts';
import { quickRepliesApi as api } from '../contract/team.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

/** Quick replies (Textbausteine): agents and admins read them in the composer; admins manage them. */
export function quickRepliesRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    registerRoute(app, api.list, options, async () => ({ items: await deps.team.listQuickReplies() }));

    registerRoute(app, api.create, options, async ({ body }, request) => ({
      item: await deps.team.createQuickReply(teamActor(request.principal!), body),
    }));

    registerRoute(app, api.update, options, async ({ params, body }, request) => ({
      item: await deps.team.updateQuickReply(teamActor(request.principal!), params.id, body),
    }));

    registerRoute(app, api.remove, options, async ({ params }, request) => {
      await deps.team.deleteQuickReply(teamActor(request.principal!), params.id);
    });
  };
}
