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

    registerRoute(app, api.snooze, options, async ({ params, body }, request) => {
      const input = body.preset ? { preset: body.preset } : { until: Date.parse(body.until!) };
      const { snoozedUntil } = await deps.snooze.snooze(teamActor(request.principal!), params.id, input);
      return { snoozedUntil: new Date(snoozedUntil).toISOString() };
    });

    registerRoute(app, api.unsnooze, options, async ({ params }, request) => {
      await deps.snooze.unsnooze(teamActor(request.principal!), params.id);
      return { ok: true } as const;
    });

    registerRoute(app, api.note, options, async ({ params, body }, request) => {
      const note = await deps.team.addNote(teamActor(request.principal!), params.id, body.text);
      return { note: { id: note.id, createdAt: new Date(note.createdAt).toISOString() } };
    });

    registerRoute(app, api.read, options, async ({ params }, request) => {
      await deps.team.markRead(teamActor(request.principal!), params.id);
      return { ok: true } as const;
    });

    registerRoute(app, api.members, options, async ({ query }, request) => ({
      items: await deps.teams.members(request.principal!.scope, query.inboxId),
    }));

    registerRoute(app, api.knownLabels, options, async () => ({ items: await deps.team.knownLabels() }));

    registerRoute(app, api.labelCatalogue, options, async () => ({ items: await deps.team.labelCatalogue() }));

    registerRoute(app, api.createLabel, options, async ({ body }, request) => ({
      item: await deps.team.createLabel(teamActor(request.principal!), body),
    }));

    registerRoute(app, api.updateLabel, options, async ({ params, body }, request) => ({
      item: await deps.team.setLabelColor(teamActor(request.principal!), params.name, body.color),
    }));

    registerRoute(app, api.deleteLabel, options, async ({ params }, request) =>
      deps.team.deleteLabel(teamActor(request.principal!), params.name),
    );
  };
}
