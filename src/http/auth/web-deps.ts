import type { z } from 'zod';
import type { ChannelCheck } from '../../channels/connection-check.ts';
import type { AppConfig } from '../../config/config.ts';
import type { AccountAudit, AuthService } from '../../core/accounts/auth.service.ts';
import type { StaffService } from '../../core/accounts/staff.service.ts';
import type { InboxEventBus } from '../../core/inbox/inbox-events.ts';
import type { TeamSettingsService } from '../../core/inbox/team-settings.service.ts';
import type { TeamActor, TeamService } from '../../core/inbox/team.service.ts';
import type { SnoozeService } from '../../core/inbox/snooze.service.ts';
import type { SavedViewsService } from '../../core/inbox/saved-views.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { ChannelRecord, InboxRecord } from '../../core/ports/model.ts';
import type { UserPort } from '../../core/ports/user.port.ts';
import type { AccessScopes } from '../../core/teams/access-scopes.ts';
import type { AccountService } from '../../core/accounts/account.service.ts';
import type { MentionsService } from '../../core/teams/mentions.service.ts';
import type { TeamsService } from '../../core/teams/teams.service.ts';
import { actorOf } from './session.ts';
import type { Authenticator, Principal } from './principal.ts';
import type { SessionStreams } from './session-streams.ts';

/** Result of a channel's "test connection" check (src/channels/connection-check.ts). */
export type { ChannelCheck };

/** What the web inbox's route modules need; built once by the composition root. */
export interface WebDeps {
  config: AppConfig;
  authenticate: Authenticator;
  auth: AuthService;
  staff: StaffService;
  team: TeamService;
  /** Snooze and wake conversations. */
  snooze: SnoozeService;
  /** Each staff member's saved list filters. */
  savedViews: SavedViewsService;
  settings: TeamSettingsService;
  users: UserPort;
  inboxes: {
    listChannels(): Promise<ChannelRecord[]>;
    findChannel(id: string): Promise<ChannelRecord | undefined>;
    listInboxes(): Promise<InboxRecord[]>;
    setChannelEnabled(id: string, enabled: boolean, now: number): Promise<void>;
  };
  events: InboxEventBus;
  /** Content-free audit sink for admin changes made directly in routes (the channel switch). */
  audit: AccountAudit;
  streams: SessionStreams;
  /** Inbox memberships, availability and assignment settings. */
  teams: TeamsService;
  mentions: MentionsService;
  /** API tokens (the admin screen creates them, optionally limited to inboxes). */
  accounts: Pick<AccountService, 'createApiToken'>;
  /** Re-resolves a caller's inbox scope (live streams refresh theirs when memberships change). */
  scopes: AccessScopes;
  /** Runs auto-assignment for an inbox (or every inbox) now; absent where background work is not wired. */
  runAssignment?: (inboxId?: string) => Promise<void>;
  /** Pseudonym labels of conversations by id (set by the composition root once the inbox core exists). */
  conversationLabels: (ids: readonly string[]) => Promise<Map<string, string>>;
  now(): number;
  /** Calls the channel's provider with its credentials (e.g. GET the phone number); absent when not wired. */
  testChannel?: (channelId: string) => Promise<ChannelCheck>;
  /** A running channel's configuration (secrets included: for hints only, never sent whole). */
  channelConfig?: (channelId: string) => object | undefined;
  /**
   * The prepaid balance of channels whose provider bills per message (Threema's credits); wired by the composition
   * root once the channels exist, absent in set-ups without channels.
   */
  channelBalance?: {
    supports(channelId: string): boolean;
    get(channelId: string): Promise<{ credits: number; warnBelow: number }>;
  };
}

/** Parses a request body or query with zod; a failure is a 400 naming the fields, echoing no values. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  // No body at all counts as an empty object; a JSON `null` body is a wrong body, not an empty one.
  const result = schema.safeParse(value === undefined ? {} : value);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || '(body)'))];
    throw new AppError('VALIDATION', `the request is not valid: check ${fields.join(', ')}`, { fields });
  }
  return result.data;
}

export function teamActor(principal: Principal): TeamActor {
  return { name: actorOf(principal), userId: principal.userId, role: principal.role, scope: principal.scope };
}
