import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { requireRole } from '../auth/principal.ts';
import { parseWith, type WebDeps } from '../auth/web-deps.ts';
import { sessionUser } from './auth.routes.ts';

export const MePatchBody = z.object({
  displayName: z.string().min(1).max(80).optional(),
  language: z.enum(['de', 'en']).optional(),
});
export const PasswordChangeBody = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(1).max(1024),
});
export const TotpDisableBody = z.object({ password: z.string().min(1).max(1024) });

/** The signed-in staff member's own account: profile, language, password, second factor. Sessions only. */
export function meRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireRole(deps.authenticate));
    app.addHook('preHandler', async (request) => {
      if (request.principal?.kind !== 'session') {
        throw new AppError('FORBIDDEN', 'the account routes are for staff sessions, not API tokens');
      }
    });

    const me = async (id: string) => {
      const user = await deps.users.findUserById(id);
      if (!user) throw new AppError('UNAUTHENTICATED', 'not logged in');
      return user;
    };

    app.get('/api/v1/me', async (request) => {
      const user = await me(request.principal!.id);
      return {
        user: sessionUser(user),
        secondFactorRequired: await deps.auth.secondFactorRequired(user),
        recoveryCodesLeft: user.recovery_codes?.length ?? 0,
      };
    });

    app.patch('/api/v1/me', async (request) => {
      const body = parseWith(MePatchBody, request.body);
      await deps.staff.update(
        request.principal!.id,
        { displayName: body.displayName, language: body.language },
        { userId: request.principal!.id, name: `user:${request.principal!.id}` },
      );
      return { user: sessionUser(await me(request.principal!.id)) };
    });

    app.post('/api/v1/me/password', async (request) => {
      const body = parseWith(PasswordChangeBody, request.body);
      const user = await me(request.principal!.id);
      await deps.auth.changePassword(user, body.currentPassword, body.newPassword, request.sessionAuth?.idHash);
      deps.streams.closeUser(user.id);
      return { ok: true };
    });

    app.post('/api/v1/me/totp/disable', async (request) => {
      const body = parseWith(TotpDisableBody, request.body);
      const user = await me(request.principal!.id);
      await deps.auth.confirmPassword(user, body.password);
      await deps.auth.disableTotp(user, `user:${user.id}`);
      return { user: sessionUser(await me(user.id)) };
    });
  };
}
