import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/app-error.ts';
import type { Role } from '../../core/ports/model.ts';
import type { InboxScope } from '../../core/teams/inbox-scope.ts';

/** Who is calling: a logged-in staff member (session cookie) or an API token. */
export interface Principal {
  kind: 'session' | 'token';
  /** User id for sessions, token id for API tokens. */
  id: string;
  role: Role;
  /** Present for sessions. */
  userId?: string;
  /** Staff language for sessions ('de' | 'en'). */
  language?: string;
  /**
   * The inboxes this caller may see, resolved with the credentials (an agent's memberships, a token's limits); core
   * use cases check every conversation, file, channel and event against it (outside: 404).
   */
  scope: InboxScope;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Resolves the principal of a request, or undefined when it carries no valid credentials. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/**
 * A preHandler that admits only authenticated callers with one of `roles` (all roles when empty). 401 without valid
 * credentials, 403 with a role that may not do this. Every /api/v1 route uses it; the route-walk test checks that.
 */
export function requireRole(authenticate: Authenticator, ...roles: Role[]) {
  return async function guard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const principal = request.principal ?? (await authenticate(request));
    if (!principal) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
    request.principal = principal;
    if (roles.length > 0 && !roles.includes(principal.role)) {
      throw new AppError('FORBIDDEN', `this needs one of the roles: ${roles.join(', ')}`);
    }
  };
}
