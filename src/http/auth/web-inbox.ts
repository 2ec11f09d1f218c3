import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminRoutes } from '../api/admin.routes.ts';
import { authRoutes } from '../api/auth.routes.ts';
import { eventsRoutes } from '../api/events.routes.ts';
import { meRoutes } from '../api/me.routes.ts';
import { quickRepliesRoutes } from '../api/quick-replies.routes.ts';
import { savedViewsRoutes } from '../api/saved-views.routes.ts';
import { teamRoutes } from '../api/team.routes.ts';
import { teamsRoutes } from '../api/teams.routes.ts';
import { usersRoutes } from '../api/users.routes.ts';
import type { RouteModule } from '../app.ts';
import { webRoutes } from '../web.routes.ts';
import type { WebDeps } from './web-deps.ts';

export const WEB_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/**
 * The browser inbox's route modules: /api/v1 auth, me, users, team, quick replies, admin, events; then the static
 * inbox. They call the services the composition root built ({@link WebDeps}); nothing is built here. The static
 * inbox goes last: its SPA fallback answers any GET the other modules leave unmatched.
 */
export function webInboxRoutes(deps: WebDeps, webDistDir: string = WEB_DIST_DIR): RouteModule[] {
  return [
    authRoutes(deps),
    meRoutes(deps),
    usersRoutes(deps),
    teamRoutes(deps),
    teamsRoutes(deps),
    quickRepliesRoutes(deps),
    savedViewsRoutes(deps),
    adminRoutes(deps),
    eventsRoutes(deps),
    webRoutes(webDistDir),
  ];
}
