import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { actorOf } from '../auth/session.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { usersApi as api } from '../contract/users.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';
import { staffView } from './views.ts';

/** Staff management for admins: list, invite (one-time link), change role, disable, unlock, reset 2FA, end sessions. */
export function usersRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };
    const invitationUrl = (token: string) => `${deps.config.baseUrl.replace(/\/$/, '')}/invite#${token}`;

    const inboxesOf = async (userId: string) => deps.teams.inboxIdsOfUser(userId);

    registerRoute(app, api.list, options, async () => {
      const byUser = await deps.teams.membershipsByUser();
      return { items: (await deps.staff.list()).map((u) => staffView(u, byUser.get(u.id) ?? [])) };
    });

    registerRoute(app, api.invite, options, async ({ body }, request) => {
      const { user, token, expiresAt } = await deps.staff.invite(body, actorOf(request.principal!));
      return {
        user: staffView(user, await inboxesOf(user.id)),
        invitation: { token, url: invitationUrl(token), expiresAt: new Date(expiresAt).toISOString() },
      };
    });

    registerRoute(app, api.patch, options, async ({ params, body }, request) => {
      const user = await deps.staff.update(params.id, body, {
        userId: request.principal!.userId,
        name: actorOf(request.principal!),
      });
      if (body.disabled || body.role) deps.streams.closeUser(params.id);
      return { user: staffView(user, await inboxesOf(user.id)) };
    });

    registerRoute(app, api.reinvite, options, async ({ params, body }, request) => {
      const { token, expiresAt, reset } = await deps.staff.reinvite(
        params.id,
        { userId: request.principal!.userId, name: actorOf(request.principal!) },
        body.confirm === true,
      );
      if (reset) deps.streams.closeUser(params.id);
      return { invitation: { token, url: invitationUrl(token), expiresAt: new Date(expiresAt).toISOString() } };
    });

    registerRoute(app, api.reset2fa, options, async ({ params }, request) => {
      const user = await deps.users.findUserById(params.id);
      if (!user) throw new AppError('NOT_FOUND', 'no such user');
      await deps.auth.disableTotp(user, actorOf(request.principal!), true);
      await deps.auth.logoutEverywhere(user.id, actorOf(request.principal!));
      deps.streams.closeUser(user.id);
      return { ok: true } as const;
    });

    registerRoute(app, api.unlock, options, async ({ params }, request) => {
      const user = await deps.staff.unlock(params.id, actorOf(request.principal!));
      deps.auth.forgetFailedLogins(user.email);
      return { user: staffView(user, await inboxesOf(user.id)) };
    });

    registerRoute(app, api.logoutEverywhere, options, async ({ params }, request) => {
      const user = await deps.users.findUserById(params.id);
      if (!user) throw new AppError('NOT_FOUND', 'no such user');
      const ended = await deps.auth.logoutEverywhere(user.id, actorOf(request.principal!));
      deps.streams.closeUser(user.id);
      return { ended };
    });

    registerRoute(app, api.security, options, async () => ({ require2fa: await deps.auth.require2fa() }));

    registerRoute(app, api.setSecurity, options, async ({ body }, request) => {
      await deps.auth.setRequire2fa(body.require2fa, actorOf(request.principal!));
      return { require2fa: body.require2fa };
    });
  };
}
