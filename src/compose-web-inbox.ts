import { noticeOrganisation, type AppConfig } from './config/config.ts';
import type { AccountService } from './core/accounts/account.service.ts';
import { AuthService, type AccountAudit } from './core/accounts/auth.service.ts';
import { SecretBox } from './core/accounts/secret-box.ts';
import { StaffService } from './core/accounts/staff.service.ts';
import type { InboxEventBus } from './core/inbox/inbox-events.ts';
import type { OutgoingEventSink } from './core/webhooks/outgoing-events.ts';
import { TeamSettingsService } from './core/inbox/team-settings.service.ts';
import { TeamService, type NoteSealer } from './core/inbox/team.service.ts';
import { SnoozeService } from './core/inbox/snooze.service.ts';
import { SavedViewsService } from './core/inbox/saved-views.service.ts';
import type { SnoozePort } from './core/ports/snooze.port.ts';
import type { SavedViewPort } from './core/ports/saved-view.port.ts';
import { checkChannelConnection } from './channels/connection-check.ts';
import type { ChannelConfig } from './channels/registry.ts';
import type { Authenticator } from './http/auth/principal.ts';
import { bearerOrSessionAuthenticator } from './http/auth/session.ts';
import { SessionStreams } from './http/auth/session-streams.ts';
import type { ChannelCheck, WebDeps } from './http/auth/web-deps.ts';
import type { CacheSignals } from './shared/cache-signals.ts';
import type { Clock } from './shared/clock.ts';
import type { InboxStore } from './store/sql/inbox.store.ts';
import type { TeamStore } from './store/sql/team.store.ts';
import type { UserStore } from './store/sql/user.store.ts';
import type { WebStore } from './store/sql/web.store.ts';
import type { AccessScopes } from './core/teams/access-scopes.ts';
import type { MentionsService } from './core/teams/mentions.service.ts';
import type { TeamsService } from './core/teams/teams.service.ts';
import type { NotifyUserPort } from './core/ports/notify.port.ts';

export interface WebInboxInput {
  config: AppConfig;
  clock: Clock;
  users: UserStore;
  inboxes: InboxStore;
  web: WebStore;
  team: TeamStore;
  /** Snoozed conversations (the conversation table's snoozed_until). */
  snoozes: SnoozePort;
  /** Schedules a snoozed conversation's wake-up on the job queue. */
  scheduleWake?: (conversationId: string, until: number) => Promise<void>;
  savedViews: SavedViewPort;
  accounts: AccountService;
  events: InboxEventBus;
  bearer: Authenticator;
  /** Resolves the inboxes a session may see (an agent's memberships). */
  scopes: AccessScopes;
  /** Inbox memberships, availability, assignment settings. */
  teams: TeamsService;
  /** @mentions in internal notes. */
  mentions: MentionsService;
  /** "Tell this user" (a conversation given to them by a colleague). */
  notify: NotifyUserPort;
  /** A stable 32-byte secret that survives master-key rotation (the key service's pepper) for sealing TOTP seeds. */
  accountSecret: Buffer;
  sealNote: NoteSealer;
  /** Logins, 2FA changes, invitations, assignments and settings changes. */
  audit: AccountAudit;
  /** Outgoing webhooks ('conversation.assigned'). */
  webhooks?: OutgoingEventSink;
  /** Settings changes and logouts announced to the other instances (PostgreSQL); in-process only otherwise. */
  signals: CacheSignals;
  /** A running channel's configuration (declared in the file or created in the admin screen), for its check. */
  channelConfig: (channelId: string) => ChannelConfig | undefined;
}

export interface WebInbox {
  /** API token or session cookie: resolves the caller of every /api/v1 request. */
  authenticate: Authenticator;
  auth: AuthService;
  staff: StaffService;
  team: TeamService;
  snooze: SnoozeService;
  savedViews: SavedViewsService;
  settings: TeamSettingsService;
  streams: SessionStreams;
  /** What the web inbox's route modules (http/auth/web-inbox.ts) need. */
  deps: WebDeps;
}

/**
 * Part of the composition root ({@link createSparsam} in main.ts): builds the browser inbox's services (session login
 * with TOTP, staff management, team features, live event streams, admin settings) from the stores main.ts opened,
 * and re-applies inbox settings changed in the UI over the configured defaults.
 */
export async function composeWebInbox(input: WebInboxInput): Promise<WebInbox> {
  const { config, clock, users, inboxes, web, accounts, events, audit, signals } = input;
  const box = new SecretBox(input.accountSecret);
  const auth = new AuthService(users, web, accounts, box, clock, audit);
  const staff = new StaffService(users, web, accounts, clock, audit);
  const team = new TeamService(input.team, users, web, events, clock, input.sealNote, audit, input.webhooks, {
    maySee: (user, inboxId) => input.teams.maySee(user, inboxId),
    noteWritten: (note) => input.mentions.noteWritten(note),
    assigned: (n) => input.notify.notify({ kind: 'assigned', ...n }),
  });
  const snooze = new SnoozeService({
    snoozes: input.snoozes,
    events,
    clock,
    audit,
    timeZone: config.organisation.timeZone,
    ...(input.scheduleWake ? { scheduleWake: input.scheduleWake } : {}),
  });
  const savedViews = new SavedViewsService(input.savedViews, clock, () => team.knownLabels());
  const settings = new TeamSettingsService(
    web,
    inboxes,
    config.inboxes,
    clock,
    audit,
    signals,
    noticeOrganisation(config),
  );
  await settings.applyOverrides();
  const streams = new SessionStreams(signals);
  const authenticate = bearerOrSessionAuthenticator(input.bearer, auth, input.scopes);
  const testChannel = async (channelId: string): Promise<ChannelCheck> => {
    const channel = input.channelConfig(channelId);
    if (!channel) return { ok: false, detail: 'this channel is not running on this instance' };
    return checkChannelConnection(channel);
  };
  const deps: WebDeps = {
    config,
    authenticate,
    auth,
    staff,
    team,
    snooze,
    savedViews,
    settings,
    users,
    inboxes,
    events,
    audit,
    streams,
    teams: input.teams,
    mentions: input.mentions,
    accounts,
    scopes: input.scopes,
    conversationLabels: () => Promise.resolve(new Map()),
    now: () => clock.now().getTime(),
    testChannel,
    channelConfig: input.channelConfig,
  };
  return { authenticate, auth, staff, team, snooze, savedViews, settings, streams, deps };
}
