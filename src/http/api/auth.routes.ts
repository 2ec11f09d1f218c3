import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { csrfTokenFor, sessionIdHash, type LoginStep } from '../../core/accounts/auth.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { UserRecord } from '../../core/ports/model.ts';
import type { RouteModule } from '../app.ts';
import {
  assertCsrf,
  clearSessionCookie,
  deviceTokenOf,
  sessionOf,
  setDeviceCookie,
  setSessionCookie,
} from '../auth/session.ts';
import { parseWith, type WebDeps } from '../auth/web-deps.ts';

export const LoginBody = z.object({ email: z.string().min(3).max(254), password: z.string().min(1).max(1024) });
export const CodeBody = z.object({ code: z.string().min(6).max(32) });
/** The password is needed only to replace a working second factor. */
export const EnrolStartBody = z.object({ password: z.string().min(1).max(1024).optional() });
export const AcceptInvitationBody = z.object({
  token: z.string().min(10).max(200),
  password: z.string().min(1).max(1024),
});

/** The signed-in user as the browser sees it. */
export function sessionUser(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.display_name,
    role: u.role,
    language: u.language,
    totpEnabled: u.totp_enabled,
  };
}

/**
 * Login and session routes under /api/v1/auth: password step, TOTP or recovery code, enrolment (QR code), logout and
 * logout everywhere, invitation acceptance. Login and invitation routes are the only /api/v1 routes open without a
 * session; they are rate limited per client address.
 */
export function authRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    await app.register(rateLimit, {
      global: false,
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: {
          code: 'RATE_LIMITED',
          message: `too many attempts; try again in ${Math.ceil(context.ttl / 1000)} seconds`,
        },
      }),
    });
    const limited = { rateLimit: { max: 20, timeWindow: '1 minute' } };
    const secondFactorLimited = { rateLimit: { max: 10, timeWindow: '1 minute' } };

    /** A session in the given pending step (or complete, for enrolment from the account page), CSRF-checked. */
    async function stepSession(request: FastifyRequest, allowed: LoginStep[]) {
      const found = await sessionOf(request, deps.auth);
      if (!found || !allowed.includes(found.step)) {
        throw new AppError('UNAUTHENTICATED', 'the login has expired; log in again with your password');
      }
      assertCsrf(request, found.token);
      return found;
    }

    app.post('/api/v1/auth/login', { config: limited }, async (request, reply) => {
      const body = parseWith(LoginBody, request.body);
      const { token, step, user, device } = await deps.auth.login(body.email, body.password, {
        address: request.ip,
        device: deviceTokenOf(request),
      });
      setSessionCookie(reply, request, token, deps.config.baseUrl);
      if (device) setDeviceCookie(reply, request, device, deps.config.baseUrl);
      return {
        step,
        csrfToken: csrfTokenFor(token),
        user: step === 'done' ? sessionUser(user) : { language: user.language },
      };
    });

    app.get('/api/v1/auth/session', async (request) => {
      const found = await sessionOf(request, deps.auth);
      if (!found) throw new AppError('UNAUTHENTICATED', 'not logged in');
      return {
        step: found.step,
        csrfToken: csrfTokenFor(found.token),
        user: found.step === 'done' ? sessionUser(found.user) : { language: found.user.language },
      };
    });

    app.post('/api/v1/auth/totp', { config: secondFactorLimited }, async (request, reply) => {
      const found = await stepSession(request, ['totp']);
      const body = parseWith(CodeBody, request.body);
      const user = await deps.auth.completeTotp(found.token, body.code, deviceTokenOf(request));
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return { step: 'done', csrfToken: csrfTokenFor(found.token), user: sessionUser(user) };
    });

    app.post('/api/v1/auth/recovery', { config: secondFactorLimited }, async (request, reply) => {
      const found = await stepSession(request, ['totp']);
      const body = parseWith(CodeBody, request.body);
      const { user, remaining } = await deps.auth.completeRecovery(found.token, body.code, deviceTokenOf(request));
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return {
        step: 'done',
        csrfToken: csrfTokenFor(found.token),
        user: sessionUser(user),
        remainingRecoveryCodes: remaining,
      };
    });

    app.post('/api/v1/auth/enrol/start', { config: secondFactorLimited }, async (request) => {
      const found = await stepSession(request, ['enrol', 'done']);
      const body = parseWith(EnrolStartBody, request.body ?? {});
      const { secret, uri, qrDataUrl } = await deps.auth.startEnrolment(found.user, body.password);
      return { secret, uri, qrDataUrl };
    });

    app.post('/api/v1/auth/enrol/confirm', { config: secondFactorLimited }, async (request, reply) => {
      const found = await stepSession(request, ['enrol', 'done']);
      const body = parseWith(CodeBody, request.body);
      const fresh = (await deps.users.findUserById(found.user.id))!;
      const codes = await deps.auth.confirmEnrolment(fresh, body.code, sessionIdHash(found.token));
      const user = (await deps.users.findUserById(found.user.id))!;
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return { step: 'done', recoveryCodes: codes, csrfToken: csrfTokenFor(found.token), user: sessionUser(user) };
    });

    app.post('/api/v1/auth/logout', async (request, reply) => {
      const found = await sessionOf(request, deps.auth);
      if (!found) throw new AppError('UNAUTHENTICATED', 'not logged in');
      assertCsrf(request, found.token);
      await deps.auth.logout(found.token);
      deps.streams.closeSession(sessionIdHash(found.token));
      clearSessionCookie(reply, request, deps.config.baseUrl);
      return reply.status(204).send();
    });

    app.post('/api/v1/auth/logout-everywhere', async (request, reply) => {
      const found = await sessionOf(request, deps.auth);
      if (!found || found.step !== 'done') throw new AppError('UNAUTHENTICATED', 'not logged in');
      assertCsrf(request, found.token);
      const ended = await deps.auth.logoutEverywhere(found.user.id);
      deps.streams.closeUser(found.user.id);
      clearSessionCookie(reply, request, deps.config.baseUrl);
      return { ended };
    });

    app.get<{ Params: { token: string } }>('/api/v1/auth/invitations/:token', { config: limited }, async (request) => {
      return deps.staff.describeInvitation(request.params.token);
    });

    app.post('/api/v1/auth/invitations/accept', { config: limited }, async (request) => {
      const body = parseWith(AcceptInvitationBody, request.body);
      const user = await deps.staff.acceptInvitation(body.token, body.password);
      return { email: user.email };
    });
  };
}
