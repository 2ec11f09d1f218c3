import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  csrfTokenMatches,
  sessionIdHash,
  type AuthenticatedSession,
  type AuthService,
} from '../../core/accounts/auth.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { AccessScopes } from '../../core/teams/access-scopes.ts';
import type { Authenticator, Principal } from './principal.ts';

export const SESSION_COOKIE = 'sparsam_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request was authenticated by a session cookie. */
    sessionAuth?: { token: string; idHash: string };
  }
}

/** The session token from the cookie header, if any (our tokens are base64url: no decoding needed). */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
  }
  return undefined;
}

function isHttps(request: FastifyRequest, baseUrl: string): boolean {
  return request.protocol === 'https' || baseUrl.startsWith('https:');
}

function cookieLine(value: string, secure: boolean, clear: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
    ...(clear ? ['Max-Age=0'] : []),
  ].join('; ');
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure when served over https, path /, ends with the browser. */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, token: string, baseUrl: string): void {
  reply.header('set-cookie', cookieLine(token, isHttps(request, baseUrl), false));
}

export const DEVICE_COOKIE = 'sparsam_device';

/** The device cookie of an earlier sign-in, if any (opaque sealed base64url; checked by the AuthService). */
export function deviceTokenOf(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== DEVICE_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{20,400}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * Remembers that this browser signed in (90 days, sent only to the login routes): such a browser still gets in while
 * strangers' failed attempts slow the account down.
 */
export function setDeviceCookie(reply: FastifyReply, request: FastifyRequest, device: string, baseUrl: string): void {
  const line = [
    `${DEVICE_COOKIE}=${device}`,
    'Path=/api/v1/auth',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${90 * 24 * 3600}`,
    ...(isHttps(request, baseUrl) ? ['Secure'] : []),
  ].join('; ');
  const existing = reply.getHeader('set-cookie');
  const lines = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...lines, line]);
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest, baseUrl: string): void {
  reply.header('set-cookie', cookieLine('', isHttps(request, baseUrl), true));
}

/**
 * Refuses cross-site writes made with the session cookie: an unsafe method must carry the session's CSRF token in
 * the X-CSRF-Token header, and an Origin header, when sent, must be this server's origin.
 */
export function assertCsrf(request: FastifyRequest, token: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin && origin !== 'null') {
    let same = false;
    try {
      const from = new URL(origin);
      // Normalise the Host header the same way (default ports dropped) before comparing.
      same = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
    } catch {
      same = false;
    }
    if (!same) throw new AppError('FORBIDDEN', 'cross-site request refused');
  }
  const presented = request.headers[CSRF_HEADER];
  if (!csrfTokenMatches(token, typeof presented === 'string' ? presented : undefined)) {
    throw new AppError('FORBIDDEN', 'the CSRF token is missing or wrong; reload the page', { reason: 'csrf' });
  }
}

/** Resolves the session behind the cookie in any state (pending second factor included), without CSRF checks. */
export async function sessionOf(
  request: FastifyRequest,
  auth: AuthService,
): Promise<(AuthenticatedSession & { token: string }) | undefined> {
  const token = sessionTokenOf(request);
  if (!token) return undefined;
  const found = await auth.resolve(token);
  return found ? { ...found, token } : undefined;
}

/**
 * Bearer-or-session authentication for /api/v1. An Authorization header decides alone (no fallback to the cookie);
 * otherwise a complete session (second factor done where needed) authenticates, with the CSRF check on writes.
 */
export function bearerOrSessionAuthenticator(
  bearer: Authenticator,
  auth: AuthService,
  scopes: AccessScopes,
): Authenticator {
  return async function authenticate(request: FastifyRequest): Promise<Principal | undefined> {
    if (request.headers.authorization) return bearer(request);
    const found = await sessionOf(request, auth);
    if (!found || found.step !== 'done') return undefined;
    assertCsrf(request, found.token);
    request.sessionAuth = { token: found.token, idHash: sessionIdHash(found.token) };
    return {
      kind: 'session',
      id: found.user.id,
      userId: found.user.id,
      role: found.user.role,
      language: found.user.language,
      scope: await scopes.forUser(found.user),
    };
  };
}

/** The audit actor name of a principal. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'session' ? `user:${principal.id}` : `token:${principal.id}`;
}
