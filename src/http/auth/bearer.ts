import type { FastifyRequest } from 'fastify';
import { hashSecret } from '../../core/accounts/account.service.ts';
import type { Clock } from '../../shared/clock.ts';
import type { UserPort } from '../../core/ports/user.port.ts';
import type { AccessScopes } from '../../core/teams/access-scopes.ts';
import type { Principal } from './principal.ts';

/** Authenticates `Authorization: Bearer spt_…` API tokens by the SHA-256 of the token. */
export function bearerAuthenticator(users: UserPort, clock: Clock, scopes: AccessScopes) {
  return async function authenticateBearer(request: FastifyRequest): Promise<Principal | undefined> {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) return undefined;
    const token = header.slice('Bearer '.length).trim();
    if (!token) return undefined;
    const row = await users.findApiTokenByHash(hashSecret(token));
    if (!row || row.revoked_at !== null) return undefined;
    const now = clock.now().getTime();
    if (row.expires_at != null && row.expires_at <= now) return undefined;
    // Touch at most once a minute: a busy integration must not turn every read into a write.
    if (!row.last_used_at || now - row.last_used_at > 60_000) await users.touchApiToken(row.id, now);
    return { kind: 'token', id: row.id, role: row.role, scope: await scopes.forToken(row) };
  };
}
