import type { FastifyInstance } from 'fastify';
import type { ApiTokenRecord } from '../../core/ports/model.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { actorOf } from '../auth/session.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { teamsApi as api } from '../contract/teams.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

/** Teams: inbox memberships (admins), assignment rules per inbox, availability, mentions. */
export function teamsRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    const knownInbox = async (id: string) => {
      if (!(await deps.teams.allInboxIds()).includes(id)) throw new AppError('NOT_FOUND', 'no such inbox');
    };

    registerRoute(app, api.userInboxes, options, async ({ params, body }, request) => {
      const inboxIds = await deps.teams.setUserInboxes(actorOf(request.principal!), params.id, body.inboxIds);
      return { inboxIds };
    });

    registerRoute(app, api.assignment, options, async ({ params }) => {
      await knownInbox(params.id);
      return deps.teams.assignmentSettings(params.id);
    });

    registerRoute(app, api.setAssignment, options, async ({ params, body }, request) => {
      await knownInbox(params.id);
      const settings = await deps.teams.setAssignmentSettings(actorOf(request.principal!), params.id, body);
      // New rules take effect at once (conversations waiting, members over a lower maximum stay as they are).
      void deps.runAssignment?.(params.id).catch(() => undefined);
      return settings;
    });

    registerRoute(app, api.presenceSettings, options, async () => deps.teams.presenceSettings());

    registerRoute(app, api.setPresenceSettings, options, async ({ body }, request) =>
      deps.teams.setPresenceSettings(actorOf(request.principal!), body),
    );

    registerRoute(app, api.presence, options, async (_input, request) => deps.teams.ownPresence(request.principal!.id));

    registerRoute(app, api.reportPresence, options, async ({ body }, request) => {
      const result = await deps.teams.reportPresence(request.principal!.id, body);
      // Someone just became available: waiting conversations of their inboxes may go to them now.
      if (result.becameAvailable) void deps.runAssignment?.().catch(() => undefined);
      return { status: result.status, availability: result.availability };
    });

    const tokenView = (t: ApiTokenRecord, inboxes: Map<string, string[]>) => ({
      id: t.id,
      name: t.name,
      role: t.role,
      inboxIds: inboxes.get(t.id) ?? [],
      createdAt: new Date(t.created_at).toISOString(),
      lastUsedAt: t.last_used_at === null ? null : new Date(t.last_used_at).toISOString(),
      revoked: t.revoked_at !== null,
    });

    registerRoute(app, api.tokens, options, async () => {
      const inboxes = await deps.teams.tokenInboxes();
      return { items: (await deps.users.listApiTokens()).map((t) => tokenView(t, inboxes)) };
    });

    registerRoute(app, api.createToken, options, async ({ body }, request) => {
      const created = await deps.accounts.createApiToken(body.name, body.role, body.inboxIds);
      await deps.audit.append({
        actor: actorOf(request.principal!),
        action: 'token.created',
        targetType: 'token',
        targetId: created.id,
        details: { role: body.role, inboxes: body.inboxIds.join(',') },
      });
      const row = (await deps.users.listApiTokens()).find((t) => t.id === created.id)!;
      return { item: tokenView(row, await deps.teams.tokenInboxes()), token: created.token };
    });

    registerRoute(app, api.revokeToken, options, async ({ params }, request) => {
      const row = (await deps.users.listApiTokens()).find((t) => t.id === params.id);
      if (!row) throw new AppError('NOT_FOUND', 'no such token');
      if (row.revoked_at === null) {
        await deps.users.revokeApiToken(row.id, deps.now());
        await deps.audit.append({
          actor: actorOf(request.principal!),
          action: 'token.revoked',
          targetType: 'token',
          targetId: row.id,
        });
      }
      const after = (await deps.users.listApiTokens()).find((t) => t.id === params.id)!;
      return { item: tokenView(after, await deps.teams.tokenInboxes()) };
    });

    registerRoute(app, api.mentions, options, async (_input, request) => {
      const principal = request.principal!;
      const { items, unread } = await deps.mentions.list(principal.id, principal.scope);
      const labels = await deps.conversationLabels(items.map((m) => m.conversationId));
      const names = new Map((await deps.users.listUsers()).map((u) => [u.id, u.display_name]));
      return {
        unread,
        items: items.map((m) => ({
          id: m.id,
          inboxId: m.inboxId,
          conversationId: m.conversationId,
          label: labels.get(m.conversationId) ?? '',
          messageId: m.messageId,
          author: m.authorId ? { id: m.authorId, name: names.get(m.authorId) ?? '' } : null,
          createdAt: new Date(m.createdAt).toISOString(),
          read: m.read,
        })),
      };
    });

    registerRoute(app, api.readMentions, options, async ({ body }, request) => ({
      marked: await deps.mentions.markRead(request.principal!.id, body.ids),
    }));
  };
}
