import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { csrfTokenFor, sessionIdHash, type LoginStep } from '../../core/accounts/auth.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import {
  assertCsrf,
  clearSessionCookie,
  deviceTokenOf,
  sessionOf,
  setDeviceCookie,
  setSessionCookie,
} from '../auth/session.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { authApi as api } from '../contract/auth.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';
import { pendingUser, sessionUser } from './views.ts';

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

    const options = { authenticate: deps.authenticate, parse: parseFields };
    const limitedOptions = { ...options, fastify: { config: limited } };
    const secondFactorOptions = { ...options, fastify: { config: secondFactorLimited } };
    /** The session each step request was admitted with; checked before the body is read. */
    const admitted = new WeakMap<FastifyRequest, Awaited<ReturnType<typeof stepSession>>>();
    const inStep = (allowed: LoginStep[]) => ({
      ...secondFactorOptions,
      before: async (request: FastifyRequest) => {
        admitted.set(request, await stepSession(request, allowed));
      },
    });
    const stepOf = (request: FastifyRequest) => admitted.get(request)!;

    registerRoute(app, api.login, limitedOptions, async ({ body }, request, reply) => {
      const { token, step, user, device } = await deps.auth.login(body.email, body.password, {
        address: request.ip,
        device: deviceTokenOf(request),
      });
      setSessionCookie(reply, request, token, deps.config.baseUrl);
      if (device) setDeviceCookie(reply, request, device, deps.config.baseUrl);
      return {
        step,
        csrfToken: csrfTokenFor(token),
        user: step === 'done' ? sessionUser(user) : pendingUser(user),
      };
    });

    registerRoute(app, api.session, options, async (_input, request) => {
      const found = await sessionOf(request, deps.auth);
      if (!found) throw new AppError('UNAUTHENTICATED', 'not logged in');
      return {
        step: found.step,
        csrfToken: csrfTokenFor(found.token),
        user: found.step === 'done' ? sessionUser(found.user) : pendingUser(found.user),
      };
    });

    registerRoute(app, api.totp, inStep(['totp']), async ({ body }, request, reply) => {
      const found = stepOf(request);
      const user = await deps.auth.completeTotp(found.token, body.code, deviceTokenOf(request));
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return { step: 'done' as const, csrfToken: csrfTokenFor(found.token), user: sessionUser(user) };
    });

    registerRoute(app, api.recovery, inStep(['totp']), async ({ body }, request, reply) => {
      const found = stepOf(request);
      const { user, remaining } = await deps.auth.completeRecovery(found.token, body.code, deviceTokenOf(request));
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return {
        step: 'done' as const,
        csrfToken: csrfTokenFor(found.token),
        user: sessionUser(user),
        remainingRecoveryCodes: remaining,
      };
    });

    registerRoute(app, api.enrolStart, inStep(['enrol', 'done']), async ({ body }, request) => {
      const found = stepOf(request);
      const { secret, uri, qrDataUrl } = await deps.auth.startEnrolment(found.user, body.password);
      return { secret, uri, qrDataUrl };
    });

    registerRoute(app, api.enrolConfirm, inStep(['enrol', 'done']), async ({ body }, request, reply) => {
      const found = stepOf(request);
      const fresh = (await deps.users.findUserById(found.user.id))!;
      const codes = await deps.auth.confirmEnrolment(fresh, body.code, sessionIdHash(found.token));
      const user = (await deps.users.findUserById(found.user.id))!;
      setDeviceCookie(reply, request, deps.auth.deviceTokenFor(user), deps.config.baseUrl);
      return {
        step: 'done' as const,
        recoveryCodes: codes,
        csrfToken: csrfTokenFor(found.token),
        user: sessionUser(user),
      };
    });

    registerRoute(app, api.logout, options, async (_input, request, reply) => {
      const found = await sessionOf(request, deps.auth);
      if (!found) throw new AppError('UNAUTHENTICATED', 'not logged in');
      assertCsrf(request, found.token);
      await deps.auth.logout(found.token);
      deps.streams.closeSession(sessionIdHash(found.token));
      clearSessionCookie(reply, request, deps.config.baseUrl);
    });

    registerRoute(app, api.logoutEverywhere, options, async (_input, request, reply) => {
      const found = await sessionOf(request, deps.auth);
      if (!found || found.step !== 'done') throw new AppError('UNAUTHENTICATED', 'not logged in');
      assertCsrf(request, found.token);
      const ended = await deps.auth.logoutEverywhere(found.user.id);
      deps.streams.closeUser(found.user.id);
      clearSessionCookie(reply, request, deps.config.baseUrl);
      return { ended };
    });

    registerRoute(app, api.invitation, limitedOptions, async ({ body }) => deps.staff.describeInvitation(body.token));

    registerRoute(app, api.acceptInvitation, limitedOptions, async ({ body }) => {
      const user = await deps.staff.acceptInvitation(body.token, body.password);
      return { email: user.email };
    });
  };
}
