import { AccessScopes } from '../../src/core/teams/access-scopes.ts';
import type { FastifyRequest } from 'fastify';
import { expect, it } from 'vitest';
import { AccountService } from '../../src/core/accounts/account.service.ts';
import type { ApiTokenRecord } from '../../src/core/ports/model.ts';
import type { UserPort } from '../../src/core/ports/user.port.ts';
import { bearerAuthenticator } from '../../src/http/auth/bearer.ts';
import { DAY_MS, ManualClock } from '../../src/shared/clock.ts';

/** API tokens over an in-memory user port: an expired or revoked token authenticates nobody. */
it('refuses an API token after its expiry and after revocation', async () => {
  const tokens: ApiTokenRecord[] = [];
  const users = {
    insertApiToken: async (row: ApiTokenRecord) => void tokens.push(row),
    findApiTokenByHash: async (hash: string) => tokens.find((t) => t.token_hash === hash),
    touchApiToken: async () => undefined,
    listApiTokens: async () => tokens,
    revokeApiToken: async (id: string, at: number) => {
      tokens.find((t) => t.id === id)!.revoked_at = at;
    },
  } as unknown as UserPort;
  const clock = new ManualClock();
  const accounts = new AccountService(users, clock);
  // Tokens without an inbox limit (no membership rows): they reach every inbox.
  const scopes = new AccessScopes({ inboxIdsOfUser: async () => [], inboxIdsOfToken: async () => [] });
  const bearer = bearerAuthenticator(users, clock, scopes);
  const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as FastifyRequest;

  await expect(accounts.createApiToken('x', 'agent', { expiresAt: clock.now().getTime() - 1 })).rejects.toThrow(
    /future/,
  );
  const expiring = await accounts.createApiToken('crm', 'agent', { expiresAt: clock.now().getTime() + 30 * DAY_MS });
  const forever = await accounts.createApiToken('backup', 'admin');
  expect(await bearer(request(expiring.token))).toMatchObject({ kind: 'token', id: expiring.id });
  clock.advance(30 * DAY_MS);
  expect(await bearer(request(expiring.token))).toBeUndefined();
  expect(await bearer(request(forever.token))).toMatchObject({ id: forever.id, role: 'admin' });
  expect(await accounts.revokeApiToken(forever.id)).toBe(true);
  expect(await accounts.revokeApiToken(forever.id)).toBe(false);
  expect(await bearer(request(forever.token))).toBeUndefined();
  await expect(accounts.revokeApiToken('nope')).rejects.toThrow(/no API token/);
});
