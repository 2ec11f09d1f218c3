import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { requireRole } from '../auth/principal.ts';
import { actorOf } from '../auth/session.ts';
import { parseWith, type WebDeps } from '../auth/web-deps.ts';

const role = z.enum(['admin', 'agent', 'dpo']);
export const InviteBody = z.object({
  email: z.string().min(3).max(254),
  role,
  displayName: z.string().min(1).max(80).optional(),
  language: z.enum(['de', 'en']).optional(),
});
/** Strict and not empty: a misspelt field is a 400 naming it, not a 200 that changed nothing. */
export const UserPatchBody = z
  .object({
    role: role.optional(),
    displayName: z.string().min(1).max(80).optional(),
    language: z.enum(['de', 'en']).optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });
export const ReinviteBody = z.object({ confirm: z.boolean().optional() }).strict();
export const SecurityBody = z.object({ require2fa: z.boolean() });

/** Staff management for admins: list, invite (one-time link), change role, disable, reset 2FA, end sessions. */
export function usersRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireRole(deps.authenticate, 'admin'));
    const invitationUrl = (token: string) => `${deps.config.baseUrl.replace(/\/$/, '')}/invite#${token}`;

    app.get('/api/v1/users', async () => ({ items: await deps.staff.list() }));

    app.post('/api/v1/users', async (request, reply) => {
      const body = parseWith(InviteBody, request.body);
      const { user, token, expiresAt } = await deps.staff.invite(body, actorOf(request.principal!));
      return reply.status(201).send({
        user,
        invitation: { token, url: invitationUrl(token), expiresAt: new Date(expiresAt).toISOString() },
      });
    });

    app.patch<{ Params: { id: string } }>('/api/v1/users/:id', async (request) => {
      const body = parseWith(UserPatchBody, request.body);
      const user = await deps.staff.update(request.params.id, body, {
        userId: request.principal!.userId,
        name: actorOf(request.principal!),
      });
      if (body.disabled || body.role) deps.streams.closeUser(request.params.id);
      return { user };
    });

    app.post<{ Params: { id: string } }>('/api/v1/users/:id/invitation', async (request) => {
      const body = parseWith(ReinviteBody, request.body ?? {});
      const { token, expiresAt, reset } = await deps.staff.reinvite(
        request.params.id,
        { userId: request.principal!.userId, name: actorOf(request.principal!) },
        body.confirm === true,
      );
      if (reset) deps.streams.closeUser(request.params.id);
      return { invitation: { token, url: invitationUrl(token), expiresAt: new Date(expiresAt).toISOString() } };
    });

    app.post<{ Params: { id: string } }>('/api/v1/users/:id/reset-2fa', async (request) => {
      const user = await deps.users.findUserById(request.params.id);
      if (!user) throw new AppError('NOT_FOUND', 'no such user');
      await deps.auth.disableTotp(user, actorOf(request.principal!), true);
      await deps.auth.logoutEverywhere(user.id, actorOf(request.principal!));
      deps.streams.closeUser(user.id);
      return { ok: true };
    });

    app.post<{ Params: { id: string } }>('/api/v1/users/:id/logout-everywhere', async (request) => {
      const user = await deps.users.findUserById(request.params.id);
      if (!user) throw new AppError('NOT_FOUND', 'no such user');
      const ended = await deps.auth.logoutEverywhere(user.id, actorOf(request.principal!));
      deps.streams.closeUser(user.id);
      return { ended };
    });

    app.get('/api/v1/admin/security', async () => ({ require2fa: await deps.auth.require2fa() }));
    app.put('/api/v1/admin/security', async (request) => {
      const body = parseWith(SecurityBody, request.body);
      await deps.auth.setRequire2fa(body.require2fa, actorOf(request.principal!));
      return { require2fa: body.require2fa };
    });
  };
}
