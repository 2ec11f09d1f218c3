import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { InboxRecord, Role, UserRecord } from '../ports/model.ts';
import type { MembershipPort, PresencePort, PresenceRecord, PresenceStatus } from '../ports/teams.port.ts';
import { inScope, type InboxScope } from './inbox-scope.ts';
import { availabilityOf, DEFAULT_AWAY_AFTER_MINUTES, type Availability } from './presence.ts';

/** Per-inbox assignment rules, set in the inbox admin screen. */
export interface AssignmentSettings {
  /** Give new conversations to the available members in turn (round robin). */
  auto: boolean;
  /** At most this many open conversations per member of this inbox before they are skipped; 0 = no limit. */
  maxOpenPerAgent: number;
  /** What happens to the open conversations of a member who went offline: kept, or returned to unassigned. */
  offline: 'keep' | 'unassign';
  /** With `offline: 'unassign'`: after this many minutes offline. */
  offlineAfterMinutes: number;
}

export const DEFAULT_ASSIGNMENT: AssignmentSettings = Object.freeze({
  auto: false,
  maxOpenPerAgent: 0,
  offline: 'keep',
  offlineAfterMinutes: 30,
});

/** Installation-wide availability rule, set in the admin users screen. */
export interface PresenceSettings {
  /** An online agent without keyboard, pointer or touch input for this long counts as away. */
  awayAfterMinutes: number;
}

export interface TeamsAudit {
  append(entry: {
    actor: string;
    action: string;
    targetType?: string;
    targetId?: string;
    details?: Record<string, string | number | boolean | null>;
  }): Promise<unknown>;
}

export interface TeamsDeps {
  memberships: MembershipPort;
  presence: PresencePort;
  users: { findUserById(id: string): Promise<UserRecord | undefined>; listUsers(): Promise<UserRecord[]> };
  inboxes: { listInboxes(): Promise<InboxRecord[]> };
  settings: {
    getStructuredSetting(key: string): Promise<unknown>;
    putStructuredSetting(key: string, value: unknown, at: number): Promise<void>;
  };
  audit: TeamsAudit;
  clock: Clock;
}

/** A staff member as colleagues see them in the assignee list: no e-mail, with availability and shared inboxes. */
export interface TeamMember {
  id: string;
  displayName: string;
  role: Role;
  availability: Availability;
  /** Inboxes the member works in, as far as the viewer may see them (admins: every inbox). */
  inboxIds: string[];
}

const assignmentKey = (inboxId: string) => `assignment:${inboxId}`;
const PRESENCE_KEY = 'presence';

/**
 * Teams: which inboxes each agent works in (admins set it; an agent sees, counts and hears only those), each agent's
 * availability, and the per-inbox assignment rules. Membership changes are audited and announced to the live
 * streams of this process at once (streams on other instances pick them up at their next keep-alive).
 */
export class TeamsService {
  readonly #membershipListeners = new Set<(userId: string) => void>();

  constructor(private readonly deps: TeamsDeps) {}

  // ------------------------------------------------------------------------------------------ memberships

  async inboxIdsOfUser(userId: string): Promise<string[]> {
    return this.deps.memberships.inboxIdsOfUser(userId);
  }

  /** Memberships of every user (admin screen). */
  async membershipsByUser(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    for (const m of await this.deps.memberships.listMemberships()) {
      map.set(m.userId, [...(map.get(m.userId) ?? []), m.inboxId].sort());
    }
    return map;
  }

  /** Every inbox id (the default inboxes of a new agent when none were chosen). */
  async allInboxIds(): Promise<string[]> {
    return (await this.deps.inboxes.listInboxes()).map((i) => i.id).sort();
  }

  /** Replaces a user's inboxes (admin); unknown inbox ids are a 400 naming them. Audited with the ids only. */
  async setUserInboxes(actor: string, userId: string, inboxIds: readonly string[]): Promise<string[]> {
    const user = await this.deps.users.findUserById(userId);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    await this.#assertInboxes(inboxIds);
    const now = this.deps.clock.now().getTime();
    const { added, removed } = await this.deps.memberships.setInboxesOfUser(userId, inboxIds, now);
    if (added.length > 0 || removed.length > 0) {
      await this.deps.audit.append({
        actor,
        action: 'user.inboxes',
        targetType: 'user',
        targetId: userId,
        details: { added: added.join(','), removed: removed.join(',') },
      });
      for (const listener of this.#membershipListeners) listener(userId);
    }
    return this.deps.memberships.inboxIdsOfUser(userId);
  }

  /** A new account's inboxes: those chosen; for an agent without a choice, every inbox. */
  async joinInboxes(user: UserRecord, inboxIds: readonly string[] | undefined): Promise<void> {
    const chosen = inboxIds ?? (user.role === 'agent' ? await this.allInboxIds() : []);
    await this.#assertInboxes(chosen);
    if (chosen.length > 0)
      await this.deps.memberships.setInboxesOfUser(user.id, chosen, this.deps.clock.now().getTime());
  }

  /** Limits an API token to inboxes (at creation); unknown inbox ids are a 400. */
  async limitToken(tokenId: string, inboxIds: readonly string[]): Promise<void> {
    await this.#assertInboxes(inboxIds);
    await this.deps.memberships.setInboxesOfToken(tokenId, inboxIds);
  }

  async tokenInboxes(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    for (const t of await this.deps.memberships.listTokenInboxes()) {
      map.set(t.tokenId, [...(map.get(t.tokenId) ?? []), t.inboxId].sort());
    }
    return map;
  }

  /** Called with the user id whenever an admin changes someone's inboxes (live streams re-read their scope). */
  onMembershipChanged(listener: (userId: string) => void): () => void {
    this.#membershipListeners.add(listener);
    return () => this.#membershipListeners.delete(listener);
  }

  checkInboxes(inboxIds: readonly string[]): Promise<void> {
    return this.#assertInboxes(inboxIds);
  }

  async #assertInboxes(inboxIds: readonly string[]): Promise<void> {
    const known = new Set(await this.allInboxIds());
    const unknown = inboxIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new AppError('VALIDATION', `no such inbox: ${unknown.join(', ')}`, { field: 'inboxIds', unknown });
    }
  }

  /**
   * Active admins and agents a viewer may assign or mention: for an agent only colleagues who share one of the
   * viewer's inboxes, and admins; with `inboxId`, only those who may see that inbox (admins and its members).
   */
  async members(viewer: InboxScope, inboxId?: string): Promise<TeamMember[]> {
    if (inboxId !== undefined && !inScope(viewer, inboxId)) return [];
    const [users, byUser, presence, settings] = await Promise.all([
      this.deps.users.listUsers(),
      this.membershipsByUser(),
      this.#presenceMap(),
      this.presenceSettings(),
    ]);
    const now = this.deps.clock.now().getTime();
    const result: TeamMember[] = [];
    for (const u of users) {
      if (u.disabled || u.role === 'dpo') continue;
      const own = u.role === 'admin' ? await this.allInboxIds() : (byUser.get(u.id) ?? []);
      const visible = own.filter((id) => inScope(viewer, id));
      if (u.role === 'agent' && visible.length === 0) continue;
      if (inboxId !== undefined && !own.includes(inboxId)) continue;
      result.push({
        id: u.id,
        displayName: u.display_name,
        role: u.role,
        availability: availabilityOf(presence.get(u.id), now, settings.awayAfterMinutes * 60_000).availability,
        inboxIds: visible,
      });
    }
    return result;
  }

  /** Whether the user may see the inbox (admins always; agents as members). */
  async maySee(user: { id: string; role: Role }, inboxId: string): Promise<boolean> {
    if (user.role === 'admin') return true;
    if (user.role !== 'agent') return false;
    return (await this.deps.memberships.inboxIdsOfUser(user.id)).includes(inboxId);
  }

  // -------------------------------------------------------------------------------------------- presence

  async presenceSettings(): Promise<PresenceSettings> {
    const stored = (await this.deps.settings.getStructuredSetting(PRESENCE_KEY)) as
      Partial<PresenceSettings> | undefined;
    return { awayAfterMinutes: stored?.awayAfterMinutes ?? DEFAULT_AWAY_AFTER_MINUTES };
  }

  async setPresenceSettings(actor: string, settings: PresenceSettings): Promise<PresenceSettings> {
    await this.deps.settings.putStructuredSetting(PRESENCE_KEY, settings, this.deps.clock.now().getTime());
    await this.deps.audit.append({
      actor,
      action: 'settings.presence',
      details: { awayAfterMinutes: settings.awayAfterMinutes },
    });
    return settings;
  }

  /**
   * A heartbeat of the user's inbox tab (`active`: there was input since the last one), optionally with a status the
   * user chose. Answers the chosen status and the effective availability, and whether the user just became
   * available (auto-assignment then looks for waiting conversations).
   */
  async reportPresence(
    userId: string,
    input: { status?: PresenceStatus; active?: boolean },
  ): Promise<{ status: PresenceStatus; availability: Availability; becameAvailable: boolean }> {
    const now = this.deps.clock.now().getTime();
    const settings = await this.presenceSettings();
    const awayAfterMs = settings.awayAfterMinutes * 60_000;
    const before = await this.deps.presence.getPresence(userId);
    const wasOnline = availabilityOf(before, now, awayAfterMs).availability === 'online';
    const status = input.status ?? before?.status ?? 'online';
    const next: PresenceRecord = {
      user_id: userId,
      status,
      last_seen_at: now,
      // Choosing "online" counts as input: the agent is at the screen.
      last_active_at: input.active || input.status === 'online' ? now : (before?.last_active_at ?? now),
      changed_at: !before || before.status !== status ? now : before.changed_at,
    };
    await this.deps.presence.putPresence(next);
    const availability = availabilityOf(next, now, awayAfterMs).availability;
    return { status, availability, becameAvailable: !wasOnline && availability === 'online' };
  }

  /** The effective availability of every user who ever reported, and since when. */
  async availabilities(): Promise<Map<string, { availability: Availability; since: number }>> {
    const now = this.deps.clock.now().getTime();
    const awayAfterMs = (await this.presenceSettings()).awayAfterMinutes * 60_000;
    const map = new Map<string, { availability: Availability; since: number }>();
    for (const p of await this.deps.presence.listPresence()) map.set(p.user_id, availabilityOf(p, now, awayAfterMs));
    return map;
  }

  async ownPresence(userId: string): Promise<{ status: PresenceStatus; availability: Availability }> {
    const now = this.deps.clock.now().getTime();
    const p = await this.deps.presence.getPresence(userId);
    const awayAfterMs = (await this.presenceSettings()).awayAfterMinutes * 60_000;
    return { status: p?.status ?? 'online', availability: availabilityOf(p, now, awayAfterMs).availability };
  }

  async #presenceMap(): Promise<Map<string, PresenceRecord>> {
    return new Map((await this.deps.presence.listPresence()).map((p) => [p.user_id, p]));
  }

  // ------------------------------------------------------------------------------------------ assignment

  async assignmentSettings(inboxId: string): Promise<AssignmentSettings> {
    const stored = (await this.deps.settings.getStructuredSetting(assignmentKey(inboxId))) as
      Partial<AssignmentSettings> | undefined;
    return { ...DEFAULT_ASSIGNMENT, ...(stored ?? {}) };
  }

  async setAssignmentSettings(
    actor: string,
    inboxId: string,
    settings: AssignmentSettings,
  ): Promise<AssignmentSettings> {
    await this.#assertInboxes([inboxId]);
    await this.deps.settings.putStructuredSetting(assignmentKey(inboxId), settings, this.deps.clock.now().getTime());
    await this.deps.audit.append({
      actor,
      action: 'inbox.assignment',
      targetType: 'inbox',
      targetId: inboxId,
      details: {
        auto: settings.auto,
        maxOpenPerAgent: settings.maxOpenPerAgent,
        offline: settings.offline,
        offlineAfterMinutes: settings.offlineAfterMinutes,
      },
    });
    return settings;
  }
}
