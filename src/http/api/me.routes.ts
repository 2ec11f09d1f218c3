import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { meApi as api } from '../contract/auth.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';
import { sessionUser } from './views.ts';

/** The signed-in staff member's own account: profile, language, password, second factor. Sessions only. */
export function meRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    const me = async (id: string) => {
      const user = await deps.users.findUserById(id);
      if (!user) throw new AppError('UNAUTHENTICATED', 'not logged in');
      return user;
    };

    registerRoute(app, api.get, options, async (_input, request) => {
      const user = await me(request.principal!.id);
      return {
        user: sessionUser(user),
        secondFactorRequired: await deps.auth.secondFactorRequired(user),
        recoveryCodesLeft: user.recovery_codes?.length ?? 0,
      };
    });

    registerRoute(app, api.patch, options, async ({ body }, request) => {
      await deps.staff.update(
        request.principal!.id,
        { displayName: body.displayName, language: body.language },
        { userId: request.principal!.id, name: `user:${request.principal!.id}` },
      );
      return { user: sessionUser(await me(request.principal!.id)) };
    });

    registerRoute(app, api.resetNoticeSeen, options, async (_input, request) => {
      await deps.users.updateUser(request.principal!.id, { password_reset_at: null });
      return { user: sessionUser(await me(request.principal!.id)) };
    });

    registerRoute(app, api.password, options, async ({ body }, request) => {
      const user = await me(request.principal!.id);
      await deps.auth.changePassword(user, body.currentPassword, body.newPassword, request.sessionAuth?.idHash);
      deps.streams.closeUser(user.id);
      return { ok: true } as const;
    });

    registerRoute(app, api.totpDisable, options, async ({ body }, request) => {
      const user = await me(request.principal!.id);
      await deps.auth.confirmPassword(user, body.password);
      await deps.auth.disableTotp(user, `user:${user.id}`);
      return { user: sessionUser(await me(user.id)) };
    });
  };
}
