import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from '../../config/config.ts';
import type { AccountService } from '../../core/accounts/account.service.ts';
import { AuthService, type AccountAudit } from '../../core/accounts/auth.service.ts';
import { SecretBox } from '../../core/accounts/secret-box.ts';
import { StaffService } from '../../core/accounts/staff.service.ts';
import type { InboxEventBus } from '../../core/inbox/inbox-events.ts';
import { TeamSettingsService } from '../../core/inbox/team-settings.service.ts';
import { TeamService, type NoteSealer } from '../../core/inbox/team.service.ts';
import type { CacheSignals } from '../../shared/cache-signals.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Store } from '../../store/store.ts';
import type { InboxStore } from '../../store/sql/inbox.store.ts';
import { TeamStore } from '../../store/sql/team.store.ts';
import type { UserStore } from '../../store/sql/user.store.ts';
import { WebStore } from '../../store/sql/web.store.ts';
import { checkChannelConnection } from '../../channels/connection-check.ts';
import { adminRoutes } from '../api/admin.routes.ts';
import { authRoutes } from '../api/auth.routes.ts';
import { eventsRoutes } from '../api/events.routes.ts';
import { meRoutes } from '../api/me.routes.ts';
import { quickRepliesRoutes } from '../api/quick-replies.routes.ts';
import { teamRoutes } from '../api/team.routes.ts';
import { usersRoutes } from '../api/users.routes.ts';
import type { RouteModule } from '../app.ts';
import { webRoutes } from '../web.routes.ts';
import type { Authenticator } from './principal.ts';
import { bearerOrSessionAuthenticator } from './session.ts';
import { SessionStreams } from './session-streams.ts';
import type { ChannelCheck, WebDeps } from './web-deps.ts';

export const WEB_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

export interface WebInboxInput {
  config: AppConfig;
  clock: Clock;
  store: Store;
  users: UserStore;
  inboxes: InboxStore;
  accounts: AccountService;
  events: InboxEventBus;
  bearer: Authenticator;
  /** A stable 32-byte secret that survives master-key rotation (the key service's pepper) for sealing TOTP seeds. */
  accountSecret: Buffer;
  sealNote?: NoteSealer;
  audit?: AccountAudit;
  /** Settings changes and logouts announced to the other instances (PostgreSQL); in-process only when omitted. */
  signals?: CacheSignals;
  /** Replaces the built-in provider check (tests; a channel registry's own check). */
  testChannel?: (channelId: string) => Promise<ChannelCheck>;
  webDistDir?: string;
}

export interface WebInbox {
  authenticate: Authenticator;
  auth: AuthService;
  staff: StaffService;
  team: TeamService;
  settings: TeamSettingsService;
  streams: SessionStreams;
  /** The route modules: /api/v1 auth, me, users, team, quick replies, admin, events; then the static inbox. */
  modules: RouteModule[];
}

/**
 * Builds the browser inbox's services and routes: session login with TOTP, staff management, team features, live
 * events, admin screens and the static SPA. Re-applies inbox settings changed in the UI over the configured defaults.
 */
export async function createWebInbox(input: WebInboxInput): Promise<WebInbox> {
  const web = new WebStore(input.store.db);
  const box = new SecretBox(input.accountSecret);
  const auth = new AuthService(input.users, web, input.accounts, box, input.clock, input.audit);
  const staff = new StaffService(input.users, web, input.accounts, input.clock, input.audit);
  const team = new TeamService(
    new TeamStore(input.store.db),
    input.users,
    web,
    input.events,
    input.clock,
    input.sealNote,
    input.audit,
  );
  const settings = new TeamSettingsService(
    web,
    input.inboxes,
    input.config.inboxes,
    input.clock,
    input.audit,
    input.signals,
  );
  await settings.applyOverrides();
  const streams = new SessionStreams(input.signals);
  const authenticate = bearerOrSessionAuthenticator(input.bearer, auth);
  const testChannel =
    input.testChannel ??
    (async (channelId: string) => {
      const channel = input.config.channels.find((c) => c.id === channelId);
      if (!channel) return { ok: false, detail: 'this channel was created in the UI; its check is not available yet' };
      return checkChannelConnection(channel);
    });
  const deps: WebDeps = {
    config: input.config,
    authenticate,
    auth,
    staff,
    team,
    settings,
    users: input.users,
    inboxes: input.inboxes,
    events: input.events,
    streams,
    now: () => input.clock.now().getTime(),
    testChannel,
  };
  const modules: RouteModule[] = [
    authRoutes(deps),
    meRoutes(deps),
    usersRoutes(deps),
    teamRoutes(deps),
    quickRepliesRoutes(deps),
    adminRoutes(deps),
    eventsRoutes(deps),
    webRoutes(input.webDistDir ?? WEB_DIST_DIR),
  ];
  return { authenticate, auth, staff, team, settings, streams, modules };
}
