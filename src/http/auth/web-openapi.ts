import type { OpenApiRegistry } from '../api/openapi.ts';
import { adminApi } from '../contract/admin.contract.ts';
import { authApi, meApi } from '../contract/auth.contract.ts';
import { quickRepliesApi, savedViewsApi, teamApi } from '../contract/team.contract.ts';
import { usersApi } from '../contract/users.contract.ts';
import { teamsApi } from '../contract/teams.contract.ts';

/**
 * Documents the web inbox's operations (login and sessions, own account, staff, team features, quick replies, admin
 * screens, live events) in the OpenAPI registry, from the same contract the route modules register. Login and
 * invitation acceptance are the only ones open without a session; the registry still lists 401 for them when the
 * body is wrong, which is harmless.
 */
export function documentWebRoutes(docs: OpenApiRegistry): void {
  for (const area of [authApi, meApi, usersApi, adminApi, teamApi, quickRepliesApi, savedViewsApi, teamsApi])
    docs.addAll(area);
}
