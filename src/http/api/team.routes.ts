import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.ts';
import { teamActor, type WebDeps } from '../auth/web-deps.ts';
import { teamApi as api } from '../contract/team.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

/** Team work on conversations (assign, labels, notes, read) and the team directory; admins and agents only. */
export function teamRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    registerRoute(app, api.assign, options, async ({ params, body }, request) => {
      await deps.team.assign(teamActor(request.principal!), params.id, body.userId);
      return { ok: true } as const;
    });

    registerRoute(app, api.labels, options, async ({ params, body }, request) => ({
      labels: await deps.team.setLabels(teamActor(request.principal!), params.id, body.labels),
    }));

    registerRoute(app, api.priority, options, async ({ params, body }, request) => {
      await deps.team.setPriority(teamActor(request.principal!), params.id, body.priority);
      return { priority: body.priority };
    });

    registerRoute(app, api.note, options, async ({ params, body }, request) => {
      const note = await deps.team.addNote(teamActor(request.principal!), params.id, body.text);
      return { note: { id: note.id, createdAt: new Date(note.createdAt).toISOString() } };
    });

    registerRoute(app, api.read, options, async ({ params }, request) => {
      await deps.team.markRead(teamActor(request.principal!), params.id);
      return { ok: true } as const;
    });

    registerRoute(app, api.members, options, async () => {
      const users = await deps.users.listUsers();
      return {
        items: users
          .filter((u) => !u.disabled && u.role !== 'dpo')
          .map((u) => ({ id: u.id, displayName: u.display_name, role: u.role })),
      };
    });

    registerRoute(app, api.knownLabels, options, async () => ({ items: await deps.team.knownLabels() }));
  };
}
